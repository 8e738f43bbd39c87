"""Workflow step 'publish': see ketamine_meta.steps.publish_step (run with --help for its arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("publish_step"))
