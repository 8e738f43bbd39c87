"""Workflow step 'moderators_figure'; the function it runs is imported below (``--help`` lists its arguments)."""

from ketamine_meta.pipeline.cli import run_step
from ketamine_meta.pipeline.figure_steps import moderators_figure_step

raise SystemExit(run_step(moderators_figure_step))
