"""Shared fixtures: the pinned metafor reference values and the workflow runs the tests share.

Each data set runs through the workflow once per test session: ``test_data_run`` (the small data
set of tests/data/valid) and ``shipped_run`` (data/extracted with config/config.yaml), each into its
own temporary results folder. Tests that use them must not change those folders; a test that
needs to write (a failing run, a rerun) works on a copy. Both are used only by tests marked
``pipeline``, so ``pytest -m "not pipeline"`` never starts the workflow.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, make_config, run_snakemake

REFERENCE = ROOT / "tests" / "reference" / "metafor_reference.json"


@pytest.fixture(scope="session")
def metafor_ref() -> dict:
    return json.loads(REFERENCE.read_text())


@pytest.fixture(scope="session")
def test_data_run(tmp_path_factory) -> tuple[Path, dict]:
    """(folder, config) of one good workflow run on the test data; results in ``folder/results``."""
    tmp = tmp_path_factory.mktemp("test_data_run")
    cfg = make_config(results_dir=str(tmp / "results"), work_dir=str(tmp / "work"))
    proc = run_snakemake(cfg, tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tmp, cfg


@pytest.fixture(scope="session")
def shipped_run(tmp_path_factory) -> Path:
    """The results folder of one workflow run on the shipped extraction with config/config.yaml."""
    tmp = tmp_path_factory.mktemp("shipped_run")
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg.update(results_dir=str(tmp / "results"), work_dir=str(tmp / "work"))
    proc = run_snakemake(cfg, tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tmp / "results"
