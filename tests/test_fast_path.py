"""The REML/ML fast path (a proof of one peak instead of the grid) gives the grid's τ².

``tau2.estimate`` proves, for most columns, that the (restricted) likelihood has one maximum and
then skips the grid (``maximise.certify``); the grid (``maximise.grid_max``) is the reference. Here both
run on the same seeded simulated data sets, two-peaked ones included: every τ² must agree to 1e-10,
and no column with two maxima on the grid may ever be certified (the proof would be wrong).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import ROOT

from ketamine_meta.stats import batch, maximise, tau2

#: fast path against the grid: both are Newton roots of the same score solved to machine precision
SAME_TAU2 = 1e-10


def _simulated(seed: int, k: int, d: int):
    """As validation/metafor/make_bimodal_reference.R draws them (where its two-peaked cases come
    from): vi log-uniform on [0.01, 0.5], τ² in {0, 0.02, 0.05, 0.2}, yi ~ N(0.5, vi + τ²)."""
    rng = np.random.default_rng(seed)
    v = np.exp(rng.uniform(np.log(0.01), np.log(0.5), (k, d)))
    t2 = rng.choice([0.0, 0.02, 0.05, 0.2], d)
    return rng.normal(0.5, np.sqrt(v + t2)), v


def _ketamine_like(seed: int, k: int, d: int):
    """The benchmark's data: per-arm n 15..120, SMD 0.6, τ² = 0.05."""
    rng = np.random.default_rng(seed)
    n1, n2 = rng.integers(15, 121, (k, d)), rng.integers(15, 121, (k, d))
    se2 = 1 / n1 + 1 / n2
    y = rng.normal(0.6, np.sqrt(se2 + 0.05))
    return y, se2 + y**2 / (2 * (n1 + n2))


def _imprecise_outlier(seed: int, k: int, d: int):
    """k - 1 precise studies that agree and one imprecise one far away (two REML peaks are common:
    the kind of tests/reference/metafor_bimodal.json's simulated REML cases)."""
    rng = np.random.default_rng(seed)
    v = np.exp(rng.uniform(np.log(0.01), np.log(0.04), (k, d)))
    v[-1] = rng.uniform(0.15, 0.3, d)
    y = rng.normal(0.5, np.sqrt(v + 0.005))
    y[-1] = 0.5 + rng.choice([-1.0, 1.0], d) * rng.uniform(0.8, 1.4, d)
    return y, v


def _precise_outlier(seed: int, k: int, d: int):
    """One very precise study away from k - 1 imprecise ones (two ML peaks are common)."""
    rng = np.random.default_rng(seed)
    v = np.exp(rng.uniform(np.log(0.1), np.log(1.0), (k, d)))
    v[0] = np.exp(rng.uniform(np.log(0.002), np.log(0.02), d))
    y = rng.normal(0.8, np.sqrt(v + 0.2))
    y[0] = 0.0
    return y, v


#: (generator, seed offset, columns per k)
GENERATORS = (
    (_simulated, 11, 1000),
    (_ketamine_like, 12, 400),
    (_imprecise_outlier, 13, 300),
    (_precise_outlier, 14, 300),
)


def _bimodal_reference():
    ref = json.loads((ROOT / "tests" / "reference" / "metafor_bimodal.json").read_text())
    cases = {m: [c for c in ref["cases"] if c["method"] == m] for m in ("REML", "ML")}
    return {m: batch.pad_groups([c["yi"] for c in sel], [c["vi"] for c in sel]) for m, sel in cases.items()}


def _both(yi, vi, method):
    """τ² by the fast path (estimate), by the grid alone, which columns the fast path proved, and
    how many candidate maxima the grid found per column."""
    y, v, m, k = batch._as_2d(yi, vi, 0)
    ev = tau2.Intercept(y, v, m, k)
    fast, _, conv = tau2.estimate(ev, method)
    f0, parts0 = ev.pieces(method, np.zeros(ev.size))
    grid, ok = maximise.grid_max(ev, method, f0)
    assert conv.all() and ok.all()
    # the proof, as _global_max runs it
    inner = np.flatnonzero(f0 > 0)
    x, parts = np.zeros(ev.size), [p.copy() for p in parts0]
    sub = ev.sub(inner)
    root, rc = maximise.refine(sub, method, np.zeros(inner.size), maximise.upper(sub, method), ev.closed("DL")[inner])
    x[inner] = root
    for whole, at_root in zip(parts, sub.pieces(method, root)[1]):
        whole[inner] = at_root
    with np.errstate(divide="ignore"):
        l0 = np.log(parts0[0]) - np.log(parts0[1])
    proved = maximise.certify(ev, method, l0, x, parts, f0 > 0)
    return fast, grid, proved, _grid_candidates(ev, method, f0)


def _grid_candidates(ev, method, f0):
    """Local maxima the grid sees per column: the boundary (f(0) <= 0) plus every + -> <= 0 cell."""
    u, m = maximise.upper(ev, method), ev.vmin
    g = 400  # finer than the engine's grid: a second peak it could miss shows here
    s = np.linspace(0.0, 1.0, g)[:, None]
    T = m * ((u + m) / m) ** s - m
    T[0], T[-1] = 0.0, u
    f = ev.grid_eq(method, T)
    f[0] = f0
    return (f0 <= 0).astype(int) + ((f[:-1] > 0) & (f[1:] <= 0)).sum(axis=0)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_fast_path_equals_the_grid_on_simulated_data(method):
    n_two = n_proved = n_sets = 0
    for k in (2, 3, 4, 5, 6, 8, 10, 20, 50):
        for make, seed, d in GENERATORS:
            yi, vi = make(seed + k, k, d)
            fast, grid, proved, cand = _both(yi, vi, method)
            np.testing.assert_allclose(fast, grid, rtol=1e-9, atol=SAME_TAU2)
            assert not (proved & (cand >= 2)).any(), "a two-peaked likelihood was certified as one-peaked"
            if make is _ketamine_like:  # the benchmark's data: the proof must do nearly all the work
                assert proved.mean() >= 0.98, (k, proved.mean())
            n_two += int((cand >= 2).sum())
            n_proved += int(proved.sum())
            n_sets += yi.shape[1]
    # guards: thousands of data sets, two-peaked ones among them (they went to the grid)
    assert n_sets == 18_000
    assert n_two >= 50, n_two
    assert n_proved >= 0.6 * n_sets, n_proved


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_two_peaked_reference_cases_are_never_certified_and_keep_their_maximum(method):
    yi, vi = _bimodal_reference()[method]
    fast, grid, proved, cand = _both(yi, vi, method)
    assert (cand >= 2).all() and not proved.any()
    np.testing.assert_array_equal(fast, grid)


def test_proof_covers_boundary_and_interior_columns():
    """Both kinds of certificate are exercised: τ² = 0 (f(0) <= 0) and interior roots."""
    yi, vi = _ketamine_like(5, 10, 2000)
    fast, grid, proved, cand = _both(yi, vi, "REML")
    assert (proved & (fast == 0)).sum() >= 100 and (proved & (fast > 0)).sum() >= 1000
    np.testing.assert_allclose(fast, grid, rtol=1e-9, atol=SAME_TAU2)
