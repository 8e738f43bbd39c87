"""Workflow step 'prisma': see ketamine_meta.steps.prisma_step (run with --help for its arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("prisma_step"))
