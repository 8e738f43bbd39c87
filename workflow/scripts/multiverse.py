"""Workflow step 'multiverse'; the function it runs is imported below (``--help`` lists its arguments)."""

from ketamine_meta.pipeline.claim_steps import multiverse_step
from ketamine_meta.pipeline.cli import exit_with, run_step

exit_with(run_step(multiverse_step))
