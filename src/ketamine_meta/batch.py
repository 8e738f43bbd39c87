"""Batched random-effects pooling: many intercept-only meta-analyses fitted at once.

:func:`pool_many` fits every column of a (k, D) array of effect sizes as its own meta-analysis
(NaN marks a study absent from a column, so groups of unequal size share one array) and returns
exactly what :func:`ketamine_meta.pooling.rma` returns for each column one at a time, to
floating-point noise (the tests check 1e-10 for every estimator and both tests). It exists for the
multiverse and the coverage simulation, which fit 10⁴–10⁶ small models: one NumPy pass over all
columns costs about what one scalar fit costs.

For an intercept-only model with weights ``w_i = 1 / (v_i + τ²)`` every matrix of the scalar engine
collapses to sums over the studies of a column, with ``W = Σ w_i``:

* ``μ̂ = Σ w_i y_i / W``, ``Var(μ̂) = 1 / W``; residuals ``r_i = y_i - μ̂``;
* ``P = diag(w) - w w' / W``, so ``Py = w ⊙ r``, ``y'Py = Q(τ²) = Σ w_i r_i²`` and
  ``tr(P) = W - Σ w_i² / W``, ``tr(P²) = Σ w_i² - 2 Σ w_i³ / W + (Σ w_i²)² / W²``.

The iterative estimators are roots of their estimating equations (metafor's definitions):

* REML: ``f(τ²) = y'P²y - tr(P)``,  ``f'(τ²) = -2 y'P³y + tr(P²)``;
* ML:   ``f(τ²) = y'P²y - Σ w_i``,  ``f'(τ²) = -2 y'P³y + Σ w_i²``;
* PM:   ``f(τ²) = Q(τ²) - (k - 1)``, ``f'(τ²) = -y'P²y``;

using ``dP/dτ² = -P²``. As in the scalar engine, τ² = 0 when ``f(0) ≤ 0``. Otherwise Newton's
method runs for all columns at once from the DL estimate, safeguarded: the bracket is the last
point with ``f > 0`` and the last with ``f < 0``; a Newton step that leaves it is replaced by the
midpoint or, while no ``f < 0`` point is known, by doubling from ``max(max v_i, 10⁻⁴)`` — the
scalar engine's bracket search, which gives up (and falls back to DL) beyond ``2¹⁹⁹`` times that.
A column stops when a Newton step is below ``10⁻¹⁰ τ²`` (Newton's error after a step ``s`` is
``O(s²)``, so the root is then exact to machine precision) or the bracket is narrower than
``10⁻¹⁵ + 10⁻¹³ τ²``. Where the equation has one root in (0, ∞) — always for PM (``Q`` decreases
in τ²) and for REML and ML on any realistic data — it is the root the scalar engine's Brent
search finds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

#: Columns of :func:`pool_many`, in order: pooled.csv's fields on the analysis scale, plus the
#: inference details a simulation needs.
COLUMNS = [
    "k",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "pi_low",
    "pi_high",
    "tau2",
    "i2",
    "h2",
    "q",
    "q_p",
    "stat",
    "pval",
    "df",
    "crit",
    "method",
    "ci_method",
    "converged",
    "note",
]

_MAX_DOUBLINGS = 200  # as the scalar engine: a bracket up to max(v) * 2^199
_CHUNK = 4096  # columns per block in pool_arrays
_MAX_NEWTON = 400  # room for the 200 doublings of the bracket search plus ~60 halvings to 1e-15


def pad_groups(groups_y: Sequence[Sequence[float]], groups_v: Sequence[Sequence[float]]):
    """Stack meta-analyses of unequal size into NaN-padded (k_max, D) arrays for :func:`pool_many`.

    Parameters
    ----------
    groups_y, groups_v : D sequences of effect sizes and of their sampling variances; group ``j``
        has ``k_j`` studies (``k_j`` may be 0).

    Returns
    -------
    yi, vi : arrays of shape ``(max_j k_j, D)``; column ``j`` holds group ``j`` in its first
        ``k_j`` rows and NaN below.
    """
    if len(groups_y) != len(groups_v):
        raise ValueError("groups_y and groups_v must have the same number of groups")
    sizes = [len(g) for g in groups_y]
    if sizes != [len(g) for g in groups_v]:
        raise ValueError("each group needs as many variances as effect sizes")
    kmax = max(sizes, default=0)
    yi = np.full((kmax, len(sizes)), np.nan)
    vi = np.full((kmax, len(sizes)), np.nan)
    for j, (gy, gv) in enumerate(zip(groups_y, groups_v)):
        yi[: sizes[j], j] = np.asarray(gy, dtype=float)
        vi[: sizes[j], j] = np.asarray(gv, dtype=float)
    return yi, vi


def _as_2d(yi, vi):
    """Validated float arrays of shape (k, D), the presence mask (1.0 / 0.0) and the per-column k.

    Absent studies get ``y = 0`` and ``v = ∞``, so their weight ``1 / (v + τ²)`` is exactly 0 and
    every weighted sum ignores them without a mask in the inner loop.
    """
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    if y.ndim == 1 and v.ndim == 1:
        y, v = y[:, None], v[:, None]
    if y.ndim != 2 or y.shape != v.shape:
        raise ValueError(f"yi and vi must be arrays of the same shape (k, D); got {y.shape} and {v.shape}")
    present = ~np.isnan(y)
    if not np.array_equal(present, ~np.isnan(v)):
        raise ValueError("yi and vi must be NaN (absent study) in the same places")
    if not (np.all(np.isfinite(y[present])) and np.all(np.isfinite(v[present])) and np.all(v[present] > 0)):
        raise ValueError("present yi must be finite and vi finite and > 0")
    m = present.astype(float)
    return np.where(present, y, 0.0), np.where(present, v, np.inf), m, m.sum(axis=0)


class _Cols:
    """Weighted sums over the studies of each column at a given τ² (one value per column)."""

    __slots__ = ("w", "W", "beta", "r")

    def __init__(self, y, v, tau2):
        self.w = 1 / (v + tau2)
        self.W = self.w.sum(axis=0)
        # an empty column (k = 0) has W = 0: divide by 1 there instead of warning, it is blanked later
        self.beta = (self.w * y).sum(axis=0) / np.where(self.W > 0, self.W, 1.0)
        self.r = y - self.beta  # only ever used multiplied by w, which is 0 for absent studies

    @property
    def q(self):
        """``Q(τ²) = Σ w_i r_i²`` (computed on demand: REML and ML iterations do not need it)."""
        return (self.w * self.r * self.r).sum(axis=0)


def _estimating_equation(method, y, v, k, tau2):
    """``f(τ²)`` and ``f'(τ²)`` of the REML, ML or PM equation (module docstring) per column."""
    c = _Cols(y, v, tau2)
    a = c.w * c.r  # Py
    aa = (a * a).sum(axis=0)  # y'P²y
    if method == "PM":
        return (a * c.r).sum(axis=0) - (k - 1), -aa
    wa = c.w * a
    swa = wa.sum(axis=0)
    apa = (wa * a).sum(axis=0) - swa * swa / c.W  # y'P³y
    w2 = c.w * c.w
    sw2 = w2.sum(axis=0)
    if method == "REML":
        trp = c.W - sw2 / c.W
        trp2 = sw2 - 2 * (w2 * c.w).sum(axis=0) / c.W + (sw2 / c.W) ** 2
        return aa - trp, -2 * apa + trp2
    return aa - c.W, -2 * apa + sw2  # ML


def _root(method, y, v, k, hi0, start):
    """Root of the estimating equation in (0, ∞) for columns with ``f(0) > 0``; NaN where none is found.

    Safeguarded Newton over all columns at once. The bracket starts as ``(0, ∞)`` and shrinks to
    the last points with ``f > 0`` (left) and ``f < 0`` (right); a Newton step that leaves it is
    replaced by the midpoint, or, while no right end is known, by doubling ``max(τ², hi0)`` —
    the scalar engine's bracket search, done lazily because the Newton step from the DL estimate
    almost always lands next to the root. Doubling beyond ``hi0 · 2^199`` (the scalar engine's
    limit) means no sign change: NaN, and the caller falls back to DL.
    """
    d = y.shape[1]
    cap = hi0 * 2.0 ** (_MAX_DOUBLINGS - 1)
    lo, hi, x = np.zeros(d), np.full(d, np.inf), np.maximum(start, 0.0)
    out = np.full(d, np.nan)
    act = np.arange(d)  # columns still iterating
    ys, vs, ks, held = y, v, k, act  # working copies; compacted when few columns remain
    for _ in range(_MAX_NEWTON):
        if act.size == 0:
            break
        if act.size < 0.6 * held.size:
            # copying costs about one evaluation: worth it only once most columns are done
            ys, vs, ks, held = y[:, act], v[:, act], k[act], act
        f, df = _estimating_equation(method, ys, vs, ks, x[held])
        if held.size != act.size:
            sel = np.searchsorted(held, act)
            f, df = f[sel], df[sel]
        xa = x[act]
        la = np.where(f > 0, xa, lo[act])
        ha = np.where(f < 0, xa, hi[act])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            newton = xa - f / df
        ok = np.isfinite(newton) & (newton > la) & (newton < ha)
        fallback = np.where(np.isfinite(ha), 0.5 * (la + ha), np.maximum(2 * xa, hi0[act]))
        xn = np.where(ok, newton, fallback)
        xn = np.where(f == 0, xa, xn)
        # Newton's error after a step of size s is O(s²): a Newton step below 1e-10 τ² leaves the root
        # at machine precision; a bisection step is only as good as the bracket, so that must be tiny
        tol = 1e-15 + 1e-13 * xa
        done = (f == 0) | (ok & (np.abs(xn - xa) <= tol + 1e-10 * xa)) | (ha - la <= tol)
        lost = xn > cap[act]  # no sign change where the scalar engine would have looked
        lo[act], hi[act], x[act] = la, ha, xn
        out[act[done & ~lost]] = xn[done & ~lost]
        act = act[~(done | lost)]
    out[act] = x[act]  # iteration cap (never reached in practice): the best bracketed value
    return out


def _tau2(method, y, v, m, k, tau2_dl):
    """τ² per column (columns with k ≥ 2); NaN where an iterative estimator found no bracket."""
    if method == "EE":
        return np.zeros(y.shape[1])
    if method == "DL":
        return tau2_dl
    if method == "HE":
        kk = np.maximum(k, 1)
        ybar = (y * m).sum(axis=0) / kk
        rss = (((y - ybar) * m) ** 2).sum(axis=0)
        # tr(H diag v) with H = I - 11'/k is Σ v (1 - 1/k)
        trhv = np.where(m > 0, v, 0.0).sum(axis=0) * (1 - 1 / kk)
        return np.maximum(0.0, (rss - trhv) / (k - 1))
    if method == "SJ":
        # metafor starts from the unweighted variance of y with denominator k
        kk = np.maximum(k, 1)
        ybar = (y * m).sum(axis=0) / kk
        t0 = (((y - ybar) * m) ** 2).sum(axis=0) / kk
        q0 = _Cols(y, v, t0).q
        return np.where(t0 == 0, 0.0, t0 * q0 / (k - 1))
    f0, _ = _estimating_equation(method, y, v, k, np.zeros(y.shape[1]))
    tau2 = np.zeros(y.shape[1])
    need = np.flatnonzero(f0 > 0)
    if need.size:
        # copying the columns costs about one evaluation: skip it when every column needs a root
        sub = slice(None) if need.size == y.shape[1] else need
        ys, vs, ms = y[:, sub], v[:, sub], m[:, sub]
        # the scalar engine's first bracket end, max(max v, 1e-4), scales the bracket search
        hi0 = np.maximum(np.where(ms > 0, vs, 0.0).max(axis=0), 1e-4)
        tau2[need] = _root(method, ys, vs, k[need], hi0, tau2_dl[need])
    return tau2


def _t_quantile(p, df):
    """``t.ppf(p, df)`` evaluated once per distinct df (a batch has few distinct k)."""
    uniq, inv = np.unique(df, return_inverse=True)
    return stats.t.ppf(p, uniq)[inv.reshape(df.shape)]


def pool_arrays(yi, vi, method: str = "REML", test: str = "knha", level: float = 0.95) -> dict[str, np.ndarray]:
    """The numbers of :func:`pool_many` as a dict of arrays (no DataFrame; for simulations).

    Same arguments and the same numeric fields as :func:`pool_many`, plus ``single`` (k = 1),
    ``empty`` (k = 0) and ``converged`` as boolean arrays; string fields are not built.
    """
    # imported here: pooling re-exports pool_many, so a module-level import would be circular
    from .pooling import METHODS, TESTS

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {METHODS}")
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; use one of {TESTS}")
    y, v, m, k = _as_2d(yi, vi)
    d = y.shape[1]
    if d <= _CHUNK:
        return _pool_block(y, v, m, k, method, test, level)
    # blocks of columns keep the ~15 temporaries of an iteration in cache: ~10-20% faster
    blocks = [slice(i, i + _CHUNK) for i in range(0, d, _CHUNK)]
    parts = [_pool_block(y[:, b], v[:, b], m[:, b], k[b], method, test, level) for b in blocks]
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def _pool_block(y, v, m, k, method, test, level) -> dict[str, np.ndarray]:
    """:func:`pool_arrays` on validated arrays (absent studies: y = 0, v = ∞, m = 0)."""
    d = y.shape[1]
    alpha = 1 - level
    zcrit = float(stats.norm.ppf(1 - alpha / 2))
    single, empty = k == 1, k == 0
    pooled = k >= 2
    kp = np.where(pooled, k, 2.0)  # k used in formulas; k < 2 columns are overwritten below

    c0 = _Cols(y, v, 0.0)
    sw0 = c0.W
    trp0 = sw0 - (c0.w**2).sum(axis=0) / np.where(sw0 > 0, sw0, 1.0)
    q = c0.q
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2_dl = np.maximum(0.0, (q - (kp - 1)) / trp0)
    tau2 = np.zeros(d)
    converged = np.ones(d, dtype=bool)
    if pooled.any():
        cols = np.flatnonzero(pooled)
        sub = slice(None) if cols.size == d else cols
        t = _tau2(method, y[:, sub], v[:, sub], m[:, sub], kp[cols], tau2_dl[cols])
        failed = np.isnan(t)
        # as rma: an iterative estimator without a sign change falls back to DL and says so
        t[failed] = tau2_dl[cols][failed]
        converged[cols[failed]] = False
        tau2[cols] = t

    c = _Cols(y, v, tau2)
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = c.beta
        var = 1 / c.W
        if test == "knha":
            df = kp - 1
            # metafor's scale factor, as rma: the weighted residual sum of squares, taken as 0 when
            # it is <= machine epsilon (identical studies get SE 0, not ~1e-9)
            rss = c.q
            var = var * np.where(rss <= np.finfo(float).eps, 0.0, rss) / df
            crit = _t_quantile(1 - alpha / 2, df)
        else:
            df = np.full(d, np.nan)
            crit = np.full(d, zcrit)
        se = np.sqrt(var)
        # identical studies under knha give SE 0 (metafor too): the statistic is infinite
        stat = np.where(se > 0, beta / np.where(se > 0, se, 1.0), np.copysign(np.inf, beta))
        pval = 2 * (stats.t.sf(np.abs(stat), df) if test == "knha" else stats.norm.sf(np.abs(stat)))
        q_p = stats.chi2.sf(q, kp - 1)
        if method == "EE":
            i2 = np.where(q > 0, np.maximum(0.0, 100 * (q - (kp - 1)) / np.where(q > 0, q, 1.0)), 0.0)
            h2 = q / (kp - 1)
        else:
            vt = (kp - 1) / trp0
            i2 = 100 * tau2 / (tau2 + vt)
            h2 = (tau2 + vt) / vt
        pi_half = crit * np.sqrt(se**2 + tau2)

    # k = 1: the study itself with a z interval, nothing about heterogeneity (rma's _saturated)
    y0 = y[np.argmax(m > 0, axis=0), np.arange(d)]
    v0 = v[np.argmax(m > 0, axis=0), np.arange(d)]
    se1 = np.sqrt(v0)
    nan = np.nan
    out = {
        "k": k.astype(int),
        "estimate": np.where(single, y0, beta),
        "se": np.where(single, se1, se),
        "ci_low": np.where(single, y0 - zcrit * se1, beta - crit * se),
        "ci_high": np.where(single, y0 + zcrit * se1, beta + crit * se),
        "pi_low": np.where(single, nan, beta - pi_half),
        "pi_high": np.where(single, nan, beta + pi_half),
        "tau2": np.where(single, nan, tau2),
        "i2": np.where(single, nan, i2),
        "h2": np.where(single, nan, h2),
        "q": np.where(single, nan, q),
        "q_p": np.where(single, nan, q_p),
        "stat": np.where(single, y0 / se1, stat),
        "pval": np.where(single, 2 * stats.norm.sf(np.abs(y0 / se1)), pval),
        "df": np.where(single, nan, df),
        "crit": np.where(single, zcrit, crit),
    }
    for name in out:
        if name != "k":
            out[name] = np.where(empty, nan, out[name])
    out.update(single=single, empty=empty, converged=converged)
    return out


def pool_many(yi, vi, method: str = "REML", test: str = "knha", level: float = 0.95) -> pd.DataFrame:
    """Fit one random-effects meta-analysis per column, as :func:`ketamine_meta.pooling.rma` would.

    Parameters
    ----------
    yi, vi : arrays of shape (k, D): effect sizes and sampling variances, one meta-analysis per
        column, NaN (in both) where a study is absent from a column. A 1-D pair is one analysis.
        Groups of unequal size: :func:`pad_groups`.
    method : τ² estimator, metafor's name: ``REML`` (default), ``DL``, ``PM``, ``ML``, ``SJ``,
        ``HE`` or ``EE``.
    test : ``knha`` (Knapp–Hartung: ``Var(μ̂) = Q(τ̂²) / ((k - 1) W)``, t(k - 1) quantile) or
        ``z`` (``Var(μ̂) = 1 / W``, normal quantile), with ``W = Σ 1 / (v_i + τ̂²)``.
    level : coverage of the confidence and prediction intervals.

    Returns
    -------
    pandas.DataFrame
        One row per column, in order, with the fields of ``pooled.csv`` — all on the **analysis
        scale** (log ratio, logit, g: apply :func:`ketamine_meta.analyses.to_reporting_scale`
        yourself): ``k``, ``estimate`` (μ̂), ``se``, ``ci_low``/``ci_high`` (``μ̂ ± crit · se``),
        ``pi_low``/``pi_high`` (``μ̂ ± crit · sqrt(se² + τ̂²)``), ``tau2``, ``i2``, ``h2``, ``q``,
        ``q_p``, ``method``, ``ci_method``, ``df`` (``k - 1`` under knha, else NaN), and ``stat``,
        ``pval``, ``crit``, ``converged``, ``note``.

    Notes
    -----
    Equal to ``rma(yi[:, j], vi[:, j], method=method, test=test, level=level)`` column by column
    (to ~1e-12), including its special cases, labelled as ``pooled.csv`` labels them:

    * k = 1: the study itself with a z interval; τ², I², Q and the prediction interval are NaN,
      ``method`` is ``"single study"`` and ``ci_method`` is ``"z"``.
    * an iterative estimator whose equation has no sign change falls back to DL
      (``converged`` False, ``note`` says so).
    * k = 0 (an all-NaN column): every number NaN, ``note`` ``"k=0: no studies"``.
    """
    res = pool_arrays(yi, vi, method=method, test=test, level=level)
    d = res["k"].size
    frame = {name: res[name] for name in COLUMNS if name in res}
    single, empty = res["single"], res["empty"]
    frame["method"] = np.where(single, "single study", np.where(empty, "", method)).astype(object)
    frame["ci_method"] = np.where(single, "z", np.where(empty, "", test)).astype(object)
    note = np.full(d, "", dtype=object)
    note[single] = "k=1: single study, not pooled; z interval from its own variance"
    note[empty] = "k=0: no studies"
    note[~res["converged"]] = f"{method} failed (no sign change of the estimating equation); fell back to DL"
    frame["note"] = note
    return pd.DataFrame(frame, columns=COLUMNS)
