"""Workflow step 'effect_sizes'; the function it runs is imported below (``--help`` lists its arguments)."""

from ketamine_meta.pipeline.cli import run_step
from ketamine_meta.pipeline.data_steps import effect_sizes

raise SystemExit(run_step(effect_sizes))
