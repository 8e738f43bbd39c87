"""Workflow step 'timecourse': see ketamine_meta.steps.timecourse_step (run with --help for its arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("timecourse_step"))
