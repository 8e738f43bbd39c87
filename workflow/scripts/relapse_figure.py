"""Workflow step 'relapse_figure': see ketamine_meta.steps.relapse_figure_step (run with --help for its arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("relapse_figure_step"))
