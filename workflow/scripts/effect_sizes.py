"""Workflow step 'effect_sizes': see ketamine_meta.steps.effect_sizes (run with --help for its arguments)."""

from ketamine_meta.cli import main

raise SystemExit(main("effect_sizes"))
