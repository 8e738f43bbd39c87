"""Numerical edge cases against metafor (``tests/reference/metafor_edge.json``, written by
``validation/metafor/make_edge_reference.R``): one study, two studies under Knapp–Hartung, zero-event
tables, τ² on the boundary, identical studies, huge and tiny variances, and an REML fit metafor
cannot finish with its default control.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from helpers import ROOT
from scipy import stats
from tolerances import CLOSED_FORM_ATOL, EFFECT_ATOL, ITERATIVE_ATOL, SCALED_RTOL, TIGHT_ATOL

from ketamine_meta.stats import effects, maximise
from ketamine_meta.stats.pooling import METHODS, TESTS, rma

EDGE = ROOT / "tests" / "reference" / "metafor_edge.json"
ITERATIVE = {"REML", "ML", "PM"}
BOUNDARY = ("REML", "ML", "PM", "DL", "HE")  # estimators that truncate at 0 (SJ is never exactly 0)
FIELDS = {  # our attribute -> metafor's name
    "beta": "beta",
    "se": "se",
    "ci_low": "ci_lb",
    "ci_high": "ci_ub",
    "stat": "zval",
    "pval": "pval",
    "tau2": "tau2",
    "i2": "I2",
    "h2": "H2",
    "q": "QE",
    "q_p": "QEp",
    "pi_low": "pi_lb",
    "pi_high": "pi_ub",
}
POOLED_CASES = (
    "k2_knha",
    "k2_close",
    "tau2_boundary",
    "identical",
    "identical_yi",
    "huge_tiny_vi",
    "tiny_vi",
    "huge_vi",
)


@pytest.fixture(scope="module")
def edge() -> dict:
    return json.loads(EDGE.read_text())


def _data(edge, case):
    (d,) = [d for d in edge["datasets"] if d["case"] == case]
    return np.array(d["yi"], dtype=float), np.array(d["vi"], dtype=float)


def _fits(edge, case, method=None, test=None, tight=None):
    """Reference fits of ``case``; ``tight`` True/False selects the tight-control/default entries."""
    out = [f for f in edge["fits"] if f["case"] == case]
    if method:
        out = [f for f in out if f["method"] == method]
    if test:
        out = [f for f in out if f["test"] == test]
    if tight is not None:
        out = [f for f in out if (f["control"] is not None and "tol=" in f["control"]) == tight]
    return out


def _compare(fit, want: dict, atol: float, where) -> None:
    for ours, theirs in FIELDS.items():
        if want.get(theirs) is None:  # no value in metafor (EE prediction interval, infinite t)
            continue
        got = getattr(fit, ours)
        assert got == pytest.approx(want[theirs], abs=atol, rel=1e-9), (where, ours, got, want[theirs])


def test_reference_is_complete_and_says_how_it_was_made(edge):
    src = edge["source"]
    assert src["script"] == "validation/metafor/make_edge_reference.R"
    assert (ROOT / src["script"]).is_file()
    assert src["metafor_version"] and src["r_version"].startswith("R version") and src["calls"]
    cases = {d["case"] for d in edge["datasets"]}
    assert cases == {"k1", "k1_negative", "reml_nonconvergent", *POOLED_CASES}
    for case in POOLED_CASES:  # a shrunken JSON cannot pass silently
        for method in METHODS:
            for test in TESTS:
                assert len(_fits(edge, case, method, test, tight=False)) == 1, (case, method, test)
                assert len(_fits(edge, case, method, test, tight=True)) == (method in ITERATIVE)
    assert {(e["table"], e["measure"], e["drop00"]) for e in edge["escalc"]} == {
        (t, m, d) for t in ("all_zero", "mixed_zero") for m in ("RR", "OR") for d in (False, True)
    }


# --- k = 1 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["k1", "k1_negative"])
def test_single_study_is_the_study_itself_as_in_metafor(edge, case):
    """metafor fits k = 1 with τ² = 0 and a z interval (switching knha to z with a warning); the
    library reports the study with the same z interval but no τ² at all (NaN), and no PI."""
    yi, vi = _data(edge, case)
    wants = _fits(edge, case)
    assert wants
    for want in wants:
        fit = rma(yi, vi, method=want["method"], test=want["test"])
        assert want["test_used"] == "z"
        if want["test"] == "knha":
            assert 'Setting argument test="z" since k=1.' in want["warnings"]
        for ours, theirs in (("beta", "beta"), ("se", "se"), ("ci_low", "ci_lb"), ("ci_high", "ci_ub")):
            assert getattr(fit, ours) == pytest.approx(want[theirs], abs=CLOSED_FORM_ATOL), ours
        assert fit.stat == pytest.approx(want["zval"], abs=CLOSED_FORM_ATOL)
        assert fit.pval == pytest.approx(want["pval"], abs=CLOSED_FORM_ATOL)
        assert fit.df is None and fit.crit == pytest.approx(stats.norm.ppf(0.975))
        assert want["tau2"] == 0 and math.isnan(fit.tau2)  # documented difference: no τ² from one study
        assert want["pi_lb"] == pytest.approx(want["ci_lb"]) and math.isnan(fit.pi_low)
        assert "single study" in fit.note


# --- k >= 2: every estimator and test against metafor ---------------------------------------------


@pytest.mark.parametrize("case", POOLED_CASES)
def test_edge_case_matches_metafor(edge, case):
    yi, vi = _data(edge, case)
    for method in METHODS:
        for test in TESTS:
            fit = rma(yi, vi, method=method, test=test)
            assert fit.converged, (case, method, test, fit.note)
            if method in ITERATIVE:
                (tight,) = _fits(edge, case, method, test, tight=True)
                _compare(fit, tight, TIGHT_ATOL, (case, method, test, "tight"))
                (default,) = _fits(edge, case, method, test, tight=False)
                if case != "tiny_vi":  # there metafor's default stops far from the root (see below)
                    for name in ("tau2", "beta", "se"):
                        assert getattr(fit, name) == pytest.approx(default[name], abs=ITERATIVE_ATOL), name
            else:
                (want,) = _fits(edge, case, method, test)
                _compare(fit, want, CLOSED_FORM_ATOL, (case, method, test))
            if test == "knha":
                assert fit.df == yi.size - 1


def test_tiny_variances_match_metafor_relatively(edge):
    """With vi ~ 1e-8 and τ² ~ 1e-7 an absolute tolerance would accept anything: compare relatively
    with metafor run at thresholds of 1e-20. metafor's default control (absolute thresholds 1e-5 and
    tol 1.2e-4) leaves PM's τ² about 400 times too large; our root finder does not depend on the scale."""
    yi, vi = _data(edge, "tiny_vi")
    for method in ITERATIVE:
        for test in TESTS:
            fit = rma(yi, vi, method=method, test=test)
            (tight,) = _fits(edge, "tiny_vi", method, test, tight=True)
            assert "tol=1e-20" in tight["control"]
            for name, theirs in (("tau2", "tau2"), ("se", "se"), ("i2", "I2"), ("pi_low", "pi_lb")):
                assert getattr(fit, name) == pytest.approx(tight[theirs], rel=SCALED_RTOL, abs=0), (method, name)
    (pm_default,) = _fits(edge, "tiny_vi", "PM", "z", tight=False)
    assert pm_default["tau2"] > 100 * rma(yi, vi, method="PM").tau2


def test_two_studies_under_knha_use_t_with_one_df(edge):
    yi, vi = _data(edge, "k2_knha")
    crit = stats.t.ppf(0.975, 1)
    for method in METHODS:
        fit = rma(yi, vi, method=method, test="knha")
        assert fit.df == 1 and fit.crit == pytest.approx(crit, rel=1e-12)
        assert fit.ci_high - fit.ci_low == pytest.approx(2 * crit * fit.se, rel=1e-12)
        want = _fits(edge, "k2_knha", method, "knha", tight=method in ITERATIVE or None)[0]
        assert want["dfs"] == 1
        assert fit.ci_low == pytest.approx(want["ci_lb"], abs=TIGHT_ATOL)


def test_tau2_on_the_boundary_is_exactly_zero(edge):
    yi, vi = _data(edge, "tau2_boundary")
    for method in BOUNDARY:
        for test in TESTS:
            fit = rma(yi, vi, method=method, test=test)
            for want in _fits(edge, "tau2_boundary", method, test):
                assert want["tau2"] == 0 and want["I2"] == 0
            assert fit.tau2 == 0.0 and fit.i2 == 0.0 and fit.h2 == 1.0
            # with τ² = 0 the prediction interval is the confidence interval (metafor's too)
            assert (fit.pi_low, fit.pi_high) == (fit.ci_low, fit.ci_high)
            assert want["pi_lb"] == pytest.approx(want["ci_lb"], abs=1e-15)


@pytest.mark.parametrize("case", ["identical", "identical_yi"])
def test_identical_studies_give_zero_se_under_knha(edge, case):
    """metafor sets the Knapp–Hartung factor to 0 when the weighted RSS is <= machine epsilon, so
    the SE is exactly 0, t is infinite (null in the JSON), p = 0 and every interval is the estimate;
    Q, from centred effects, is exactly 0. (Before this was checked, equal effects with unequal
    variances gave an SE of ~1e-9 and Q of ~1e-16 here, varying with the order of the studies.)"""
    yi, vi = _data(edge, case)
    for method in METHODS:
        fit = rma(yi, vi, method=method, test="knha")
        want = _fits(edge, case, method, "knha")[0]
        assert want["se"] == 0 and want["zval"] is None and "zval=Inf" in want["nonfinite_in_R"]
        assert want["QE"] == 0 and want["tau2"] == 0
        assert fit.se == 0.0 and fit.stat == math.inf and fit.pval == want["pval"] == 0
        assert fit.ci_low == fit.beta == fit.ci_high == pytest.approx(yi[0], abs=1e-15)
        assert fit.q == 0.0 and fit.tau2 == 0.0


# --- an REML fit metafor does not finish ----------------------------------------------------------


def test_reml_that_metafor_does_not_converge_on_is_solved_to_the_root(edge):
    yi, vi = _data(edge, "reml_nonconvergent")
    defaults = _fits(edge, "reml_nonconvergent", "REML", tight=False)
    assert {f["control"] for f in defaults} == {None, "control=list(maxiter=3)"}
    for f in defaults:  # metafor's error with its default control, and with maxiter=3
        assert f["error"] == "Fisher scoring algorithm did not converge. See 'help(rma)' for possible remedies."
    for test in TESTS:
        fit = rma(yi, vi, method="REML", test=test)
        assert fit.converged and fit.note == ""  # no fallback needed: the root is bracketed
        (tight,) = _fits(edge, "reml_nonconvergent", "REML", test, tight=True)
        _compare(fit, tight, TIGHT_ATOL, ("reml_nonconvergent", test))


def test_an_estimator_without_a_root_falls_back_to_dl_and_says_so(edge, monkeypatch):
    """The other branch: if the τ² search fails (here: one Newton step allowed), the fit is metafor's
    DL fit, labelled DL, with REML kept as the requested method."""
    monkeypatch.setattr(maximise, "_MAX_NEWTON", 1)
    yi, vi = _data(edge, "reml_nonconvergent")
    for test in TESTS:
        fit = rma(yi, vi, method="REML", test=test)
        assert not fit.converged
        assert (fit.method, fit.method_requested) == ("DL", "REML")
        assert fit.note == "REML failed (the τ² search did not converge); fell back to DL"
        (dl,) = _fits(edge, "reml_nonconvergent", "DL", test)
        _compare(fit, dl, CLOSED_FORM_ATOL, ("fallback", test))


# --- zero-event tables ----------------------------------------------------------------------------


def _double_zero(e) -> np.ndarray:
    ai, n1, ci, n2 = (np.array(e[k], dtype=float) for k in ("ai", "n1i", "ci", "n2i"))
    return ((ai == 0) & (ci == 0)) | ((ai == n1) & (ci == n2))


@pytest.mark.parametrize("measure,fn", [("RR", effects.log_rr), ("OR", effects.log_or)])
def test_zero_event_tables_match_escalc(edge, measure, fn):
    """The library keeps double-zero (and double-all-event) tables with 1/2 added to every cell, as
    escalc(add=1/2, to="only0", drop00=FALSE); drop00=TRUE differs only in dropping those tables."""
    entries = [e for e in edge["escalc"] if e["measure"] == measure]
    assert len(entries) == 4
    for e in entries:
        y, v = fn(e["ai"], e["n1i"], e["ci"], e["n2i"], add=0.5)
        want_y = np.array([np.nan if x is None else x for x in e["yi"]], dtype=float)
        want_v = np.array([np.nan if x is None else x for x in e["vi"]], dtype=float)
        dropped = np.isnan(want_y)
        np.testing.assert_array_equal(dropped, _double_zero(e) if e["drop00"] else np.zeros_like(dropped))
        np.testing.assert_allclose(y[~dropped], want_y[~dropped], rtol=0, atol=EFFECT_ATOL)
        np.testing.assert_allclose(v[~dropped], want_v[~dropped], rtol=0, atol=EFFECT_ATOL)
        assert np.isfinite(y).all() and (v > 0).all()  # kept, whatever drop00 says


@pytest.mark.parametrize("measure,fn", [("RR", effects.log_rr), ("OR", effects.log_or)])
def test_zero_event_tables_pool_as_metafor(edge, measure, fn):
    for e in [e for e in edge["escalc_pooled"] if e["measure"] == measure]:
        (es,) = [
            x for x in edge["escalc"] if (x["table"], x["measure"], x["drop00"]) == (e["table"], measure, e["drop00"])
        ]
        y, v = fn(es["ai"], es["n1i"], es["ci"], es["n2i"], add=0.5)
        keep = ~_double_zero(es) if e["drop00"] else np.ones(y.size, dtype=bool)
        assert keep.sum() == e["k"]
        if e["error"] is not None:  # every table dropped: nothing to pool, in metafor or here
            assert e["error"] == "Processing terminated since k = 0."
            with pytest.raises(ValueError, match="non-empty"):
                rma(y[keep], v[keep], method="REML", test="knha")
            continue
        fit = rma(y[keep], v[keep], method="REML", test="knha")
        for ours, theirs in (
            ("beta", "beta"),
            ("se", "se"),
            ("ci_low", "ci_lb"),
            ("ci_high", "ci_ub"),
            ("tau2", "tau2"),
        ):
            assert getattr(fit, ours) == pytest.approx(e[theirs], abs=TIGHT_ATOL), (e["table"], e["drop00"], ours)


def test_a_moderator_model_that_fits_every_study_exactly_is_not_a_crash():
    """Two levels, each of identical studies: under Knapp-Hartung s² = 0, so the moderators'
    covariance is zero and the omnibus test is undefined (found by the 10x benchmark data)."""
    fit = rma([0.2, 0.2, 0.7, 0.7], [0.05, 0.05, 0.05, 0.05], mods=[0, 0, 1, 1], method="REML", test="knha")
    assert fit.qm != fit.qm and fit.qm_p != fit.qm_p  # NaN
    assert fit.qm_df == (1.0, 2.0)
    assert "moderator test not estimable" in fit.note
    assert fit.betas == pytest.approx((0.2, 0.5))
    z = rma([0.2, 0.2, 0.7, 0.7], [0.05, 0.05, 0.05, 0.05], mods=[0, 0, 1, 1], method="REML", test="z")
    assert z.qm == pytest.approx(0.5**2 / (0.05 / 2 + 0.05 / 2)) and z.note == ""
