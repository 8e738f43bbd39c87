"""Workflow step 'figures'; the function it runs is imported below (``--help`` lists its arguments)."""

from ketamine_meta.pipeline.cli import exit_with, run_step
from ketamine_meta.pipeline.jobs import pooled_figures_step

exit_with(run_step(pooled_figures_step))
