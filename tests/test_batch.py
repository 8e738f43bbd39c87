"""The batched engine against the scalar one: pool_many must equal rma column by column."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import LOWER_PEAK_IN_REFERENCE
from tolerances import CLOSED_FORM_ATOL, TIGHT_ATOL

from ketamine_meta.stats import batch, maximise, pooling
from ketamine_meta.stats.batch import pool_many
from ketamine_meta.stats.pooling import METHODS, TESTS, rma

#: pool_many must reproduce rma to this (absolute, and relative for large numbers such as stat)
SAME = 1e-10
#: rma attribute for each numeric column of pool_many
FIELDS = {
    "estimate": "beta",
    "se": "se",
    "ci_low": "ci_low",
    "ci_high": "ci_high",
    "pi_low": "pi_low",
    "pi_high": "pi_high",
    "tau2": "tau2",
    "i2": "i2",
    "h2": "h2",
    "q": "q",
    "q_p": "q_p",
    "stat": "stat",
    "pval": "pval",
    "crit": "crit",
}


def random_batch(seed: int, k_max: int = 12, d: int = 240):
    """SMD-like analyses of every size 1..k_max (NaN-padded, absent rows scattered, not only at the
    bottom), with heterogeneity from none to large, and a block of near-homogeneous columns whose
    Q is below k - 1, so every estimator truncates τ² at 0 there."""
    rng = np.random.default_rng(seed)
    n1 = rng.integers(15, 121, (k_max, d))
    n2 = rng.integers(15, 121, (k_max, d))
    v = 1 / n1 + 1 / n2
    tau2 = rng.choice([0.0, 0.02, 0.1, 0.5], d)
    y = rng.normal(0.6, np.sqrt(v + tau2))
    near = slice(0, 30)
    y[:, near] = 0.4 + 0.02 * rng.standard_normal((k_max, 30))
    k = np.resize(np.arange(1, k_max + 1), d)  # every k, many times over
    for j in range(d):
        absent = rng.permutation(k_max)[k[j] :]
        y[absent, j] = np.nan
        v[absent, j] = np.nan
    return y, v


def column(a, j):
    keep = ~np.isnan(a[:, j])
    return a[keep, j]


def assert_same_as_rma(got: pd.DataFrame, yi, vi, method, test, level=0.95):
    for j, row in enumerate(got.itertuples(index=False)):
        fit = rma(column(yi, j), column(vi, j), method=method, test=test, level=level)
        assert row.k == fit.k
        for ours, theirs in FIELDS.items():
            want, have = getattr(fit, theirs), getattr(row, ours)
            if math.isnan(want):
                assert math.isnan(have), (j, ours)
            else:
                assert have == pytest.approx(want, rel=SAME, abs=SAME), (j, fit.k, ours)
        if fit.df is None:
            assert math.isnan(row.df)
        else:
            assert row.df == fit.df
        assert row.converged == fit.converged
        single = fit.k == 1
        assert row.method == fit.method == ("single study" if single else method)
        assert row.method_requested == fit.method_requested == method
        assert row.ci_method == ("z" if single else test)
        assert row.note == fit.note


@pytest.mark.parametrize("test", TESTS)
@pytest.mark.parametrize("method", METHODS)
def test_pool_many_equals_one_rma_per_column(method, test):
    yi, vi = random_batch(seed=METHODS.index(method) * 2 + TESTS.index(test))
    got = pool_many(yi, vi, method=method, test=test, axis=0)
    assert list(got.columns) == batch.COLUMNS
    assert len(got) == yi.shape[1]
    # guard: the batch holds the cases the issue names
    assert {1, 2} <= set(got["k"])
    assert got["k"].max() == 12
    pooled = got[got["k"] >= 2]
    if method not in ("EE", "SJ"):  # SJ's τ² is positive unless all studies are identical
        assert (pooled["tau2"] == 0).sum() >= 20, "too few columns with tau2 = 0"
    if method != "EE":
        assert (pooled["tau2"] > 0.05).sum() >= 50, "too few heterogeneous columns"
    assert_same_as_rma(got, yi, vi, method, test)


@pytest.mark.parametrize("method", ["REML", "PM", "ML"])
def test_iterative_estimators_agree_over_scales(method):
    """The root finder is scale-free: the same batch on a smaller and on a log-odds-like scale (v ~ 1).

    Not much smaller: rma's Brent search stops at an absolute 1e-15 in τ², so for τ² ~ 1e-7 the
    scalar engine itself is only good to ~1e-8 relative (the batched Newton root is closer).
    """
    for scale in (0.3, 3.0):
        yi, vi = random_batch(seed=40, d=120)
        y, v = yi * scale, vi * scale**2
        assert_same_as_rma(pool_many(y, v, method=method, test="z", axis=0), y, v, method, "z")


def test_level_is_passed_through():
    yi, vi = random_batch(seed=3, d=60)
    assert_same_as_rma(
        pool_many(yi, vi, method="REML", test="knha", level=0.9, axis=0), yi, vi, "REML", "knha", level=0.9
    )


def test_metafor_reference_grid_in_one_batch(metafor_ref):
    """Every case of the pinned metafor grid (intercept-only), padded into one array per method x test."""
    cases = [c for c in metafor_ref["rma"] if c.get("error") is None]
    for method in METHODS:
        for test in TESTS:
            # the lower-peak case is compared with metafor started at the global maximum in test_bimodal
            sel = [
                c
                for c in cases
                if c["method"] == method and c["test"] == test and (c["case"], method) not in LOWER_PEAK_IN_REFERENCE
            ]
            yi, vi = batch.pad_groups([c["yi"] for c in sel], [c["vi"] for c in sel])
            got = pool_many(yi, vi, method=method, test=test, axis=0)
            atol = TIGHT_ATOL if method in ("REML", "ML", "PM") else CLOSED_FORM_ATOL
            for row, case in zip(got.itertuples(index=False), sel):
                want = {**case, **case.get("tight", {})} if method in ("REML", "ML", "PM") else case
                assert row.estimate == pytest.approx(want["beta"], abs=atol)
                assert row.tau2 == pytest.approx(want["tau2"], abs=atol)
                assert row.ci_low == pytest.approx(want["ci_lb"], abs=atol)
                assert row.ci_high == pytest.approx(want["ci_ub"], abs=atol)


def test_pad_groups_stacks_unequal_groups():
    yi, vi = batch.pad_groups([[0.1, 0.5, 0.3], [0.2], []], [[0.04, 0.05, 0.06], [0.01], []])
    assert yi.shape == (3, 3)
    assert np.isnan(yi[1:, 1]).all() and np.isnan(vi[:, 2]).all()
    got = pool_many(yi, vi, axis=0)
    assert got["k"].tolist() == [3, 1, 0]
    fit = rma([0.1, 0.5, 0.3], [0.04, 0.05, 0.06])
    assert got.loc[0, "estimate"] == pytest.approx(fit.beta, abs=SAME)
    assert got.loc[0, "ci_high"] == pytest.approx(fit.ci_high, abs=SAME)


def test_single_study_is_reported_as_it_is():
    got = pool_many(np.array([[0.5]]), np.array([[0.04]]))
    row = got.iloc[0]
    assert row["estimate"] == 0.5
    assert row["se"] == pytest.approx(0.2)
    assert row["ci_low"] == pytest.approx(0.5 - 1.959963984540054 * 0.2, abs=1e-12)
    assert np.isnan(row["tau2"]) and np.isnan(row["pi_low"]) and np.isnan(row["df"])
    assert (row["method"], row["ci_method"]) == ("single study", "z")


def test_one_dimensional_input_is_one_analysis():
    y, v = [0.3, 0.8, 0.5, 0.1], [0.05, 0.04, 0.09, 0.02]
    got = pool_many(y, v, method="DL", test="z")
    fit = rma(y, v, method="DL", test="z")
    assert len(got) == 1
    assert got.loc[0, "estimate"] == pytest.approx(fit.beta, abs=SAME)
    assert got.loc[0, "tau2"] == pytest.approx(fit.tau2, abs=SAME)


def test_empty_column_is_all_nan():
    yi = np.array([[0.2, np.nan], [0.4, np.nan]])
    vi = np.array([[0.01, np.nan], [0.02, np.nan]])
    got = pool_many(yi, vi, axis=0)
    assert got.loc[1, "k"] == 0
    assert got.loc[1, ["estimate", "se", "ci_low", "tau2", "q"]].isna().all()
    assert got.loc[1, "note"] == "k=0: no studies"
    assert got.loc[0, "k"] == 2 and np.isfinite(got.loc[0, "estimate"])


def test_identical_studies_under_knha_give_zero_se_as_rma():
    yi = np.full((4, 1), 0.3)
    vi = np.array([[0.05], [0.05], [0.05], [0.05]])
    got = pool_many(yi, vi, method="REML", test="knha", axis=0).iloc[0]
    fit = rma(yi[:, 0], vi[:, 0], method="REML", test="knha")
    assert got["estimate"] == pytest.approx(0.3, abs=1e-15)
    assert got["tau2"] == 0 and fit.tau2 == 0
    assert got["se"] == pytest.approx(fit.se, abs=1e-8)  # both 0 up to rounding of y'Py
    assert got["ci_low"] == pytest.approx(fit.ci_low, abs=1e-7)


def test_failed_search_falls_back_to_dl_and_says_dl_was_used(monkeypatch):
    # with one Newton step allowed (the search needs ~5), the heterogeneous column's τ² search fails:
    # it must fall back to DL and be labelled DL, with the requested method kept, as rma does.
    # Unequal variances: with equal ones DL is the REML root, and Newton started there is done at once
    monkeypatch.setattr(maximise, "_MAX_NEWTON", 1)
    yi = np.array([[-2.0, 0.1], [2.0, 0.2], [0.0, 0.15]])
    vi = np.array([[0.01, 0.04], [0.02, 0.04], [0.04, 0.04]])
    got = pool_many(yi, vi, method="REML", test="z", axis=0)
    dl = rma(yi[:, 0], vi[:, 0], method="DL", test="z")
    assert not got.loc[0, "converged"]
    assert got.loc[0, "tau2"] == pytest.approx(dl.tau2, abs=SAME) and dl.tau2 > 1
    assert (got.loc[0, "method"], got.loc[0, "method_requested"]) == ("DL", "REML")
    assert got.loc[0, "note"] == "REML failed (the τ² search did not converge); fell back to DL"
    assert got.loc[1, "converged"] and got.loc[1, "tau2"] == 0 and got.loc[1, "method"] == "REML"
    fit = rma(yi[:, 0], vi[:, 0], method="REML", test="z")
    assert (fit.method, fit.method_requested, fit.converged) == ("DL", "REML", False)
    assert fit.tau2 == pytest.approx(dl.tau2, abs=SAME)


def test_ambiguous_or_transposed_shape_is_refused_or_read_as_told():
    """(datasets, k) given where (k, datasets) was meant used to be fitted silently as k analyses."""
    yi, vi = random_batch(seed=5, d=30)
    with pytest.raises(ValueError, match="say which axis runs over the studies"):
        pool_many(yi, vi)
    with pytest.raises(ValueError, match="axis must be 0"):
        pool_many(yi, vi, axis=2)
    with pytest.raises(ValueError, match="1-D yi and vi are one meta-analysis"):
        pool_many([0.1, 0.2], [0.01, 0.02], axis=1)
    rows = pool_many(yi.T, vi.T, axis=1)
    cols = pool_many(yi, vi, axis=0)
    pd.testing.assert_frame_equal(rows, cols, check_exact=True)
    assert len(rows) == 30 and rows["k"].max() == 12
    # a single study is the same whichever way it is read
    assert pool_many([[0.5]], [[0.04]]).loc[0, "estimate"] == 0.5


@pytest.mark.parametrize("method", METHODS)
def test_batched_core_equals_the_dense_matrix_path(method):
    """An independent check now that rma uses the batched core for intercept-only models: the dense
    P-matrix path (used for meta-regression) fitted with X = 1 must give the same numbers."""
    yi, vi = random_batch(seed=70 + METHODS.index(method), d=48)
    got = pool_many(yi, vi, method=method, test="knha", axis=0)
    for j, row in enumerate(got.itertuples(index=False)):
        y, v = column(yi, j), column(vi, j)
        if y.size < 2:
            continue
        dense = pooling._rma_dense(y, v, np.ones((y.size, 1)), method, "knha", 0.95)
        for ours, theirs in FIELDS.items():
            assert getattr(row, ours) == pytest.approx(getattr(dense, theirs), rel=1e-9, abs=1e-9), (j, ours)


@pytest.mark.parametrize(
    ("yi", "vi", "message"),
    [
        ([[0.1, np.nan]], [[0.1, 0.2]], "same places"),
        ([[0.1]], [[0.0]], "> 0"),
        ([[0.1, 0.2]], [[0.1]], "same shape"),
        ([[np.inf]], [[0.1]], "finite"),
    ],
)
def test_bad_input_is_refused(yi, vi, message):
    with pytest.raises(ValueError, match=message):
        pool_many(np.array(yi), np.array(vi), axis=0)


def test_unknown_method_or_test_is_refused():
    with pytest.raises(ValueError, match="unknown method"):
        pool_many([0.1, 0.2], [0.1, 0.1], method="FE")
    with pytest.raises(ValueError, match="unknown test"):
        pool_many([0.1, 0.2], [0.1, 0.1], test="t")


def test_blocks_of_columns_give_the_same_numbers(monkeypatch):
    """Wide batches are fitted in blocks of columns (cache-friendly); blocking must not change a number."""
    yi, vi = random_batch(seed=9, d=100)
    whole = pool_many(yi, vi, method="REML", test="knha", axis=0)
    monkeypatch.setattr(batch, "_CHUNK", 7)
    pd.testing.assert_frame_equal(pool_many(yi, vi, method="REML", test="knha", axis=0), whole, check_exact=True)
