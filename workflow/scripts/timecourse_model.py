"""Workflow step 'timecourse_model': see ketamine_meta.steps.timecourse_model_step (--help for arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("timecourse_model_step"))
