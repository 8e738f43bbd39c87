"""Workflow step 'validate'; the function it runs is imported below (``--help`` lists its arguments)."""

from ketamine_meta.pipeline.cli import run_step
from ketamine_meta.pipeline.data_steps import validate

raise SystemExit(run_step(validate))
