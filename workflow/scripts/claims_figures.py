"""Workflow step 'claims_figures'; the function it runs is imported below (``--help`` lists its arguments)."""

from ketamine_meta.pipeline.cli import run_step
from ketamine_meta.pipeline.figure_steps import claims_figures_step

raise SystemExit(run_step(claims_figures_step))
