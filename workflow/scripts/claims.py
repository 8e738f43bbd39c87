"""Workflow step 'claims'; the function it runs is imported below (``--help`` lists its arguments)."""

from ketamine_meta.pipeline.cli import exit_with, run_step
from ketamine_meta.pipeline.jobs import claims_job

exit_with(run_step(claims_job))
