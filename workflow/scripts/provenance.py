"""Workflow step 'provenance': see ketamine_meta.steps.provenance_step (run with --help for its arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("provenance_step"))
