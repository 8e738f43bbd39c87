"""Broken input through the whole workflow: the run stops with the project's own message, and the
results of the previous good run stay byte-for-byte as they were.

One good run is made first (module fixture); then each broken input is run into the *same* results
and staging folders, as a user re-running after an edit would.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, copy_valid, edit_csv, make_config
from test_pipeline import snakemake, tree_digest

pytestmark = pytest.mark.pipeline


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad_input")
    cfg = make_config(results_dir=str(tmp / "results"), work_dir=str(tmp / "work"))
    proc = snakemake(cfg, tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp / "results" / "claims.csv").is_file()
    return tmp, cfg


def _bad_cell(cfg: dict, tmp: Path) -> dict:
    data = copy_valid(tmp / "data")
    edit_csv(data / "outcomes_continuous.csv", "18.0,8.0,,30", "18.0,-8.0,,30")
    return {**cfg, "data_dir": str(data)}


def _ragged_row(cfg: dict, tmp: Path) -> dict:
    data = copy_valid(tmp / "data")
    edit_csv(data / "arms.csv", "Table 1,n=30,reported\nalpha2001,sal", "Table 1,n=30\nalpha2001,sal")
    return {**cfg, "data_dir": str(data)}


def _missing_table(cfg: dict, tmp: Path) -> dict:
    data = copy_valid(tmp / "data")
    (data / "relapse.csv").unlink()
    return {**cfg, "data_dir": str(data)}


def _unknown_metric(cfg: dict, tmp: Path) -> dict:
    claims = tmp / "claims.yaml"
    shutil.copy(ROOT / cfg["claims_file"], claims)
    edit_csv(claims, "metric: pooled.depression.smd.all.h24", "metric: pooled.depression.smd.all")
    return {**cfg, "claims_file": str(claims)}


def _unknown_config_key(cfg: dict, tmp: Path) -> dict:
    bad = copy.deepcopy(cfg)
    bad["model"]["estimator"] = "REML"
    return bad


def _unknown_estimator(cfg: dict, tmp: Path) -> dict:
    bad = copy.deepcopy(cfg)
    bad["model"]["method"] = "FE"
    return bad


# (id, how to break the good run's inputs, words the message must contain)
CASES: list[tuple[str, Callable[[dict, Path], dict], tuple[str, ...]]] = [
    ("table-cell", _bad_cell, ("outcomes_continuous.csv, row 2, column 'sd': value -8.0 must be > 0",)),
    ("ragged-row", _ragged_row, ("arms.csv, row 2: row has 10 fields but the header has 11",)),
    ("missing-table", _missing_table, ("relapse.csv: file is missing",)),
    (
        "claims-metric",
        _unknown_metric,
        ("claims.yaml, claim #2 (t_smd_24h), field 'metric': unknown metric 'pooled.depression.smd.all'",),
    ),
    ("config-key", _unknown_config_key, ("at 'model'", "'estimator' was unexpected")),
    ("config-estimator", _unknown_estimator, ("at 'model.method'", "'FE' is not one of")),
]


@pytest.mark.parametrize("name,breaker,words", CASES, ids=[c[0] for c in CASES])
def test_broken_input_fails_with_its_place_and_keeps_previous_results(good_run, tmp_path, name, breaker, words):
    tmp, cfg = good_run
    before = tree_digest(tmp / "results")
    assert before
    bad = breaker(copy.deepcopy(cfg), tmp_path)
    proc = snakemake(bad, tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    for w in words:
        assert w in out, (w, out[-3000:])
    assert "Traceback" not in out or "WorkflowError" in out, out[-3000:]  # our message, not a crash
    assert tree_digest(tmp / "results") == before


def test_good_inputs_still_run_after_the_failures(good_run):
    """The staging folder the failed runs shared is left usable: the good inputs run cleanly again
    and the resolved config is the good one. (Byte-identical reruns: tests/test_pipeline.py.)"""
    tmp, cfg = good_run
    proc = snakemake(cfg, tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    used = yaml.safe_load((tmp / "work" / "config.json").read_text())
    assert (used["data_dir"], used["claims_file"], used["model"]) == (cfg["data_dir"], cfg["claims_file"], cfg["model"])
    assert (tmp / "results" / "claims.csv").is_file() and (tmp / "results" / "tables" / "pooled.csv").is_file()
