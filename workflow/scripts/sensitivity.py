"""Workflow step 'sensitivity': see ketamine_meta.steps.sensitivity_step (--help for arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("sensitivity_step"))
