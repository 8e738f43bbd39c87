"""The house style checks: snakemake --lint, snakefmt, ruff (lint and format)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import ROOT

CHECKS = {
    "snakemake-lint": [sys.executable, "-m", "snakemake", "--lint", "--snakefile", "Snakefile"],
    "snakefmt": [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow/rules"],
    "ruff-check": [sys.executable, "-m", "ruff", "check", "src", "tests", "workflow/scripts"],
    "ruff-format": [sys.executable, "-m", "ruff", "format", "--check", "src", "tests", "workflow/scripts"],
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_style_check_passes(name):
    proc = subprocess.run(CHECKS[name], cwd=ROOT, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    if name == "snakemake-lint":
        assert "Lints for" not in out, out[-3000:]
