"""Workflow step 'spec_curves': see ketamine_meta.steps.spec_curves_step (--help for arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("spec_curves_step"))
