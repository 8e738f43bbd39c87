"""Workflow step 'claims_figures': see ketamine_meta.steps.claims_figures_step (run with --help for its arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("claims_figures_step"))
