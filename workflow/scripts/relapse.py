"""Workflow step 'relapse': see ketamine_meta.steps.relapse_step (run with --help for its arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("relapse_step"))
