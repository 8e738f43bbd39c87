"""Workflow step 'publish'; the function it runs is imported below (``--help`` lists its arguments)."""

from ketamine_meta.pipeline.cli import exit_with, run_step
from ketamine_meta.pipeline.publish_steps import publish_step

exit_with(run_step(publish_step))
