"""Workflow step 'prisma'; the function it runs is imported below (``--help`` lists its arguments)."""

from ketamine_meta.pipeline.analysis_steps import prisma_step
from ketamine_meta.pipeline.cli import run_step

raise SystemExit(run_step(prisma_step))
