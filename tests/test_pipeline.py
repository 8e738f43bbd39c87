"""The whole workflow through Snakemake: outputs, reruns, the shipped extraction's central claims.

The runs are the session's shared ones (tests/conftest.py): ``test_data_run`` on the small test data
set and ``shipped_run`` on the shipped extraction. Bad input, the one-message report of a
multi-error extraction and byte-identical reruns: tests/test_bad_input_pipeline.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import ROOT, run_snakemake
from scipy.special import expit

from ketamine_meta.claims.registry import load_claims, metric_family
from ketamine_meta.stats.pooling import rma

pytestmark = pytest.mark.pipeline


snakemake = run_snakemake  # kept under the short name other pipeline tests import


@pytest.fixture(scope="module")
def run(test_data_run):
    return test_data_run


def test_forest_index_matches_the_pooled_analyses_and_captions(run):
    """Every forest plot listed exists in both formats, with the k of its analysis in its caption."""
    tmp, _ = run
    res = tmp / "results"
    index = pd.read_csv(res / "tables/forest_index.csv")
    pooled = pd.read_csv(res / "tables/pooled.csv").set_index("analysis_id")
    row = index.set_index("figure").loc["figures/forest/forest_depression_smd_contrast_h24.png"]
    assert row["k"] == pooled.loc["depression.smd.contrast.all.h24.primary", "k"] == 2
    caption = (res / "figures/forest/forest_depression_smd_contrast_h24.caption.txt").read_text(encoding="utf-8")
    assert caption.startswith("Depression, ketamine vs control, 24 h. Data: 2 studies from tests/data/valid")
    assert "τ² by REML, Knapp-Hartung" in caption
    for fig in index["figure"]:
        assert (res / fig).stat().st_size > 0 and (res / fig).with_suffix(".svg").stat().st_size > 0, fig


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


# ------------------------------------------------------------------------- the shipped extraction


@pytest.fixture(scope="module")
def shipped(shipped_run):
    res = shipped_run
    claims = pd.read_csv(res / "claims.csv").set_index("claim_id")
    es = pd.read_csv(res / "tables/effect_sizes.csv")
    return res, claims, es


def _pool(es: pd.DataFrame, outcome: str, effect: str, group: str, **filters):
    sel = es[(es["outcome"] == outcome) & (es["effect"] == effect) & (es["group"] == group)]
    sel = sel[(sel["time_bin"] == "h24") & sel["primary"]]
    for col, value in filters.items():
        sel = sel[sel[col] == value]
    return rma(sel["yi"], sel["vi"], method="REML", test="knha"), sel["study_id"].nunique()


def test_shipped_central_smd_claim_is_rma_on_the_published_effect_sizes(shipped):
    """'An effect size of 0.6 to 1.0' (document 001): the regenerated g, its CI and k are metafor's
    REML + Knapp-Hartung pool of the 24 h effect sizes, recomputed here from effect_sizes.csv."""
    _, c, es = shipped
    fit, k = _pool(es, "depression", "smd", "contrast")
    claim = c.loc["d001_effect_size_0_6_to_1_0"]
    assert claim["metric"] == "pooled.depression.smd.all.h24" and claim["k"] == k >= 5
    np.testing.assert_allclose(claim[["regenerated", "ci_low", "ci_high"]].astype(float),
                               [fit.beta, fit.ci_low, fit.ci_high], atol=1e-9)  # fmt: skip
    # "2-3x an SSRI": the same g divided by the anchor config.yaml names
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    ref = pd.read_csv(ROOT / cfg["data_dir"] / "reference_values.csv").set_index("quantity")
    anchor = ref.loc[cfg["reference"]["antidepressant_smd_quantity"], "value"]
    for cid in ("d001_effect_size_ratio_vs_ssri", "d001_short_ratio_vs_ssri"):
        assert c.loc[cid, "regenerated"] == pytest.approx(fit.beta / anchor, abs=1e-9)
        assert c.loc[cid, "k"] == k


def test_shipped_central_response_rate_is_the_back_transformed_pool(shipped):
    """'About 50% respond at 24 h' (citing a meta-analysis of single IV infusions): the pooled logit
    proportion of the ketamine arms of single-dose IV trials, back-transformed."""
    _, c, es = shipped
    fit, k = _pool(es, "response", "logit_p", "ketamine", route="iv", dosing="single")
    claim = c.loc["d001_response_24h_ketamine_50pct"]
    assert claim["metric"] == "rate.response.ketamine.iv.h24.single_dose"
    assert claim["k"] == k >= 3
    np.testing.assert_allclose(claim[["regenerated", "ci_low", "ci_high"]].astype(float),
                               expit([fit.beta, fit.ci_low, fit.ci_high]), atol=1e-9)  # fmt: skip


def test_shipped_central_claims_carry_the_numbers_of_their_metrics(shipped):
    """Every central claim tested on data shows its metric's number, interval and k as metrics.csv
    has them, and its verdict follows the rule table of config/README.md."""
    res, c, _ = shipped
    metrics = pd.read_csv(res / "tables/metrics.csv").drop_duplicates("metric").set_index("metric")
    central = c[c["central"] & (c["verdict"] != "not_testable")]
    assert len(central) >= 5
    registry = {x.claim_id: x for x in load_claims(ROOT / "config" / "claims.yaml")}
    for cid, claim in central.iterrows():
        m = metrics.loc[claim["metric"]]
        np.testing.assert_allclose(
            claim[["regenerated", "ci_low", "ci_high", "k"]].astype(float),
            m[["value", "ci_low", "ci_high", "k"]].astype(float),
            atol=1e-9,
            err_msg=cid,
        )
        if claim["rule"] in ("within", "ratio") and claim["basis"] != "one study":
            claimed = yaml.safe_load(str(claim["claimed"]))
            if not isinstance(claimed, list):  # a scalar: +- its family's tolerance (config.yaml)
                tol = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["claims"]["default_tolerance"]
                t = tol.get(metric_family(claim["metric"]), 0.0)
                claimed = [claimed - t, claimed + t]
            lo, hi = claimed
            # bounds are compared at the claim's precision (config/README.md, Verdict rules: "2-3x" at
            # whole units), so the interval is rounded as the rule rounds it; ties are not asserted
            d = registry[cid].decimals()
            ci_lo, ci_hi = (round(float(claim[b]), d) for b in ("ci_low", "ci_high"))
            if any(abs((float(claim[b]) * 10**d) % 1 - 0.5) < 1e-6 for b in ("ci_low", "ci_high")):
                continue
            inside, apart = lo <= ci_lo and ci_hi <= hi, ci_hi < lo or ci_lo > hi
            if inside:
                assert claim["verdict"] == "reproduced", cid
            elif apart:
                assert claim["verdict"] == "contradicted", cid
            else:
                assert claim["verdict"] == "inconclusive", cid


def test_shipped_data_verdicts_follow_their_intervals(shipped):
    """No directional verdict is reproduced while its interval still reaches the claimed bound; a
    verdict on one study says so; every verdict on data names its studies and a certainty."""
    _, c, _ = shipped
    registry = yaml.safe_load((ROOT / "config" / "claims.yaml").read_text())["claims"]
    assert list(c.index) == [e["claim_id"] for e in registry]  # every claim, once, in registry order
    assert c["reason"].str.len().gt(20).all()
    rep = c[c["verdict"] == "reproduced"]
    claimed = pd.to_numeric(rep["claimed"], errors="coerce")
    assert not ((rep["rule"] == "at_least") & (rep["ci_low"].round(2) < claimed)).any()
    assert not ((rep["rule"] == "at_most") & (rep["ci_high"].round(2) > claimed)).any()
    assert not ((rep["rule"] == "direction") & (rep["ci_low"] <= claimed)).any()
    assert (c.loc[c["k"] == 1, "basis"] == "one study").all()
    tested = c[c["verdict"].isin(["reproduced", "inconclusive", "contradicted"]) & c["k"].notna()]
    assert tested["certainty"].isin(["high", "moderate", "low", "very low"]).all()
    on_data = c[
        (c["verdict"] == "reproduced") & (c["metric"] != "arithmetic") & ~c["metric"].str.startswith("reference.")
    ]
    assert (on_data["k"] >= 1).all() and on_data["studies"].notna().all()


#: what a job that draws nothing must not import (~0.6-1 s of start-up each: docs/architecture.md)
DRAWING_MODULES = ("matplotlib", "seaborn")


def test_jobs_that_draw_nothing_import_no_plotting_library(run, tmp_path):
    """validate, pool, multiverse, report, provenance and publish, each run as the workflow runs
    it (its shell command) on a copy of the run's staging folder: none has matplotlib or seaborn in
    ``sys.modules`` when it ends. A caption that imported the figure style had cost the pooling job
    0.6-0.9 s."""
    tmp, cfg = run
    shutil.copytree(tmp / "work", tmp_path / "work")
    cfg = {**cfg, "work_dir": str(tmp_path / "work"), "results_dir": str(tmp_path / "results")}
    dry = snakemake(cfg, tmp_path, "-n", "-p", "-F")
    assert dry.returncode == 0, dry.stderr[-2000:]
    cmds = [line.removeprefix("Shell command: ").split() for line in (dry.stdout + dry.stderr).splitlines()
            if line.startswith("Shell command: ") and "/workflow/scripts/" in line]  # fmt: skip
    probe = ("import runpy, sys; import ketamine_meta.pipeline.cli as cli; codes = []; "
             "cli.exit_with = codes.append; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__'); "
             f"print('CODE', codes, 'LOADED', sorted(m for m in {DRAWING_MODULES!r} if m in sys.modules))")  # fmt: skip
    by_name = {}
    for cmd in cmds:
        script = next(c for c in cmd if "/workflow/scripts/" in c)
        by_name[script.rsplit("/", 1)[1].removesuffix(".py")] = cmd[cmd.index(script) :]
    # in waves: a job never reads a file another is rewriting (each rewrites its outputs in the copy)
    waves = [("validate", "multiverse", "provenance"), ("pool",), ("report",), ("publish",)]
    for wave in waves:
        procs = {name: subprocess.Popen([sys.executable, "-c", probe, *by_name[name]], cwd=ROOT, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE) for name in wave}  # fmt: skip
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, (name, err[-2000:])
            assert out.strip().splitlines()[-1] == "CODE [0] LOADED []", (name, out[-500:])
    # every job but the two that draw (forest, claims) was probed
    seen = set(by_name) - {"forest", "claims"}
    assert seen == {name for wave in waves for name in wave}
