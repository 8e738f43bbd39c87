"""Workflow step 'relapse_figure'; the function it runs is imported below (``--help`` lists its arguments)."""

from ketamine_meta.pipeline.cli import run_step
from ketamine_meta.pipeline.figure_steps import relapse_figure_step

raise SystemExit(run_step(relapse_figure_step))
