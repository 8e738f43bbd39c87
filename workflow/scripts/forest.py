"""Workflow step 'forest': see ketamine_meta.steps.forest_step (run with --help for its arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("forest_step"))
