"""Random-effects pooling and meta-regression, as ``metafor::rma.uni`` and ``predict.rma`` do it.

One function, :func:`rma`, fits the model ``y_i = x_i'β + u_i + e_i`` with ``u_i ~ N(0, τ²)`` and
``e_i ~ N(0, v_i)``. The τ² estimators use metafor's names (``REML``, ``DL``, ``PM``, ``ML``,
``SJ``, ``HE``, and ``EE`` for the equal-effects model); tests use ``z`` or ``knha``
(Knapp–Hartung, no truncation: metafor's ``test="knha"``). τ² comes from
:mod:`ketamine_meta.tau2`: REML and ML are the global maximum of the (restricted) likelihood on
[0, ∞) (every local maximum bracketed on a grid, then solved to machine precision), PM the root of
its estimating equation; metafor's Fisher scoring agrees wherever it converges to that maximum.

Intercept-only models are fitted by the batched engine (:func:`ketamine_meta.stats.batch.pool_arrays`
with one column), so a scalar fit and a column of :func:`pool_many` are one implementation,
special cases included; models with moderators use the dense ``P`` matrix below and the same
special-case helpers.

Why our own engine rather than PyMARE's estimators alone: PyMARE has no PM, SJ or HE estimator,
reports Q-based I², and does not give Knapp–Hartung prediction intervals; the tests check that
both agree where they overlap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import special

from ketamine_meta.stats import batch
from ketamine_meta.stats.batch import critical, heterogeneity, knha_factor, wald
from ketamine_meta.stats.tau2 import METHODS, TESTS, Dense, estimate


@dataclass(frozen=True)
class RmaResult:
    """One fitted model. Scalars describe the first coefficient (the intercept in a plain pooling).

    Attributes
    ----------
    k : number of studies; p : number of coefficients.
    beta, se, ci_low, ci_high, stat, pval : the coefficient vector's first element and its
        inference (``stat`` is z, or t with ``df`` degrees of freedom under ``knha``).
    pi_low, pi_high : 95% prediction interval for a new study (intercept-only models), as
        ``predict.rma``: ``β̂ ± crit · sqrt(SE² + τ²)`` with ``crit`` from t(k - p) under ``knha``.
    method : the τ² estimator actually used: the one requested, ``"DL"`` where its search failed
        (``converged`` False), or ``"single study"`` when k <= p; method_requested : the one asked for.
    tau2 : τ² (0 for ``EE``); i2, h2 : metafor's I² (%) and H², built on the typical within-study
        variance ``(k - p) / tr(P₀)``; q, q_p : Cochran's Q (residual heterogeneity) and its p.
    qm, qm_p, qm_df : omnibus test of the moderators (None without moderators).
    betas, ses, vcov : all coefficients, their SEs and covariance matrix; crit : the critical value
        of the intervals (z, or t(k - p) under ``knha``); converged : False when the τ² estimator failed and
        the fit fell back to DL (``note`` says so).
    """

    k: int
    p: int
    method: str
    test: str
    beta: float
    se: float
    ci_low: float
    ci_high: float
    stat: float
    pval: float
    df: float | None
    pi_low: float
    pi_high: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_p: float
    qm: float | None
    qm_p: float | None
    qm_df: tuple[float, ...] | None
    betas: tuple[float, ...]
    ses: tuple[float, ...]
    vcov: tuple[tuple[float, ...], ...]
    crit: float
    converged: bool = True
    note: str = ""
    method_requested: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def as_vectors(yi, vi) -> tuple[np.ndarray, np.ndarray]:
    """``yi`` and ``vi`` as validated 1-D float arrays (one meta-analysis): same length k >= 1,
    finite, and ``vi > 0``."""
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if y.shape != v.shape or y.size == 0:
        raise ValueError("yi and vi must be non-empty and of equal length")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise ValueError("yi must be finite and vi finite and > 0")
    return y, v


def tau2_estimate(y, v, X, method: str) -> float:
    """τ² by ``method`` for the model with design matrix ``X`` (metafor's definitions, truncated at
    0; DL where an iterative search fails): :func:`ketamine_meta.tau2.estimate` on one model."""
    return float(estimate(Dense(np.asarray(y, float), np.asarray(v, float), np.asarray(X, float)), method)[0][0])


def rma(yi, vi, mods=None, method: str = "REML", test: str = "knha", level: float = 0.95) -> RmaResult:
    """Fit a random-effects (or mixed-effects) model like ``metafor::rma.uni``.

    Parameters
    ----------
    yi, vi : effect sizes and sampling variances (1-D, same length k >= 1).
    mods : optional (k, m) array of moderators; an intercept is always added.
    method : τ² estimator, metafor's name (``REML`` default).
    test : ``knha`` (Knapp–Hartung with t(k - p), metafor ``test="knha"``) or ``z``.

    Model ``y = Xβ + u + e``, ``u ~ N(0, τ²I)``, ``e ~ N(0, diag(v))``; with ``W = diag(1/(v + τ̂²))``:
    ``β̂ = (X'WX)⁻¹X'Wy``, ``Var(β̂) = s² (X'WX)⁻¹`` (``s² = 1`` under z, the Knapp–Hartung factor
    :func:`ketamine_meta.stats.batch.knha_factor` under knha) — ``metafor::rma.uni(yi, vi, mods=~...)``.

    With k = 1 (or k <= p) there is nothing to estimate τ² from: the result is the (first) study
    with a z interval, τ² = NaN, ``method`` ``"single study"``, and ``note`` says so. A τ² search
    that fails falls back to DL: ``method`` is then ``"DL"``, ``method_requested`` the estimator
    asked for, ``converged`` False, as metafor's documentation suggests for non-convergence.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {METHODS}")
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; use one of {TESTS}")
    y, v = as_vectors(yi, vi)
    X = np.ones((y.size, 1))
    if mods is not None:
        X = np.column_stack([X, np.asarray(mods, dtype=float).reshape(y.size, -1)])
    k, p = X.shape
    if p == 1 or k <= p:
        # intercept-only, or the saturated case reported as the first study: the batched core
        n = k if p == 1 else 1
        res = batch._pool_block(y[:n, None], v[:n, None], np.ones((n, 1)), np.array([float(n)]), method, test, level)
        return _from_core(res, method, test, k, p)
    return _rma_dense(y, v, X, method, test, level)


_FIRST = ("estimate", "se", "ci_low", "ci_high", "stat", "pval", "pi_low", "pi_high", "tau2", "i2", "h2", "q", "q_p")


def _from_core(res: dict, method: str, test: str, k: int, p: int) -> RmaResult:
    """One column of the batched core as an :class:`RmaResult`."""
    r = {name: res[name][0].item() for name in (*_FIRST, "df", "crit", "single", "converged")}
    lab = {name: val[0] for name, val in batch.labels(res, method, test).items()}
    note = lab["note"] if p == 1 else f"k={k}: single study, not pooled; z interval from its own variance"
    df = None if r["single"] or test == "z" else r["df"]
    one = ((r["estimate"],), (r["se"],), ((r["se"] ** 2,),))
    return _make_result(k, p, lab["method"], method, test, r, df, one, (None, None, None), r["converged"], note)


def _make_result(k, p, used, method, test, first, df, coefs, moderators, converged, note) -> RmaResult:
    """The result object; ``first`` holds the first coefficient's numbers under the core's names,
    ``coefs`` is (betas, ses, vcov) and ``moderators`` is (qm, qm_p, qm_df)."""
    f = {name: float(first[name]) for name in _FIRST}
    betas, ses, vcov = coefs
    qm, qm_p, qm_df = moderators
    return RmaResult(
        k=k,
        p=p,
        method=used,
        test=test,
        beta=f["estimate"],
        df=df,
        **{name: f[name] for name in _FIRST if name != "estimate"},
        qm=qm,
        qm_p=qm_p,
        qm_df=qm_df,
        betas=tuple(map(float, betas)),
        ses=tuple(map(float, ses)),
        vcov=tuple(tuple(map(float, row)) for row in vcov),
        crit=float(first["crit"]),
        converged=bool(converged),
        note=note,
        method_requested=method,
    )


def _p_matrix(X, w):
    """``P = W - W X (X'WX)^{-1} X' W`` and ``(X'WX)^{-1}``."""
    W = np.diag(w)
    xtwx_inv = np.linalg.inv(X.T @ W @ X)
    return W - W @ X @ xtwx_inv @ X.T @ W, xtwx_inv


def _rma_dense(y, v, X, method, test, level) -> RmaResult:
    """The general model with the dense ``P`` matrix (k > p); also fits intercept-only models
    (``X`` a column of ones), which the tests use as an independent check of the batched core."""
    k, p = X.shape
    tau2, _, conv = estimate(Dense(y, v, X), method)
    tau2, converged = float(tau2[0]), bool(conv[0])
    w = 1 / (v + tau2)
    _, vb = _p_matrix(X, w)
    beta = vb @ X.T @ (w * y)
    df = None
    if test == "knha":
        df = float(k - p)
        # metafor's scale factor from Σ w (y - Xβ)² (y'Py is the same number but cancels large terms)
        vb = vb * float(knha_factor(float(np.sum(w * (y - X @ beta) ** 2)), df))
    crit = float(critical(level, np.nan if df is None else df))
    ses = np.sqrt(np.diag(vb))
    stat, pvals = wald(beta, ses, np.nan if df is None else df)

    P0, _ = _p_matrix(X, 1 / v)
    # as metafor: y centred first (P0 annihilates the intercept column, so Q is unchanged in exact
    # arithmetic but cancels far less: identical studies give Q = 0, not ±1e-16) and truncated at 0
    yc = y - y.mean()
    q = max(0.0, float(yc @ P0 @ yc))
    i2, h2, q_p = (float(x) for x in heterogeneity(method, q, float(k - p), tau2, float(np.trace(P0))))

    qm = qm_p = qm_df = None
    zero_residual = ""
    if p > 1:
        b2, V2 = beta[1:], vb[1:, 1:]
        qm_df = (float(p - 1), df) if test == "knha" else (float(p - 1),)
        if np.linalg.matrix_rank(V2) < p - 1:
            # Knapp-Hartung with a model that fits every study exactly (s² = 0): the coefficients'
            # covariance is zero, so the omnibus test is undefined, not a crash (metafor's chol fails)
            qm = qm_p = float("nan")
            zero_residual = "moderator test not estimable: zero residual heterogeneity under Knapp-Hartung"
        elif test == "knha":
            qm = float(b2 @ np.linalg.solve(V2, b2)) / (p - 1)
            qm_p = float(special.fdtrc(p - 1, df, qm))
        else:
            qm = float(b2 @ np.linalg.solve(V2, b2))
            qm_p = float(special.chdtrc(p - 1, qm))
    half = crit * ses[0]
    pi_half = crit * np.sqrt(ses[0] ** 2 + tau2)
    first = {"estimate": beta[0], "se": ses[0], "ci_low": beta[0] - half, "ci_high": beta[0] + half}
    first |= {"stat": stat[0], "pval": pvals[0], "pi_low": beta[0] - pi_half, "pi_high": beta[0] + pi_half}
    first |= {"tau2": tau2, "i2": i2, "h2": h2, "q": q, "q_p": q_p, "crit": crit}
    used, note = (method, "") if converged else ("DL", batch.fallback_note(method))
    note = "; ".join(n for n in (note, zero_residual) if n)
    return _make_result(k, p, used, method, test, first, df, (beta, ses, vb), (qm, qm_p, qm_df), converged, note)
