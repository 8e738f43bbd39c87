"""REML and ML take the global maximum of the likelihood when it has two peaks.

Reference: tests/reference/metafor_bimodal.json, written by
validation/metafor/make_bimodal_reference.R — the issue's example, case unequal_var of the main
reference (ML), and two-peaked data sets found by a seeded simulation (k = 3..10), each fitted by
metafor started at the best point of a fine grid of the likelihood.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import ROOT
from tolerances import BIMODAL_TAU2_ATOL, TIGHT_ATOL

from ketamine_meta.stats import batch
from ketamine_meta.stats.batch import pool_many
from ketamine_meta.stats.pooling import rma

REF = json.loads((ROOT / "tests" / "reference" / "metafor_bimodal.json").read_text())
CASES = REF["cases"]
IDS = [f"{c['case']}-{c['method']}" for c in CASES]


def test_reference_is_complete_and_says_how_it_was_made():
    """Guard: a shrunken or partly regenerated JSON cannot pass silently."""
    src = REF["source"]
    assert src["script"] == "validation/metafor/make_bimodal_reference.R" and (ROOT / src["script"]).is_file()
    assert src["r_version"].startswith("R version") and src["metafor_version"]
    assert "tau2.init=<best grid point>" in src["control"] and "threshold=1e-12" in src["control"]
    sim = [c for c in CASES if c["case"].startswith("sim_")]
    # N_PER two-peaked data sets per k = 3..10 and method
    assert {(c["k"], c["method"]) for c in sim} == {(k, m) for k in range(3, 11) for m in ("REML", "ML")}
    assert len(sim) == len(src["ks"]) * 2 * src["kept_per_k_and_method"]
    assert all(c["grid_local_maxima"] >= 2 for c in CASES)
    assert {(c["case"], c["method"]) for c in CASES} >= {("issue_example", "REML"), ("unequal_var", "ML")}
    # the kinds of two peaks the old search got wrong are all present: a boundary maximum (score <= 0
    # at 0) with a higher interior one, and metafor's default start ending at the lower peak
    assert sum(c["score_at_0"] <= 0 and c["tau2"] > 0 for c in CASES) >= 10
    assert sum(c["default_logLik"] is not None and c["default_logLik"] < c["logLik"] - 1e-4 for c in CASES) >= 2


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_global_maximum_equals_metafor_started_at_the_best_grid_point(case):
    for test in ("z", "knha"):  # the test does not change τ²
        fit = rma(case["yi"], case["vi"], method=case["method"], test=test)
        assert fit.converged and fit.method == case["method"]
        assert fit.tau2 == pytest.approx(case["tau2"], abs=BIMODAL_TAU2_ATOL, rel=0)
    fit = rma(case["yi"], case["vi"], method=case["method"], test="z")
    for ours, theirs in (("beta", "beta"), ("se", "se"), ("ci_low", "ci_lb"), ("ci_high", "ci_ub")):
        assert getattr(fit, ours) == pytest.approx(case[theirs], abs=TIGHT_ATOL), ours


def test_issue_example_takes_the_interior_maximum():
    """Score <= 0 at τ² = 0 used to return 0; the interior peak is higher (metafor: logLik -1.6026 vs -1.6064)."""
    (case,) = [c for c in CASES if (c["case"], c["method"]) == ("issue_example", "REML")]
    assert case["yi"] == [0.796, 0.751, -0.289] and case["score_at_0"] < 0
    fit = rma(case["yi"], case["vi"], method="REML")
    assert fit.tau2 == pytest.approx(0.0494182292339, abs=1e-12)
    assert case["tau2"] == pytest.approx(fit.tau2, abs=BIMODAL_TAU2_ATOL)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_batched_engine_finds_the_same_maxima_in_one_batch(method):
    sel = [c for c in CASES if c["method"] == method]
    yi, vi = batch.pad_groups([c["yi"] for c in sel], [c["vi"] for c in sel])
    # shuffle in ordinary columns, so the two-peaked ones are a minority of the batch as in a simulation
    rng = np.random.default_rng(3)
    extra_v = rng.uniform(0.02, 0.2, (yi.shape[0], 40))
    extra_y = rng.normal(0.4, np.sqrt(extra_v + 0.05))
    got = pool_many(np.hstack([extra_y, yi]), np.hstack([extra_v, vi]), method=method, test="z", axis=0)
    np.testing.assert_allclose(got["tau2"].to_numpy()[40:], [c["tau2"] for c in sel], rtol=0, atol=BIMODAL_TAU2_ATOL)
    assert got["converged"].all()
