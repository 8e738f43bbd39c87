"""Workflow step 'report'; the function it runs is imported below (``--help`` lists its arguments)."""

from ketamine_meta.pipeline.cli import exit_with, run_step
from ketamine_meta.pipeline.publish_steps import report_step

exit_with(run_step(report_step))
