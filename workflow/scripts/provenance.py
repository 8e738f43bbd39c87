"""Workflow step 'provenance'; the function it runs is imported below (``--help`` lists its arguments)."""

from ketamine_meta.pipeline.cli import exit_with, run_step
from ketamine_meta.pipeline.publish_steps import provenance_step

exit_with(run_step(provenance_step))
