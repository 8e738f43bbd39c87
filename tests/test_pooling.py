"""Pooling against metafor::rma.uni + predict.rma on the pinned reference grid."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import LOWER_PEAK_IN_REFERENCE
from tolerances import CLOSED_FORM_ATOL, ITERATIVE_ATOL, TIGHT_ATOL

from ketamine_meta.stats.pooling import METHODS, TESTS, rma

ITERATIVE = {"REML", "ML", "PM"}
FIELDS = {  # our attribute -> metafor's name
    "beta": "beta",
    "se": "se",
    "ci_low": "ci_lb",
    "ci_high": "ci_ub",
    "tau2": "tau2",
    "i2": "I2",
    "h2": "H2",
    "q": "QE",
    "q_p": "QEp",
    "pi_low": "pi_lb",
    "pi_high": "pi_ub",
    "pval": "pval",
}


def _loglik(y, v, tau2, method):
    """Log (restricted) likelihood of an intercept-only model up to a constant."""
    y, v = np.asarray(y), np.asarray(v)
    w = 1 / (v + tau2)
    b = np.sum(w * y) / np.sum(w)
    out = -0.5 * (np.sum(np.log(v + tau2)) + np.sum(w * (y - b) ** 2))
    return out - 0.5 * np.log(np.sum(w)) if method == "REML" else out


def _grid(ref):
    return [c for c in ref["rma"] if c.get("error") is None]


def test_reference_grid_is_complete(metafor_ref):
    """Guard: every case has every method x test, so a shrunken JSON cannot pass silently."""
    cases = {c["case"] for c in metafor_ref["rma"]}
    assert cases >= {"bcg_rr", "normand_smd", "zero_cells_rr", "k2", "homogeneous", "unequal_var", "k10"}
    have = {(c["case"], c["method"], c["test"]) for c in _grid(metafor_ref)}
    assert have == {(c, m, t) for c in cases for m in METHODS for t in TESTS}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", TESTS)
def test_rma_matches_metafor(metafor_ref, method, test):
    cases = [c for c in _grid(metafor_ref) if c["method"] == method and c["test"] == test]
    assert len(cases) == 7
    for case in cases:
        fit = rma(case["yi"], case["vi"], method=method, test=test)
        if (case["case"], method) in LOWER_PEAK_IN_REFERENCE:
            want = case["tight"]["tau2"]
            assert want == 0 and fit.tau2 > 0.04
            ours, theirs = (_loglik(case["yi"], case["vi"], t, method) for t in (fit.tau2, want))
            assert ours > theirs + 0.3, (ours, theirs)
            continue
        # iterative fits: compare with metafor run to a tight convergence, and loosely with its
        # default control (what an R user gets); closed-form fits: everything at 1e-8
        want_all = {**case, **case["tight"]} if method in ITERATIVE else case
        atol = TIGHT_ATOL if method in ITERATIVE else CLOSED_FORM_ATOL
        for ours, theirs in FIELDS.items():
            want = want_all[theirs]
            if want is None:  # metafor has no value (EE prediction interval, infinite t)
                continue
            got = getattr(fit, ours)
            assert got == pytest.approx(want, abs=atol, rel=1e-9), (case["case"], ours)
        if method in ITERATIVE:
            for name in ("tau2", "beta", "se"):
                assert getattr(fit, name) == pytest.approx(case[name], abs=ITERATIVE_ATOL), (case["case"], name)
        if test == "knha":
            assert fit.df == case["k"] - 1


def test_meta_regression_matches_metafor(metafor_ref):
    fits = metafor_ref["rma_mods"]["fits"]
    assert {f["test"] for f in fits} == {"z", "knha"}
    for f in fits:
        alloc = np.array(f["alloc"])
        X = np.column_stack([(alloc == "random"), (alloc == "systematic")]).astype(float)
        fit = rma(f["yi"], f["vi"], mods=X, method=f["method"], test=f["test"])
        np.testing.assert_allclose(fit.betas, f["beta"], atol=ITERATIVE_ATOL)
        np.testing.assert_allclose(fit.ses, f["se"], atol=ITERATIVE_ATOL)
        assert fit.qm == pytest.approx(f["QM"], abs=ITERATIVE_ATOL)
        assert fit.qm_p == pytest.approx(f["QMp"], abs=ITERATIVE_ATOL)
        assert fit.tau2 == pytest.approx(f["tau2"], abs=ITERATIVE_ATOL)
        assert fit.q == pytest.approx(f["QE"], abs=CLOSED_FORM_ATOL)


def test_single_study_is_reported_not_pooled():
    fit = rma([0.4], [0.04])
    assert (fit.k, fit.beta) == (1, 0.4)
    assert fit.ci_low == pytest.approx(0.4 - 1.959963984540054 * 0.2, abs=1e-12)
    assert math.isnan(fit.tau2) and math.isnan(fit.pi_low)
    assert "single study" in fit.note


def test_pymare_agrees_on_dl_and_reml(metafor_ref):
    """Cross-check with PyMARE (>=0.0.13) where both implement the same estimator."""
    from pymare import Dataset
    from pymare.estimators import DerSimonianLaird, VarianceBasedLikelihoodEstimator

    case = next(c for c in _grid(metafor_ref) if c["case"] == "bcg_rr")
    d = Dataset(y=np.array(case["yi"]), v=np.array(case["vi"]))
    dl = DerSimonianLaird().fit_dataset(d).summary()
    reml = VarianceBasedLikelihoodEstimator(method="REML").fit_dataset(d).summary()
    assert float(np.ravel(dl.tau2)[0]) == pytest.approx(rma(case["yi"], case["vi"], method="DL").tau2, abs=1e-8)
    assert float(np.ravel(reml.tau2)[0]) == pytest.approx(rma(case["yi"], case["vi"], method="REML").tau2, abs=1e-4)


def test_all_analyses_fitted_in_one_batch_equal_one_rma_each(tmp_path):
    """run_pooling fits every random-effects analysis in one batched call; each row equals
    ``rma`` on that analysis alone (the same core; only the order of a sum may differ)."""
    from helpers import copy_valid, make_settings

    from ketamine_meta.data.load import load_dataset
    from ketamine_meta.evidence import analyses
    from ketamine_meta.evidence.comparisons import build_effect_sizes

    cfg = make_settings()
    es, _ = build_effect_sizes(load_dataset(copy_valid(tmp_path / "d")), cfg)
    pooled = analyses.run_pooling(es, cfg)
    re_rows = pooled[~pooled["effect"].str.startswith("mh_")]
    assert len(re_rows) > 20 and (re_rows["k"] == 1).any() and (re_rows["k"] >= 3).any()
    prim = es[es["primary"]]
    for r in re_rows[re_rows["subset"] == "primary"].itertuples():
        cell = prim[(prim["outcome"] == r.outcome) & (prim["effect"] == r.effect) & (prim["group"] == r.group)
                    & (prim["time_bin"] == r.time_bin) & ((prim["route"] == r.route) | (r.route == "all"))]  # fmt: skip
        fit = rma(cell["yi"], cell["vi"], method=cfg.model.method, test=cfg.model.test, level=cfg.model.level)
        assert r.k == fit.k and r.method == fit.method, r.analysis_id
        for got, want in ((r.beta, fit.beta), (r.se, fit.se), (r.tau2, fit.tau2), (r.q_p, fit.q_p), (r.i2, fit.i2)):
            assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want, abs=1e-14), r.analysis_id
