"""The whole workflow through Snakemake: outputs, reruns, bad input, determinism.

These tests run ``snakemake`` in a subprocess on the small test data set (seconds) and once on the
shipped extraction; they write only below pytest's temporary folder.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import ROOT, copy_valid, edit_csv, make_config, run_snakemake, tree_digest

from ketamine_meta.pooling import rma

pytestmark = pytest.mark.pipeline


snakemake = run_snakemake  # kept under the short name other pipeline tests import


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pipe")
    cfg = make_config(results_dir=str(tmp / "results"), work_dir=str(tmp / "work"))
    proc = snakemake(cfg, tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tmp, cfg


def test_outputs_exist_as_the_contract_names_them(run):
    tmp, _ = run
    res = tmp / "results"
    for rel in (
        "tables/effect_sizes.csv",
        "tables/pooled.csv",
        "claims.csv",
        "claims.md",
        "provenance.json",
        "figures/timecourse.png",
        "figures/timecourse.svg",
        "figures/claims_overview.svg",
        "figures/relapse.png",
        "figures/forest/forest_depression_smd_contrast_h24.svg",
    ):
        assert (res / rel).stat().st_size > 0, rel


def test_pooled_table_equals_rma_on_the_effect_sizes(run):
    tmp, _ = run
    es = pd.read_csv(tmp / "results/tables/effect_sizes.csv")
    pooled = pd.read_csv(tmp / "results/tables/pooled.csv").set_index("analysis_id")
    sel = es[(es["outcome"] == "depression") & (es["time_bin"] == "h24") & es["primary"]]
    # beta2002 prints endpoint scores only: under smd_measure = change they do not join the pool
    assert sorted(sel["study_id"]) == ["alpha2001", "gamma2003"]
    fit = rma(sel["yi"], sel["vi"], method="REML", test="knha")
    row = pooled.loc["depression.smd.contrast.all.h24.primary"]
    assert row["k"] == 2
    np.testing.assert_allclose(
        row[["estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2"]].astype(float),
        [fit.beta, fit.ci_low, fit.ci_high, fit.pi_low, fit.pi_high, fit.tau2],
        atol=1e-9,
    )
    assert (row["method"], row["ci_method"]) == ("REML", "knha")


def test_claim_verdicts_on_test_data(run):
    tmp, _ = run
    c = pd.read_csv(tmp / "results/claims.csv").set_index("claim_id")
    assert c.loc["t_arith", "verdict"] == "contradicted"
    assert c.loc["t_none", "verdict"] == "not_testable"
    assert c.loc["t_oral_absent", "verdict"] == "not_testable"  # no oral studies in the test data
    # 10/16 relapsed by day 28 in one series: one study cannot establish a general claim
    assert c.loc["t_relapse", "verdict"] == "inconclusive"
    assert c.loc["t_relapse", "basis"] == "one study"
    assert c.loc["t_relapse", "regenerated"] == pytest.approx(10 / 16)
    ratio = c.loc["t_ratio"]
    smd = c.loc["t_smd_24h", "regenerated"]
    assert ratio["regenerated"] == pytest.approx(smd / 0.3)


def test_second_call_does_nothing(run):
    tmp, cfg = run
    proc = snakemake(cfg, tmp, "-n")
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_bad_input_stops_before_results_change(run, tmp_path):
    tmp, cfg = run
    before = tree_digest(tmp / "results")
    data = copy_valid(tmp_path / "bad")
    edit_csv(data / "outcomes_binary.csv", ",madrs,15,30", ",madrs,45,30")
    proc = snakemake({**cfg, "data_dir": str(data)}, tmp)
    assert proc.returncode != 0
    assert "outcomes_binary.csv, row 2, column 'events': events (45) exceed total (30)" in proc.stderr + proc.stdout
    assert tree_digest(tmp / "results") == before


def test_unknown_config_key_is_refused(run):
    tmp, cfg = run
    proc = snakemake({**cfg, "estimator": "REML"}, tmp, "-n")
    assert proc.returncode != 0
    assert "'estimator' was unexpected" in proc.stderr + proc.stdout


def test_outputs_are_byte_identical_across_runs(run, tmp_path):
    tmp, cfg = run
    other = {**cfg, "results_dir": str(tmp_path / "again"), "work_dir": str(tmp_path / "work")}
    assert snakemake(other, tmp_path).returncode == 0
    a, b = tree_digest(tmp / "results"), tree_digest(tmp_path / "again")
    differing = sorted(k for k in a if k != "provenance.json" and a[k] != b.get(k))
    assert a.keys() == b.keys() and not differing, differing


def test_shipped_data_central_claims(tmp_path):
    """The shipped extraction end to end: the central claims get verdicts with real studies."""
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg.update(results_dir=str(tmp_path / "results"), work_dir=str(tmp_path / "work"))
    proc = snakemake(cfg, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    c = pd.read_csv(tmp_path / "results/claims.csv")
    registry = yaml.safe_load((ROOT / "config" / "claims.yaml").read_text())["claims"]
    assert list(c["claim_id"]) == [e["claim_id"] for e in registry]  # every claim, once, in registry order
    assert c["reason"].str.len().gt(20).all()
    assert set(c["verdict"]) <= {"reproduced", "inconclusive", "contradicted", "not_testable"}
    # no directional verdict is reproduced while its interval still reaches the claimed bound
    rep = c[c["verdict"] == "reproduced"]
    claimed = pd.to_numeric(rep["claimed"], errors="coerce")
    assert not ((rep["rule"] == "at_least") & (rep["ci_low"].round(2) < claimed)).any()
    assert not ((rep["rule"] == "at_most") & (rep["ci_high"].round(2) > claimed)).any()
    assert not ((rep["rule"] == "direction") & (rep["ci_low"] <= claimed)).any()
    # every verdict resting on one study says so, and every tested claim on data has a certainty
    assert (c.loc[c["k"] == 1, "basis"] == "one study").all()
    tested = c[c["verdict"].isin(["reproduced", "inconclusive", "contradicted"]) & c["k"].notna()]
    assert tested["certainty"].isin(["high", "moderate", "low", "very low"]).all()
    central = c[c["central"]]
    testable = central[central["verdict"] != "not_testable"]
    assert len(testable) >= 5
    on_trials = testable[~testable["metric"].str.startswith(("reference.", "arithmetic"))]
    assert (on_trials["k"] >= 1).all()  # a number read from a source (reference.*) has no k
    # every reproduced verdict on trial data names its studies (arithmetic claims and claims checked
    # against a number printed in a source, reference.*, rest on no pooled study by design)
    on_data = c[
        (c["verdict"] == "reproduced") & (c["metric"] != "arithmetic") & ~c["metric"].str.startswith("reference.")
    ]
    assert (on_data["k"] >= 1).all() and on_data["studies"].notna().all()
