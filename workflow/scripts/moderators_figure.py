"""Workflow step 'moderators_figure': see ketamine_meta.steps.moderators_figure_step (--help for arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("moderators_figure_step"))
