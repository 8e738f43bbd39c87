"""Workflow step 'relapse'; the function it runs is imported below (``--help`` lists its arguments)."""

from ketamine_meta.pipeline.analysis_steps import relapse_step
from ketamine_meta.pipeline.cli import run_step

raise SystemExit(run_step(relapse_step))
