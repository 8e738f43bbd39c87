"""Sensitivity diagnostics for a random-effects pooling, as metafor computes them.

Four functions, each returning a :class:`pandas.DataFrame`. The intercept-only refits of
:func:`leave1out`, :func:`influence` and :func:`cumulative` are fitted all at once by the batched
engine (:func:`ketamine_meta.stats.batch.pool_arrays`, one column per refit, the same core as
:func:`ketamine_meta.stats.pooling.rma`), so every refit uses the same τ² estimator and test as the main
analysis:

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
  (:func:`ketamine_meta.stats.pooling.rma` reports τ² as NaN there instead; it does not pool one study).
- :func:`cumulative` orders studies with a stable sort, as R's ``order()``: tied keys keep the
  input order.
- :func:`influence` sets residuals below ``100 * machine epsilon`` to 0 before studentizing.

What metafor stops on, these functions report: every table has a ``note`` column, empty when the
numbers are defined, else the reason they are NaN (``leave1out``/``influence`` with k = 1,
``regtest`` with k < 3 or with all sampling variances equal).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ketamine_meta.stats import batch
from ketamine_meta.stats.pooling import as_vectors as _as_arrays
from ketamine_meta.stats.pooling import rma

_EPS = np.finfo(float).eps
_FIT_COLUMNS = ["estimate", "se", "stat", "pval", "df", "ci_low", "ci_high", "q", "q_p", "tau2", "i2", "h2"]
#: how rma.uni reports a one-study fit (our engine reports no heterogeneity at all there)
_K1 = {"tau2": 0.0, "i2": 0.0, "h2": 1.0, "q": 0.0, "q_p": 1.0}
_K1_NOTE = "k=1: one study, reported as rma.uni reports it (z interval, tau2 = 0, Q = 0)"


def _labels(labels, k: int) -> list[str]:
    """metafor's default study labels are 1..k."""
    if labels is None:
        return [str(i + 1) for i in range(k)]
    out = [str(x) for x in labels]
    if len(out) != k:
        raise ValueError(f"labels has {len(out)} entries for {k} studies")
    return out


def _fits(Y, V, method: str, test: str, level: float) -> dict[str, np.ndarray]:
    """Intercept-only fits of the columns of NaN-padded (k, D) arrays, by the batched engine.

    k = 1 columns as ``rma.uni`` reports them (module docstring). Adds ``s2w``, the Knapp–Hartung
    factor of each fit (1 under z and for k = 1), recovered as ``se² · Σ w``.
    """
    res = batch.pool_arrays(Y, V, method=method, test=test, level=level, axis=0)
    out = {c: res[c].copy() for c in _FIT_COLUMNS}
    single = res["single"]
    for name, value in _K1.items():
        out[name][single] = value
    out["k"], out["converged"] = res["k"], res["converged"]
    out["note"] = batch.labels(res, method, test)["note"]
    out["note"][single] = _K1_NOTE
    with np.errstate(invalid="ignore"):
        sw = np.nansum(1 / (V + out["tau2"]), axis=0)
    out["s2w"] = np.where((test == "knha") & ~single, out["se"] ** 2 * sw, 1.0)
    return out


def _fit_frame(f: dict) -> pd.DataFrame:
    return pd.DataFrame({c: f[c] for c in ["k", *_FIT_COLUMNS, "converged", "note"]})


def _leave_one_out_arrays(y, v):
    """(k - 1, k) arrays whose column i holds every study but i."""
    k = y.size
    keep = ~np.eye(k, dtype=bool)
    idx = np.nonzero(keep.T)[1].reshape(k, k - 1).T
    return y[idx], v[idx]


_NOT_ESTIMABLE_K1 = "not estimable: k = 1, leaving the only study out leaves none"


def leave1out(yi, vi, labels=None, method: str = "REML", test: str = "knha", level: float = 0.95) -> pd.DataFrame:
    """Leave-one-out analysis: the model refitted with each study omitted in turn.

    Matches ``metafor::leave1out`` on an ``rma.uni`` fit (no moderators): row ``i`` is
    ``rma(yi[-i], vi[-i], method, test)``, with τ² re-estimated in every refit.

    Parameters
    ----------
    yi, vi : array-like
        Effect sizes and sampling variances. With k = 1 (metafor: 'Stopped because k = 1.') the
        one row is NaN with a ``note`` saying why.
    labels : sequence of str, optional
        Study labels (default ``"1"``..``"k"``, as metafor's ``slab``).
    method, test, level : str, str, float
        As :func:`ketamine_meta.stats.pooling.rma`.

    Returns
    -------
    pandas.DataFrame
        One row per omitted study, in input order. Columns: ``study`` (the omitted study),
        ``estimate``, ``se``, ``stat`` (z, or t under ``knha``: metafor's ``zval``/``tval``),
        ``pval``, ``df`` (k - 2 under ``knha``, NaN under ``z``), ``ci_low``, ``ci_high``,
        ``q`` and ``q_p`` (Cochran's Q of the remaining studies: metafor's ``Q``, ``Qp``),
        ``tau2``, ``i2`` (%), ``h2``, ``k`` (studies in the refit, k - 1), ``converged``
        (False when the refit's τ² estimator fell back to DL) and ``note``.
    """
    y, v = _as_arrays(yi, vi)
    names = _labels(labels, y.size)
    out = _fit_frame(_fits(*_leave_one_out_arrays(y, v), method, test, level))
    out.loc[out["k"] == 0, "note"] = _NOT_ESTIMABLE_K1
    out.insert(0, "study", names)
    return out


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
        Effect sizes and sampling variances; with k = 1 one NaN row whose ``note`` says why.
    labels : sequence of str, optional
        Study labels (default ``"1"``..``"k"``).
    method, test, level : str, str, float
        As :func:`ketamine_meta.stats.pooling.rma`.

    Returns
    -------
    pandas.DataFrame
        One row per study, in input order, columns ``study``, ``rstudent``, ``dffits``,
        ``cook_d``, ``cov_r``, ``tau2_del``, ``q_del``, ``hat``, ``weight``, ``dfbs``, ``inf``
        (bool; metafor prints ``*``) and ``note`` (the refit's).
    """
    y, v = _as_arrays(yi, vi)
    k, p = y.size, 1
    names = _labels(labels, k)
    if k < 2:
        nan = float("nan")
        row = dict.fromkeys(
            ["rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "q_del", "hat", "weight", "dfbs"], nan
        )
        return pd.DataFrame([{"study": names[0], **row, "inf": False, "note": _NOT_ESTIMABLE_K1}])
    full = _fits(y[:, None], v[:, None], method, test, level)
    d = _fits(*_leave_one_out_arrays(y, v), method, test, level)
    w = 1 / (v + full["tau2"][0])
    hat = w / w.sum()
    var_b = full["se"][0] ** 2
    resid = y - d["estimate"]
    resid = np.where(np.abs(resid) < 100 * _EPS, 0.0, resid)
    diff = full["estimate"][0] - d["estimate"]
    # DFBETAS uses Σ_j 1/(v_j + τ²_(-i)) over all k studies, as metafor
    vb_del_all = 1 / (1 / (v[:, None] + d["tau2"][None, :])).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame(
            {
                "study": names,
                "rstudent": resid / np.sqrt(d["s2w"] * (v + d["tau2"]) + d["se"] ** 2),
                "dffits": diff / np.sqrt(d["s2w"] * hat * (d["tau2"] + v)),
                "cook_d": diff**2 / var_b,
                "cov_r": d["se"] ** 2 / var_b,
                "tau2_del": d["tau2"],
                "q_del": d["q"],
                "hat": hat,
                "weight": 100 * hat,
                "dfbs": diff / np.sqrt(d["s2w"] * vb_del_all),
            }
        )
    out["inf"] = (
        (out["dffits"].abs() > 3 * np.sqrt(p / (k - p)))
        | (special.chdtr(p, out["cook_d"]) > 0.5)
        | (out["hat"] > 3 * p / k)
        | (out["dfbs"].abs() > 1)
    )
    out["note"] = d["note"]
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
        Effect sizes and sampling variances. With k < 3, or all ``vi`` equal (no spread in
        precision: the slope is not identifiable), every number is NaN and ``note`` says why.
    method, test, level : str, str, float
        As :func:`ketamine_meta.stats.pooling.rma`.

    Returns
    -------
    pandas.DataFrame
        One row: ``stat`` (metafor's ``zval``, a t statistic under ``knha``), ``pval``, ``df``
        (k - 2 under ``knha``, NaN under ``z``), ``slope`` and ``slope_se`` (b1), ``limit_estimate``,
        ``limit_se``, ``ci_low``, ``ci_high`` (b0 and its interval), ``tau2`` (residual τ²),
        ``k``, ``model`` (``"rma"``), ``predictor`` (``"sei"``) and ``note`` (empty, or why the
        numbers are NaN, or the fit's fallback note).
    """
    y, v = _as_arrays(yi, vi)
    sei = np.sqrt(v)
    k = y.size
    note = ""
    if k < 3:
        note = f"not estimable: k = {k}; Egger's test needs k >= 3 (a slope, an intercept and a residual df)"
    elif np.linalg.matrix_rank(np.column_stack([np.ones_like(sei), sei])) < 2:
        note = "undefined: all sampling variances are equal, so precision has no spread to regress on"
    nan = float("nan")
    row = dict.fromkeys(["stat", "pval", "df", "slope", "slope_se", "limit_estimate", "limit_se"], nan)
    row |= dict.fromkeys(["ci_low", "ci_high", "tau2"], nan)
    if not note:
        r = rma(y, v, mods=sei, method=method, test=test, level=level)
        slope, slope_se = r.betas[1], r.ses[1]
        stat, pval = batch.wald(slope, slope_se, nan if r.df is None else r.df)
        row = {
            "stat": float(stat),
            "pval": float(pval),
            "df": nan if r.df is None else r.df,
            "slope": slope,
            "slope_se": slope_se,
            "limit_estimate": r.beta,
            "limit_se": r.se,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "tau2": r.tau2,
        }
        note = r.note
    return pd.DataFrame([row | {"k": k, "model": "rma", "predictor": "sei", "note": note}])


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
        As :func:`ketamine_meta.stats.pooling.rma`.

    Returns
    -------
    pandas.DataFrame
        One row per step, in the cumulative order. Columns: ``study`` (the study added at that
        step), ``order_key``, ``k`` (studies pooled so far), ``estimate``, ``se``, ``stat`` (z or
        t: metafor's ``zval``/``tval``), ``pval``, ``df`` (k - 1 under ``knha``; NaN under ``z``
        and at k = 1), ``ci_low``, ``ci_high``, ``q``, ``q_p``, ``tau2``, ``i2`` (%), ``h2``,
        ``converged`` and ``note``.
    """
    y, v = _as_arrays(yi, vi)
    names = _labels(labels, y.size)
    key = np.arange(y.size, dtype=float) if order_key is None else np.asarray(order_key, dtype=float).ravel()
    if key.size != y.size:
        raise ValueError(f"order_key has {key.size} entries for {y.size} studies")
    order = np.argsort(key, kind="stable")
    # column j holds the first j + 1 studies in the cumulative order, NaN below
    steps = np.arange(y.size)
    grown = steps[:, None] <= steps[None, :]
    Y = np.where(grown, y[order][:, None], np.nan)
    V = np.where(grown, v[order][:, None], np.nan)
    out = _fit_frame(_fits(Y, V, method, test, level))
    out.insert(0, "order_key", key[order])
    out.insert(0, "study", [names[i] for i in order])
    return out[["study", "order_key", "k", *_FIT_COLUMNS, "converged", "note"]]
