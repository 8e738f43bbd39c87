"""Workflow step 'metrics': see ketamine_meta.steps.metrics_step (run with --help for its arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("metrics_step"))
