"""Workflow step 'claims': see ketamine_meta.steps.claims_step (run with --help for its arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("claims_step"))
