"""Workflow step 'report': see ketamine_meta.report.build (run with --help for its arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("report.build"))
