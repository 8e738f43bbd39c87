"""Workflow step 'pool'; the function it runs is imported below (``--help`` lists its arguments)."""

from ketamine_meta.pipeline.cli import exit_with, run_step
from ketamine_meta.pipeline.jobs import pool_all

exit_with(run_step(pool_all))
