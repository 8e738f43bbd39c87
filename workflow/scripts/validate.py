"""Workflow step 'validate': see ketamine_meta.steps.validate (run with --help for its arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("validate"))
