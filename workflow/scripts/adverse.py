"""Workflow step 'adverse': see ketamine_meta.steps.adverse_step (run with --help for its arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("adverse_step"))
