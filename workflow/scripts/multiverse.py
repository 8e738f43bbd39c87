"""Workflow step 'multiverse': see ketamine_meta.steps.multiverse_step (--help for arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("multiverse_step"))
