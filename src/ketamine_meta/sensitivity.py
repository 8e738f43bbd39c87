"""Sensitivity diagnostics for a random-effects pooling, as metafor computes them.

Four functions, each returning a :class:`pandas.DataFrame` and each refitting with
:func:`ketamine_meta.pooling.rma` (so every refit uses the same τ² estimator and test as the main
analysis):

- :func:`leave1out` — the pooled result with each study omitted in turn (``metafor::leave1out``);
- :func:`influence` — case-deletion diagnostics (``metafor::influence.rma.uni``);
- :func:`regtest` — Egger's regression test for funnel-plot asymmetry (``metafor::regtest``);
- :func:`cumulative` — cumulative meta-analysis in a given order (``metafor::cumul``).

All are for intercept-only models (metafor's ``leave1out`` and ``cumul`` refuse others).
Notation: ``w_i = 1/(v_i + τ̂²)`` are the random-effects weights, ``b`` the pooled estimate and
``Var(b)`` its variance (multiplied by the Knapp–Hartung factor ``s²_w`` under ``test="knha"``),
and a subscript ``(-i)`` marks the refit without study ``i``.

metafor behaviour replicated on purpose:

- A refit with k = 1 (the first step of :func:`cumulative`, or any deletion from k = 2) is what
  ``rma.uni`` gives for one study: test forced to ``z``, ``tau2 = 0``, ``q = 0``, ``q_p = 1``,
  ``i2 = 0``, ``h2 = 1`` and a z interval from the study's own variance
  (:func:`ketamine_meta.pooling.rma` reports τ² as NaN there instead; it does not pool one study).
- :func:`cumulative` orders studies with a stable sort, as R's ``order()``: tied keys keep the
  input order.
- :func:`influence` sets residuals below ``100 * machine epsilon`` to 0 before studentizing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ketamine_meta.pooling import rma

_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class _Fit:
    """The pieces of one intercept-only refit that the diagnostics need."""

    k: int
    test: str
    estimate: float
    se: float
    stat: float
    pval: float
    df: float
    ci_low: float
    ci_high: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_p: float
    s2w: float  # Knapp–Hartung scale factor (1 under z)
    converged: bool


def _as_arrays(yi, vi) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if y.shape != v.shape or y.size == 0:
        raise ValueError("yi and vi must be non-empty and of equal length")
    return y, v


def _labels(labels, k: int) -> list[str]:
    """metafor's default study labels are 1..k."""
    if labels is None:
        return [str(i + 1) for i in range(k)]
    out = [str(x) for x in labels]
    if len(out) != k:
        raise ValueError(f"labels has {len(out)} entries for {k} studies")
    return out


def _fit(y, v, method: str, test: str, level: float) -> _Fit:
    """Intercept-only :func:`rma` fit; k = 1 as ``rma.uni`` reports it (see module docstring)."""
    if y.size == 1:
        crit = float(stats.norm.ppf(1 - (1 - level) / 2))
        b, se = float(y[0]), float(np.sqrt(v[0]))
        z = b / se
        return _Fit(
            k=1,
            test="z",
            estimate=b,
            se=se,
            stat=z,
            pval=float(2 * stats.norm.sf(abs(z))),
            df=float("nan"),
            ci_low=b - crit * se,
            ci_high=b + crit * se,
            tau2=0.0,
            i2=0.0,
            h2=1.0,
            q=0.0,
            q_p=1.0,
            s2w=1.0,
            converged=True,
        )
    r = rma(y, v, method=method, test=test, level=level)
    s2w = 1.0
    if test == "knha":
        # pooling scales Var(b) = 1/Σw by s²_w; recover the factor from the fit itself
        s2w = r.se**2 * float(np.sum(1 / (v + r.tau2)))
    return _Fit(
        k=r.k,
        test=test,
        estimate=r.beta,
        se=r.se,
        stat=r.stat,
        pval=r.pval,
        df=float("nan") if r.df is None else r.df,
        ci_low=r.ci_low,
        ci_high=r.ci_high,
        tau2=r.tau2,
        i2=r.i2,
        h2=r.h2,
        q=r.q,
        q_p=r.q_p,
        s2w=s2w,
        converged=r.converged,
    )


_FIT_COLUMNS = ["estimate", "se", "stat", "pval", "df", "ci_low", "ci_high", "q", "q_p", "tau2", "i2", "h2"]


def _fit_row(f: _Fit) -> dict:
    return {c: getattr(f, c) for c in _FIT_COLUMNS} | {"k": f.k, "converged": f.converged}


def leave1out(yi, vi, labels=None, method: str = "REML", test: str = "knha", level: float = 0.95) -> pd.DataFrame:
    """Leave-one-out analysis: the model refitted with each study omitted in turn.

    Matches ``metafor::leave1out`` on an ``rma.uni`` fit (no moderators): row ``i`` is
    ``rma(yi[-i], vi[-i], method, test)``, with τ² re-estimated in every refit.

    Parameters
    ----------
    yi, vi : array-like
        Effect sizes and sampling variances (k >= 2).
    labels : sequence of str, optional
        Study labels (default ``"1"``..``"k"``, as metafor's ``slab``).
    method, test, level : str, str, float
        As :func:`ketamine_meta.pooling.rma`.

    Returns
    -------
    pandas.DataFrame
        One row per omitted study, in input order. Columns: ``study`` (the omitted study),
        ``estimate``, ``se``, ``stat`` (z, or t under ``knha``: metafor's ``zval``/``tval``),
        ``pval``, ``df`` (k - 2 under ``knha``, NaN under ``z``), ``ci_low``, ``ci_high``,
        ``q`` and ``q_p`` (Cochran's Q of the remaining studies: metafor's ``Q``, ``Qp``),
        ``tau2``, ``i2`` (%), ``h2``, ``k`` (studies in the refit, k - 1) and ``converged``
        (False when the refit's τ² estimator fell back to DL).
    """
    y, v = _as_arrays(yi, vi)
    if y.size < 2:
        raise ValueError("leave1out needs k >= 2 (metafor: 'Stopped because k = 1.')")
    names = _labels(labels, y.size)
    rows = []
    for i in range(y.size):
        keep = np.arange(y.size) != i
        rows.append({"study": names[i]} | _fit_row(_fit(y[keep], v[keep], method, test, level)))
    return pd.DataFrame(rows)


def influence(yi, vi, labels=None, method: str = "REML", test: str = "knha", level: float = 0.95) -> pd.DataFrame:
    """Case-deletion influence diagnostics of a random-effects model.

    Matches ``metafor::influence.rma.uni`` (intercept-only model, so ``p = 1``). With ``b``, ``w``
    and ``Var(b)`` from the full fit and ``b_(-i)``, ``τ²_(-i)``, ``s²_w(-i)`` and ``Var(b_(-i))``
    from the refit without study ``i`` (``s²_w`` the Knapp–Hartung factor, 1 under ``z``;
    ``Var`` includes it):

    - ``rstudent`` = ``(y_i - b_(-i)) / sqrt(s²_w(-i) (v_i + τ²_(-i)) + Var(b_(-i)))``
      (externally studentized residual; residuals below ``100·eps`` are set to 0, as metafor);
    - ``dffits`` = ``(b - b_(-i)) / sqrt(s²_w(-i) · hat_i · (τ²_(-i) + v_i))``;
    - ``cook_d`` = ``(b - b_(-i))² / Var(b)``;
    - ``cov_r`` = ``Var(b_(-i)) / Var(b)`` (covariance ratio; < 1 means omitting i sharpens b);
    - ``tau2_del``, ``q_del`` = ``τ²_(-i)`` and Cochran's Q of the refit (metafor's ``QE.del``);
    - ``hat`` = ``w_i / Σw``; ``weight`` = ``100 · w_i / Σw`` (percent);
    - ``dfbs`` = ``(b - b_(-i)) / sqrt(s²_w(-i) / Σ_j 1/(v_j + τ²_(-i)))`` (DFBETAS; the sum
      runs over all k studies);
    - ``inf`` = metafor's rule: ``|dffits| > 3 sqrt(p/(k-p))`` or ``P(χ²₁ <= cook_d) > 0.5``
      or ``hat > 3p/k`` or ``|dfbs| > 1``.

    Parameters
    ----------
    yi, vi : array-like
        Effect sizes and sampling variances (k >= 2).
    labels : sequence of str, optional
        Study labels (default ``"1"``..``"k"``).
    method, test, level : str, str, float
        As :func:`ketamine_meta.pooling.rma`.

    Returns
    -------
    pandas.DataFrame
        One row per study, in input order, columns ``study``, ``rstudent``, ``dffits``,
        ``cook_d``, ``cov_r``, ``tau2_del``, ``q_del``, ``hat``, ``weight``, ``dfbs`` and ``inf``
        (bool; metafor prints ``*``).
    """
    y, v = _as_arrays(yi, vi)
    k, p = y.size, 1
    if k < 2:
        raise ValueError("influence needs k >= 2 (metafor: 'Stopped because k = 1.')")
    names = _labels(labels, k)
    full = rma(y, v, method=method, test=test, level=level)
    w = 1 / (v + full.tau2)
    hat = w / w.sum()
    var_b = full.se**2
    rows = []
    for i in range(k):
        keep = np.arange(k) != i
        d = _fit(y[keep], v[keep], method, test, level)
        resid = y[i] - d.estimate
        if abs(resid) < 100 * _EPS:
            resid = 0.0
        diff = full.beta - d.estimate
        vb_del_all = 1 / float(np.sum(1 / (v + d.tau2)))
        rows.append(
            {
                "study": names[i],
                "rstudent": resid / np.sqrt(d.s2w * (v[i] + d.tau2) + d.se**2),
                "dffits": diff / np.sqrt(d.s2w * hat[i] * (d.tau2 + v[i])),
                "cook_d": diff**2 / var_b,
                "cov_r": d.se**2 / var_b,
                "tau2_del": d.tau2,
                "q_del": d.q,
                "hat": hat[i],
                "weight": 100 * hat[i],
                "dfbs": diff / np.sqrt(d.s2w * vb_del_all),
            }
        )
    out = pd.DataFrame(rows)
    out["inf"] = (
        (out["dffits"].abs() > 3 * np.sqrt(p / (k - p)))
        | (stats.chi2.cdf(out["cook_d"], p) > 0.5)
        | (out["hat"] > 3 * p / k)
        | (out["dfbs"].abs() > 1)
    )
    return out


def regtest(yi, vi, method: str = "REML", test: str = "knha", level: float = 0.95) -> pd.DataFrame:
    """Egger's regression test for funnel-plot asymmetry, random-effects version.

    Matches ``metafor::regtest`` with its defaults ``model="rma"``, ``predictor="sei"``: the
    meta-regression ``y_i = b0 + b1·sqrt(v_i) + u_i + e_i`` is fitted with the same τ² estimator
    and test as the main model; the test is ``b1 / SE(b1)`` (z, or t with k - 2 df under
    ``knha``), and ``b0`` is the *limit estimate*, the predicted effect of an infinitely precise
    study (sei = 0), with its interval from the same fit.

    Parameters
    ----------
    yi, vi : array-like
        Effect sizes and sampling variances (k >= 3, and not all ``vi`` equal).
    method, test, level : str, str, float
        As :func:`ketamine_meta.pooling.rma`.

    Returns
    -------
    pandas.DataFrame
        One row: ``stat`` (metafor's ``zval``, a t statistic under ``knha``), ``pval``, ``df``
        (k - 2 under ``knha``, NaN under ``z``), ``slope`` and ``slope_se`` (b1), ``limit_estimate``,
        ``limit_se``, ``ci_low``, ``ci_high`` (b0 and its interval), ``tau2`` (residual τ²),
        ``k``, ``model`` (``"rma"``) and ``predictor`` (``"sei"``).
    """
    y, v = _as_arrays(yi, vi)
    sei = np.sqrt(v)
    if y.size < 3 or np.linalg.matrix_rank(np.column_stack([np.ones_like(sei), sei])) < 2:
        raise ValueError("regtest needs k >= 3 and unequal vi (the model matrix must stay of full rank)")
    r = rma(y, v, mods=sei, method=method, test=test, level=level)
    slope, slope_se = r.betas[1], r.ses[1]
    stat = slope / slope_se
    pval = float(2 * (stats.t.sf(abs(stat), r.df) if test == "knha" else stats.norm.sf(abs(stat))))
    return pd.DataFrame(
        [
            {
                "stat": stat,
                "pval": pval,
                "df": float("nan") if r.df is None else r.df,
                "slope": slope,
                "slope_se": slope_se,
                "limit_estimate": r.beta,
                "limit_se": r.se,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "tau2": r.tau2,
                "k": r.k,
                "model": "rma",
                "predictor": "sei",
            }
        ]
    )


def cumulative(
    yi, vi, order_key=None, labels=None, method: str = "REML", test: str = "knha", level: float = 0.95
) -> pd.DataFrame:
    """Cumulative meta-analysis: studies added one at a time in the order of ``order_key``.

    Matches ``metafor::cumul(fit, order=order_key)``: studies are sorted by ``order_key``
    (ascending, stable, so ties keep the input order as R's ``order()`` does; no key keeps the
    input order) and step ``j`` is ``rma`` on the first ``j`` studies. Step 1 is a single study,
    reported as ``rma.uni`` does for k = 1 (test ``z``, τ² = 0, Q = 0, Q p = 1, I² = 0, H² = 1).

    Parameters
    ----------
    yi, vi : array-like
        Effect sizes and sampling variances.
    order_key : array-like, optional
        Sort key per study (e.g. publication year); sort on a negated key for descending order.
    labels : sequence of str, optional
        Study labels (default ``"1"``..``"k"``).
    method, test, level : str, str, float
        As :func:`ketamine_meta.pooling.rma`.

    Returns
    -------
    pandas.DataFrame
        One row per step, in the cumulative order. Columns: ``study`` (the study added at that
        step), ``order_key``, ``k`` (studies pooled so far), ``estimate``, ``se``, ``stat`` (z or
        t: metafor's ``zval``/``tval``), ``pval``, ``df`` (k - 1 under ``knha``; NaN under ``z``
        and at k = 1), ``ci_low``, ``ci_high``, ``q``, ``q_p``, ``tau2``, ``i2`` (%), ``h2`` and
        ``converged``.
    """
    y, v = _as_arrays(yi, vi)
    names = _labels(labels, y.size)
    key = np.arange(y.size, dtype=float) if order_key is None else np.asarray(order_key, dtype=float).ravel()
    if key.size != y.size:
        raise ValueError(f"order_key has {key.size} entries for {y.size} studies")
    order = np.argsort(key, kind="stable")
    rows = []
    for j in range(1, y.size + 1):
        idx = order[:j]
        last = order[j - 1]
        rows.append(
            {"study": names[last], "order_key": key[last]} | _fit_row(_fit(y[idx], v[idx], method, test, level))
        )
    out = pd.DataFrame(rows)
    return out[["study", "order_key", "k", *_FIT_COLUMNS, "converged"]]
