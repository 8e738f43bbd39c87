"""Workflow step 'validate'; the function it runs is imported below (``--help`` lists its arguments)."""

from ketamine_meta.pipeline.cli import exit_with, run_step
from ketamine_meta.pipeline.data_steps import validate

exit_with(run_step(validate))
