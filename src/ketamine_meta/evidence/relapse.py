"""Durability after response: proportions relapsed by a follow-up window, and times to relapse.

Proportions are pooled per condition (what responders received afterwards) x induction (one dose
or a course before follow-up; ``any`` pools both) x window (config ``relapse.windows``), one row
per study (the follow-up closest to the window's nominal day), by ``relapse.method``:

* ``glmm`` (primary): the binomial-normal random-effects model, ``logit(p_i) = mu + u_i``,
  ``u_i ~ N(0, tau^2)``, ``x_i ~ Bin(n_i, p_i)``, fitted by maximum likelihood with adaptive
  Gauss-Hermite quadrature, Wald (z) interval for ``mu``: as ``metafor::rma.glmm(measure="PLO")``.
  It uses the counts themselves, so it needs no 0.5 correction and behaves at k = 2, where a
  logit ``rma.uni`` with Knapp-Hartung gives an interval that is an accident of Q (Stijnen et al.
  2010; Cochrane Handbook 10.4.4.3).
* ``exact``: the counts summed (a common proportion) with a Clopper-Pearson interval; narrower, it
  ignores between-study differences, so it is a sensitivity analysis.

Single-study proportions carry a Wilson (or Clopper-Pearson) interval from
``statsmodels.stats.proportion``, which is defined at 0/n and n/n. Median times are reported per
study with the interval the study printed (never a zero-width interval), and a Kaplan-Meier median
where ``km/<study>_<condition>.csv`` holds a printed table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special

from ketamine_meta.core.settings import Config
from ketamine_meta.stats.effects import proportion_ci

STUDY_COLUMNS = [
    "study_id",
    "condition",
    "induction",
    "cohort",
    "window",
    "followup_days",
    "n_responders",
    "n_relapsed",
    "proportion",
    "ci_low",
    "ci_high",
    "ci_method",
    "counted",
    "relapse_definition",
    "source_row",
]
POOLED_COLUMNS = [
    "analysis_id",
    "condition",
    "induction",
    "cohort",
    "window",
    "k",
    "n_participants",
    "events",
    "estimate",
    "ci_low",
    "ci_high",
    "tau2",
    "method",
    "ci_method",
    "studies",
    "note",
]
MEDIAN_COLUMNS = [
    "study_id",
    "condition",
    "induction",
    "median_days",
    "ci_low",
    "ci_high",
    "source",
    "n_responders",
    "source_row",
]

#: Gauss-Hermite nodes for the adaptive quadrature (probabilists' weight exp(-z^2/2)).
_GH_NODES, _GH_WEIGHTS = special.roots_hermitenorm(40)


def window_of(days: float, windows: dict) -> str | None:
    for name, w in windows.items():
        if w.low_days <= days <= w.high_days:
            return name
    return None


def _induction(r) -> str:
    v = r.get("induction")
    return v if isinstance(v, str) and v else "unknown"


def cohort_of(r) -> str:
    """``remitters`` when the followed-up group was defined by remission, else ``responders``:
    remitters relapse less often, so the two are pooled apart."""
    text = " ".join(str(r.get(c) or "") for c in ("responder_definition", "relapse_definition")).lower()
    return "remitters" if "remitter" in text or "remission" in text.split("relapse")[0] else "responders"


def relapse_by_study(relapse: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Per-study proportions with a Wilson (or Clopper-Pearson) 95% interval, assigned to windows;
    rows that print only a percentage are kept (``counted`` False, no interval) for the descriptive
    shares, and never enter a pooled proportion."""
    windows = cfg.relapse.windows
    method = cfg.relapse.study_ci
    rows = []
    for _, r in relapse.iterrows():
        if pd.isna(r["followup_days"]):
            continue
        counted = pd.notna(r["n_relapsed"]) and pd.notna(r["n_responders"])
        if counted:
            x, n = int(r["n_relapsed"]), int(r["n_responders"])
            p = x / n
            lo, hi = proportion_ci(x, n, method)
        elif pd.notna(r.get("proportion_relapsed")):
            x, n, p, lo, hi = np.nan, r["n_responders"], float(r["proportion_relapsed"]), np.nan, np.nan
        else:
            continue
        rows.append(
            {
                "study_id": r["study_id"],
                "condition": r["condition"],
                "induction": _induction(r),
                "cohort": cohort_of(r),
                "window": window_of(float(r["followup_days"]), windows) or "",
                "followup_days": float(r["followup_days"]),
                "n_responders": float(n) if pd.notna(n) else np.nan,
                "n_relapsed": float(x) if counted else np.nan,
                "proportion": p,
                "ci_low": float(lo) if counted else np.nan,
                "ci_high": float(hi) if counted else np.nan,
                "ci_method": {"wilson": "Wilson", "beta": "Clopper-Pearson"}[method] if counted else "",
                "counted": counted,
                "relapse_definition": r["relapse_definition"],
                "source_row": f"relapse.csv:{int(r['_row'])}",
            }
        )
    out = pd.DataFrame(rows, columns=STUDY_COLUMNS)
    return out.sort_values(["condition", "induction", "study_id", "followup_days"]).reset_index(drop=True)


def _log_marginal(mu: float, tau: float, x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """log of ``∫ Bin(x | n, expit(mu + tau z)) φ(z) dz`` per study, by adaptive Gauss-Hermite
    quadrature centred on the mode of the integrand (exact to ~1e-12 for these integrands)."""
    logc = special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
    if tau < 1e-10:
        eta = np.full_like(x, mu, dtype=float)
        return logc + x * eta - n * np.logaddexp(0, eta)
    # mode of h(z) = x eta - n log(1+e^eta) - z^2/2, eta = mu + tau z, by Newton steps
    z = np.zeros_like(x, dtype=float)
    for _ in range(50):
        p = special.expit(mu + tau * z)
        g = tau * (x - n * p) - z
        h = -(tau**2) * n * p * (1 - p) - 1
        step = g / h
        z -= step
        if np.max(np.abs(step)) < 1e-12:
            break
    p = special.expit(mu + tau * z)
    s = 1 / np.sqrt(tau**2 * n * p * (1 - p) + 1)
    zz = z[:, None] + s[:, None] * _GH_NODES[None, :]
    eta = mu + tau * zz
    logf = x[:, None] * eta - n[:, None] * np.logaddexp(0, eta) - zz**2 / 2 + _GH_NODES[None, :] ** 2 / 2
    m = logf.max(axis=1, keepdims=True)
    integral = np.log((np.exp(logf - m) * _GH_WEIGHTS[None, :]).sum(axis=1)) + m[:, 0]
    return logc + np.log(s) + integral - 0.5 * np.log(2 * np.pi)


def glmm_plo(x, n, level: float = 0.95) -> dict:
    """Binomial-normal random-effects pooling of proportions by maximum likelihood.

    Matches ``metafor::rma.glmm(xi, ni, measure="PLO", method="ML")`` (lme4's adaptive quadrature):
    ``mu`` and ``tau^2`` maximise the marginal likelihood; ``SE(mu)`` is the inverse square root of
    minus the second derivative of the log-likelihood in ``mu`` at ``tau^2`` fixed (lme4's
    conditional variance), and the interval is ``mu ± z SE`` back-transformed.
    """
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    k = len(x)
    pooled = np.clip(x.sum() / n.sum(), 1e-6, 1 - 1e-6)
    mu0 = float(special.logit(pooled))

    def nll(par):
        return -float(_log_marginal(par[0], par[1], x, n).sum())

    best = None
    for tau0 in (0.0, 0.3, 1.0):  # the likelihood in tau can be flat near 0: start from several points
        res = optimize.minimize(nll, [mu0, tau0], method="L-BFGS-B", bounds=[(-30, 30), (0, 20)],
                                options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 500})  # fmt: skip
        if best is None or res.fun < best.fun:
            best = res
    mu, tau = float(best.x[0]), float(best.x[1])
    # profile the boundary: tau = 0 is the common-effect model
    res0 = optimize.minimize_scalar(lambda m: nll([m, 0.0]), bracket=(mu0 - 1, mu0 + 1))
    if res0.fun <= best.fun + 1e-12:
        mu, tau = float(res0.x), 0.0
    se = _se_mu(nll, mu, tau)
    z = special.ndtri(0.5 + level / 2)
    return {"k": k, "beta": mu, "se": se, "tau2": tau**2, "ci_low_logit": mu - z * se, "ci_high_logit": mu + z * se}


def _se_mu(nll, mu: float, tau: float) -> float:
    """SE of ``mu`` from the inverse of the observed information in ``(mu, tau)`` (as lme4's
    ``vcov(use.hessian=TRUE)``, which metafor reports); at ``tau = 0`` the ``mu`` entry alone."""
    h = 1e-4
    f0 = nll([mu, tau])
    d_mm = (nll([mu + h, tau]) - 2 * f0 + nll([mu - h, tau])) / h**2
    if tau < 1e-6:
        return float(1 / np.sqrt(d_mm)) if d_mm > 0 else float("nan")
    d_tt = (nll([mu, tau + h]) - 2 * f0 + nll([mu, tau - h])) / h**2
    d_mt = (nll([mu + h, tau + h]) - nll([mu + h, tau - h]) - nll([mu - h, tau + h]) + nll([mu - h, tau - h])) / (
        4 * h**2
    )
    info = np.array([[d_mm, d_mt], [d_mt, d_tt]])
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return float("nan")
    return float(np.sqrt(cov[0, 0])) if cov[0, 0] > 0 else float("nan")


def pool_cell(cell: pd.DataFrame, method: str, study_ci: str = "wilson") -> dict:
    """One pooled proportion (see the module docstring for ``method``); k = 1 is the study itself."""
    x, n = cell["n_relapsed"].to_numpy(float), cell["n_responders"].to_numpy(float)
    x, n = x.astype(int).astype(float), n.astype(int).astype(float)
    k = len(cell)
    base = {"k": k, "n_participants": float(n.sum()), "events": float(x.sum()),
            "studies": ";".join(sorted(cell["study_id"]))}  # fmt: skip
    if k == 1:
        lo, hi = proportion_ci(int(x[0]), int(n[0]), study_ci)
        ci = {"wilson": "Wilson", "beta": "Clopper-Pearson"}[study_ci]
        return {**base, "estimate": x[0] / n[0], "ci_low": float(lo), "ci_high": float(hi), "tau2": np.nan,
                "method": "single study", "ci_method": ci, "note": "one study: its own interval"}  # fmt: skip
    if method == "exact":
        lo, hi = proportion_ci(int(x.sum()), int(n.sum()), "beta")
        return {**base, "estimate": x.sum() / n.sum(), "ci_low": float(lo), "ci_high": float(hi), "tau2": 0.0,
                "method": "pooled counts (common effect)", "ci_method": "Clopper-Pearson", "note": ""}  # fmt: skip
    fit = glmm_plo(x, n)
    return {**base, "estimate": float(special.expit(fit["beta"])), "ci_low": float(special.expit(fit["ci_low_logit"])),
            "ci_high": float(special.expit(fit["ci_high_logit"])), "tau2": fit["tau2"],
            "method": "GLMM (binomial-normal, ML)", "ci_method": "z", "note": ""}  # fmt: skip


def _cells(by_study: pd.DataFrame, cfg: Config):
    """(condition, induction, cohort, window) cells, with each condition group of the config (e.g.
    no_maintenance = none + placebo) and induction ``any`` added; one row per study per cell (the
    follow-up closest to the window's nominal day)."""
    windows = cfg.relapse.windows
    usable = by_study[by_study["window"] != ""]
    groups = [usable] + [usable[usable["condition"].isin(members)].assign(condition=name)
                         for name, members in cfg.relapse.condition_groups.items()]  # fmt: skip
    usable = pd.concat(groups)
    cells = pd.concat([usable.assign(induction_group=usable["induction"]), usable.assign(induction_group="any")])
    for (cond, ind, cohort, win), cell in cells.groupby(["condition", "induction_group", "cohort", "window"],
                                                          sort=True):  # fmt: skip
        if ind == "unknown":
            continue
        nominal = windows[win].nominal_days
        cell = cell.assign(_d=(cell["followup_days"] - nominal).abs()).sort_values(["study_id", "_d"])
        yield cond, ind, cohort, win, cell


def _key(cond, ind, cohort, win) -> str:
    return f"relapse.{cond}.{ind}.{win}" + ("" if cohort == "responders" else f".{cohort}")


def pool_relapse(by_study: pd.DataFrame, cfg: Config, method: str | None = None) -> pd.DataFrame:
    """Pooled proportion relapsed per condition x induction (and ``any``) x cohort x window, from
    counted rows only."""
    method = method or cfg.relapse.method
    rows = []
    for cond, ind, cohort, win, cell in _cells(by_study, cfg):
        cell = cell[cell["counted"].astype(bool)].drop_duplicates("study_id")
        if cell.empty:
            continue
        res = pool_cell(cell, method, cfg.relapse.study_ci)
        rows.append({"analysis_id": _key(cond, ind, cohort, win), "condition": cond, "induction": ind,
                     "cohort": cohort, "window": win, **res})  # fmt: skip
    return pd.DataFrame(rows, columns=POOLED_COLUMNS)


SHARE_COLUMNS = ["analysis_id", "condition", "induction", "cohort", "window", "k", "median", "min", "max", "studies"]


def share_summary(by_study: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Every printed share relapsed (counted or printed as a percentage only) per cell: the median
    and range across studies. Descriptive: it uses studies that give no counts, which no pooled
    proportion can, and claims no interval."""
    rows = []
    for cond, ind, cohort, win, cell in _cells(by_study, cfg):
        # one share per study: its rows at the follow-up closest to nominal (several dose arms of one
        # trial, e.g. Salloum 2020, are summarised by their median)
        cell = cell[cell["_d"] == cell.groupby("study_id")["_d"].transform("min")]
        p = cell.groupby("study_id")["proportion"].median().astype(float)
        rows.append({"analysis_id": _key(cond, ind, cohort, win).replace("relapse.", "relapse_share.", 1),
                     "condition": cond, "induction": ind, "cohort": cohort, "window": win, "k": len(p),
                     "median": float(p.median()), "min": float(p.min()), "max": float(p.max()),
                     "studies": ";".join(sorted(p.index))})  # fmt: skip
    return pd.DataFrame(rows, columns=SHARE_COLUMNS)


def km_median(km: pd.DataFrame) -> float:
    """Kaplan-Meier median: the first printed time at which survival is at or below 0.5 (NaN if never)."""
    km = km.sort_values("days")
    hit = km[km["survival"] <= 0.5]
    return float(hit["days"].iloc[0]) if len(hit) else float("nan")


def median_times(relapse: pd.DataFrame, km_dir: str | Path | None = None) -> pd.DataFrame:
    """Median days to relapse per study, with the interval the study printed (empty when none was
    printed: a single study's median is never given a zero-width interval), plus Kaplan-Meier
    medians from ``km/<study_id>_<condition>.csv`` tables where they exist."""
    rows = []
    med = relapse[relapse["median_days_to_relapse"].notna()]
    for _, r in med.iterrows():
        rows.append({"study_id": r["study_id"], "condition": r["condition"], "induction": _induction(r),
                     "median_days": float(r["median_days_to_relapse"]), "ci_low": r["median_ci_low"],
                     "ci_high": r["median_ci_high"], "source": "printed", "n_responders": r["n_responders"],
                     "source_row": f"relapse.csv:{int(r['_row'])}"})  # fmt: skip
    if km_dir and Path(km_dir).is_dir():
        for path in sorted(Path(km_dir).glob("*.csv")):
            study, _, condition = path.stem.partition("_")
            km = pd.read_csv(path)
            m = km_median(km)
            if np.isfinite(m):
                rows.append({"study_id": study, "condition": condition, "induction": "unknown", "median_days": m,
                             "ci_low": np.nan, "ci_high": np.nan, "source": "kaplan_meier_table",
                             "n_responders": np.nan, "source_row": f"km/{path.name}"})  # fmt: skip
    out = pd.DataFrame(rows, columns=MEDIAN_COLUMNS)
    return out.sort_values(["condition", "induction", "study_id"]).reset_index(drop=True)
