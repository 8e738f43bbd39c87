"""Workflow step 'forest'; the function it runs is imported below (``--help`` lists its arguments)."""

from ketamine_meta.pipeline.cli import exit_with, run_step
from ketamine_meta.pipeline.figure_steps import forest_step

exit_with(run_step(forest_step))
