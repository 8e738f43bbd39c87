"""Random-effects pooling and meta-regression, as ``metafor::rma.uni`` and ``predict.rma`` do it.

One function, :func:`rma`, fits the model ``y_i = x_i'β + u_i + e_i`` with ``u_i ~ N(0, τ²)`` and
``e_i ~ N(0, v_i)``. The τ² estimators use metafor's names (``REML``, ``DL``, ``PM``, ``ML``,
``SJ``, ``HE``, and ``EE`` for the equal-effects model); tests use ``z`` or ``knha``
(Knapp–Hartung, no truncation: metafor's ``test="knha"``). Iterative estimators are solved by
bracketing the root of their estimating equation to machine precision rather than by metafor's
Fisher scoring, so they agree with metafor wherever metafor converges.

Why our own engine rather than PyMARE's estimators alone: PyMARE has no PM, SJ or HE estimator,
reports Q-based I², and does not give Knapp–Hartung prediction intervals; the tests check that
both agree where they overlap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize, stats

METHODS = ("REML", "DL", "PM", "ML", "SJ", "HE", "EE")
TESTS = ("z", "knha")


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

    def as_dict(self) -> dict:
        return asdict(self)


def _p_matrix(X, w):
    """``P = W - W X (X'WX)^{-1} X' W`` and ``(X'WX)^{-1}``."""
    W = np.diag(w)
    xtwx_inv = np.linalg.inv(X.T @ W @ X)
    return W - W @ X @ xtwx_inv @ X.T @ W, xtwx_inv


def _q_gen(y, v, X, tau2):
    P, _ = _p_matrix(X, 1 / (v + tau2))
    return float(y @ P @ y)


def _reml_score(y, v, X, tau2):
    P, _ = _p_matrix(X, 1 / (v + tau2))
    Py = P @ y
    return float(Py @ Py - np.trace(P))


def _ml_score(y, v, X, tau2):
    w = 1 / (v + tau2)
    P, _ = _p_matrix(X, w)
    Py = P @ y
    return float(Py @ Py - w.sum())


def _root_from_zero(f, v):
    """Root of a function positive at τ² = 0 and eventually negative: bracket, then Brent."""
    hi = max(float(np.max(v)), 1e-4)
    for _ in range(200):
        if f(hi) < 0:
            return optimize.brentq(f, 0.0, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
        hi *= 2
    raise RuntimeError("no sign change of the estimating equation")


def tau2_estimate(y, v, X, method: str) -> float:
    """τ² by ``method`` (metafor's estimator definitions, truncated at 0)."""
    k, p = X.shape
    if method == "EE":
        return 0.0
    if method == "DL":
        P0, _ = _p_matrix(X, 1 / v)
        return max(0.0, (float(y @ P0 @ y) - (k - p)) / float(np.trace(P0)))
    if method == "HE":
        H = np.eye(k) - X @ np.linalg.pinv(X.T @ X) @ X.T
        rss = float(y @ H @ y)
        return max(0.0, (rss - float(np.trace(H @ np.diag(v)))) / (k - p))
    if method == "SJ":
        # metafor starts from the unweighted variance of y (denominator k), whatever X is.
        tau2_0 = float(np.var(y))
        if tau2_0 == 0:
            return 0.0
        P, _ = _p_matrix(X, 1 / (v + tau2_0))
        # y'Py >= 0 in exact arithmetic, but for studies equal up to an ulp it rounds to -1e-33 and
        # τ² came out negative (-1e-46), making the prediction interval NaN: truncate at 0 like the rest
        return max(0.0, tau2_0 * float(y @ P @ y) / (k - p))
    if method == "PM":
        if _q_gen(y, v, X, 0.0) <= k - p:
            return 0.0
        return _root_from_zero(lambda t: _q_gen(y, v, X, t) - (k - p), v)
    if method in ("REML", "ML"):
        score = _reml_score if method == "REML" else _ml_score
        if score(y, v, X, 0.0) <= 0:
            return 0.0
        return _root_from_zero(lambda t: score(y, v, X, t), v)
    raise ValueError(f"unknown method {method!r}; use one of {METHODS}")


def rma(yi, vi, mods=None, method: str = "REML", test: str = "knha", level: float = 0.95) -> RmaResult:
    """Fit a random-effects (or mixed-effects) model like ``metafor::rma.uni``.

    Parameters
    ----------
    yi, vi : effect sizes and sampling variances (1-D, same length k >= 1).
    mods : optional (k, m) array of moderators; an intercept is always added.
    method : τ² estimator, metafor's name (``REML`` default).
    test : ``knha`` (Knapp–Hartung with t(k - p), metafor ``test="knha"``) or ``z``.

    With k = 1 (or k = p) there is nothing to estimate τ² from: the result is the single study
    with a z interval, τ² = NaN, and ``note`` says so. A τ² estimator that fails falls back to DL
    and sets ``converged=False``, as metafor's documentation suggests for non-convergence.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {METHODS}")
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; use one of {TESTS}")
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if y.shape != v.shape or y.size == 0:
        raise ValueError("yi and vi must be non-empty and of equal length")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise ValueError("yi must be finite and vi finite and > 0")
    X = np.ones((y.size, 1))
    if mods is not None:
        X = np.column_stack([X, np.asarray(mods, dtype=float).reshape(y.size, -1)])
    k, p = X.shape
    alpha = 1 - level
    zcrit = float(stats.norm.ppf(1 - alpha / 2))
    if k <= p:
        return _saturated(y, v, X, method, test, zcrit)

    converged, note = True, ""
    try:
        tau2 = tau2_estimate(y, v, X, method)
    except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
        tau2, converged = tau2_estimate(y, v, X, "DL"), False
        note = f"{method} failed ({exc}); fell back to DL"
    w = 1 / (v + tau2)
    P, vb = _p_matrix(X, w)
    beta = vb @ X.T @ (w * y)
    df = None
    if test == "knha":
        df = float(k - p)
        # metafor's scale factor: the weighted residual sum of squares Σ w (y - Xβ)², taken as 0 when
        # it is <= machine epsilon. y'Py is the same number mathematically, but it cancels large
        # terms, so identical studies got SE ~1e-9 (varying with study order) instead of metafor's 0.
        rss = float(np.sum(w * (y - X @ beta) ** 2))
        vb = vb * (0.0 if rss <= np.finfo(float).eps else rss / (k - p))
        crit = float(stats.t.ppf(1 - alpha / 2, df))
    else:
        crit = zcrit
    ses = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        # identical studies under knha give SE 0 (metafor too): the statistic is infinite
        stat = np.where(ses > 0, beta / np.where(ses > 0, ses, 1.0), np.copysign(np.inf, beta))
    pvals = 2 * (stats.t.sf(np.abs(stat), df) if df else stats.norm.sf(np.abs(stat)))

    P0, _ = _p_matrix(X, 1 / v)
    # as metafor: y centred first (P0 annihilates the intercept column, so Q is unchanged in exact
    # arithmetic but cancels far less: identical studies give Q = 0, not ±1e-16) and truncated at 0
    yc = y - y.mean()
    q = max(0.0, float(yc @ P0 @ yc))
    q_p = float(stats.chi2.sf(q, k - p))
    if method == "EE":
        i2 = max(0.0, 100 * (q - (k - p)) / q) if q > 0 else 0.0
        h2 = q / (k - p)
    else:
        vt = (k - p) / float(np.trace(P0))
        i2 = 100 * tau2 / (tau2 + vt)
        h2 = (tau2 + vt) / vt

    qm = qm_p = qm_df = None
    if p > 1:
        b2, V2 = beta[1:], vb[1:, 1:]
        qm = float(b2 @ np.linalg.solve(V2, b2))
        if test == "knha":
            qm = qm / (p - 1)
            qm_df = (float(p - 1), df)
            qm_p = float(stats.f.sf(qm, p - 1, df))
        else:
            qm_df = (float(p - 1),)
            qm_p = float(stats.chi2.sf(qm, p - 1))
    pi_half = crit * np.sqrt(ses[0] ** 2 + tau2)
    return RmaResult(
        k=k,
        p=p,
        method=method,
        test=test,
        beta=float(beta[0]),
        se=float(ses[0]),
        ci_low=float(beta[0] - crit * ses[0]),
        ci_high=float(beta[0] + crit * ses[0]),
        stat=float(stat[0]),
        pval=float(pvals[0]),
        df=df,
        pi_low=float(beta[0] - pi_half),
        pi_high=float(beta[0] + pi_half),
        tau2=float(tau2),
        i2=float(i2),
        h2=float(h2),
        q=q,
        q_p=q_p,
        qm=qm,
        qm_p=qm_p,
        qm_df=qm_df,
        betas=tuple(map(float, beta)),
        ses=tuple(map(float, ses)),
        vcov=tuple(tuple(map(float, r)) for r in vb),
        crit=crit,
        converged=converged,
        note=note,
    )


def _saturated(y, v, X, method, test, zcrit) -> RmaResult:
    """k <= p: report the (first) study itself; no heterogeneity can be estimated."""
    beta, se = float(y[0]), float(np.sqrt(v[0]))
    nan = float("nan")
    return RmaResult(
        k=y.size,
        p=X.shape[1],
        method=method,
        test=test,
        beta=beta,
        se=se,
        ci_low=beta - zcrit * se,
        ci_high=beta + zcrit * se,
        stat=beta / se,
        pval=float(2 * stats.norm.sf(abs(beta / se))),
        df=None,
        pi_low=nan,
        pi_high=nan,
        tau2=nan,
        i2=nan,
        h2=nan,
        q=nan,
        q_p=nan,
        qm=None,
        qm_p=None,
        qm_df=None,
        betas=(beta,),
        ses=(se,),
        vcov=((se**2,),),
        crit=zcrit,
        note=f"k={y.size}: single study, not pooled; z interval from its own variance",
    )


from .batch import pool_many  # noqa: E402,F401  (batched engine, same results)
