"""Workflow step 'pool': see ketamine_meta.steps.pool (run with --help for its arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("pool"))
