"""Broken input through the whole workflow: the run stops with the project's own message, ends with
a line saying which step failed and where its message is, and the results of the previous good run
stay byte-for-byte as they were.

The previous good run is the session's ``test_data_run``, whose results are copied so that the
failed runs write into a results folder a good run has filled. One run gets a multi-error
extraction (every ``together`` case of tests/test_broken_inputs.py at once, plus a broken claims
registry); two more break the config. Byte-identical reruns of good inputs:
tests/test_results_committed.py.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
from helpers import ROOT, edit_csv, run_snakemake, tree_digest
from test_broken_inputs import together_dataset

from ketamine_meta.core.errors import REPORTED_BY_VALIDATE, InputError
from ketamine_meta.data.load import load_dataset

pytestmark = pytest.mark.pipeline


@pytest.fixture(scope="module")
def previous(test_data_run, tmp_path_factory):
    """A copy of the shared good run's results with a staging folder of its own: (folder, config,
    digest of the results). The staging folder is not copied: Snakemake keeps what it knows about
    a job's params under the output's path, so a copied config.json would look up to date."""
    src, cfg = test_data_run
    tmp = tmp_path_factory.mktemp("bad_input")
    shutil.copytree(src / "results", tmp / "results", symlinks=True)
    cfg = {**copy.deepcopy(cfg), "results_dir": str(tmp / "results"), "work_dir": str(tmp / "work")}
    return tmp, cfg, tree_digest(tmp / "results")


@pytest.fixture(scope="module")
def multi_error_run(previous):
    """One failed run on an extraction with every ``together`` case broken, and a claims registry
    with an unknown metric: (process, expected problems, claims file)."""
    tmp, cfg, _ = previous
    data, expected = together_dataset(tmp / "broken_data")
    claims = tmp / "claims.yaml"
    shutil.copy(ROOT / cfg["claims_file"], claims)
    edit_csv(claims, "metric: pooled.depression.smd.all.h24", "metric: pooled.depression.smd.all")
    proc = run_snakemake({**cfg, "data_dir": str(data), "claims_file": str(claims)}, tmp)
    with pytest.raises(InputError) as exc:  # the same extraction loaded here: the problems to expect
        load_dataset(data)
    return proc, expected, claims, exc.value


def test_every_problem_of_data_and_claims_is_in_the_one_message(multi_error_run, previous):
    proc, expected, claims, err = multi_error_run
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    lines = out.splitlines()
    for e in expected:
        assert any(e.where in line and e.rule in line and e.fix in line for line in lines), (e, out[-5000:])
    assert f"{claims}, claim #2 (t_smd_24h), field 'metric': unknown metric 'pooled.depression.smd.all'" in out
    assert "Traceback" not in out, out[-3000:]  # our message, not a crash
    # the whole message is in the step's log, with the count of problems first
    log = Path(previous[1]["work_dir"]) / "logs" / "validate.log"
    text = log.read_text(encoding="utf-8")
    assert f"ERROR {len(err.problems)} problem(s) in 10 input file(s):" in text
    assert len(err.problems) >= len(expected) and "more:" not in text
    assert all(f"  - {p}" in text for p in err.problems)


def test_failed_run_ends_with_the_failed_step_and_its_log(multi_error_run, previous):
    proc = multi_error_run[0]
    log = Path(previous[1]["work_dir"]) / "logs" / "validate.log"
    last = (proc.stdout + proc.stderr).strip().splitlines()[-1]
    assert last.startswith("ketamine-meta FAILED: step 'validate' failed ("), last
    assert f"full message in {log}" in last and "is as it was" in last
    # the multiverse starts beside validate and fails on the same input: it says so in one line
    # and leaves the list to validate, so the summary names validate alone
    mv_log = (log.parent / "multiverse.log").read_text(encoding="utf-8")
    assert REPORTED_BY_VALIDATE in mv_log and mv_log.count("\n") <= 2, mv_log
    assert "problem(s) in the input data, the first: " in mv_log, mv_log
    assert "step 'multiverse'" not in last, last
    assert "At least one job did not complete successfully" in proc.stderr  # Snakemake's, before it


def test_failed_run_leaves_previous_results_untouched(multi_error_run, previous):
    tmp, _, before = previous
    assert before and tree_digest(tmp / "results") == before


def _unknown_config_key(cfg: dict) -> dict:
    bad = copy.deepcopy(cfg)
    bad["model"]["methd"] = "REML"
    return bad


def _unknown_estimator(cfg: dict) -> dict:
    bad = copy.deepcopy(cfg)
    bad["model"]["method"] = "reml"
    return bad


@pytest.mark.parametrize(
    "breaker,words",
    [
        (_unknown_config_key, ("at 'model'", "('methd' was unexpected)", "'methd': did you mean 'method'?")),
        (_unknown_estimator, ("at 'model.method'", "'reml' is not one of", "did you mean 'REML'?")),
    ],
    ids=["config-key", "config-estimator"],
)
def test_broken_config_fails_before_any_job(previous, multi_error_run, tmp_path, breaker, words):
    tmp, cfg, before = previous
    proc = run_snakemake(breaker(cfg), tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    for w in words:
        assert w in out, (w, out[-3000:])
    assert tree_digest(tmp / "results") == before
