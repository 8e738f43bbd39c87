"""The whole time course in one model: meta-regression on log hours with study-clustered,
small-sample robust inference (CR2 with Satterthwaite degrees of freedom).

Trials report the same patients at several times, and their correlation is never printed, so the
time points are not independent. We fit the working model ``rma(yi, vi, mods = ~ t + t^2)`` with
``t = log(hours / 24)`` (REML τ², independence assumed) and replace its covariance by the CR2
cluster-robust estimator with studies as clusters (Pustejovsky & Tipton 2018), which stays valid
whatever the within-study correlation. This is ``metafor::robust(fit, cluster = study,
clubSandwich = TRUE)``; predictions at chosen times are linear contrasts with their own
Satterthwaite df, as ``clubSandwich::linear_contrast(fit, vcov = "CR2", test = "Satterthwaite")``.
A quadratic in log time lets the curve rise and fall, so the peak is a model quantity rather than
the bin that happens to hold the largest estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from ketamine_meta.core.settings import Config
from ketamine_meta.stats.pooling import tau2_estimate


def _sym_power(m: np.ndarray, power: float) -> np.ndarray:
    """Symmetric matrix power through the eigen-decomposition (clubSandwich's ``Sym_power``)."""
    vals, vecs = np.linalg.eigh((m + m.T) / 2)
    vals = np.clip(vals, 0, None)
    with np.errstate(divide="ignore"):
        powered = np.where(vals > 1e-12 * max(vals.max(), 1e-300), vals**power, 0.0)
    return (vecs * powered) @ vecs.T


@dataclass(frozen=True)
class RobustFit:
    """Working-model fit with CR2 covariance.

    Attributes: ``beta`` (p), ``vcov`` (p x p, CR2), ``tau2`` (working model, REML or the chosen
    estimator), ``k`` observations, ``n_clusters``; ``design`` the X matrix; and the pieces needed
    for Satterthwaite df of any contrast (``_g_basis``: n x p matrix whose column combination
    ``G c`` gives each cluster's g-vectors, kept internal).
    """

    beta: np.ndarray
    vcov: np.ndarray
    tau2: float
    k: int
    n_clusters: int
    design: np.ndarray
    phi: np.ndarray
    g_blocks: tuple  # per cluster: n x p matrix M_j with g_j = M_j c

    def contrast(self, c, level: float = 0.95) -> dict:
        """Estimate, CR2 SE, Satterthwaite df, t, p and CI of the linear contrast ``c'β``.

        ``df = (Σ_j g_j'Φ g_j)² / Σ_j Σ_k (g_j'Φ g_k)²`` with ``g_j = (I-H)_j' A_j W_j X_j B c``
        and Φ the working covariance (Pustejovsky & Tipton 2018, eq. 13).
        """
        c = np.asarray(c, dtype=float)
        est = float(c @ self.beta)
        se = float(np.sqrt(c @ self.vcov @ c))
        gs = np.column_stack([m @ c for m in self.g_blocks])  # n x J
        cross = gs.T @ (self.phi[:, None] * gs)  # J x J: g_j' Φ g_k
        df = float(np.trace(cross) ** 2 / np.sum(cross**2))
        t = est / se
        crit = float(special.stdtrit(df, 1 - (1 - level) / 2))
        return {
            "estimate": est,
            "se": se,
            "df": df,
            "t": t,
            "p": float(2 * special.stdtr(df, -abs(t))),
            "ci_low": est - crit * se,
            "ci_high": est + crit * se,
        }


def robust_cr2(yi, vi, X, clusters, method: str = "REML") -> RobustFit:
    """CR2 cluster-robust fit of ``rma(yi, vi, mods=X[:, 1:])`` (X includes the intercept column).

    Matches ``metafor::robust(rma(...), cluster, clubSandwich = TRUE)``: working weights
    ``W = 1/(v + τ²)``, ``B = (X'WX)^{-1}``, and for each cluster j with ``Φ_j = diag(v + τ²)``,
    ``R_j = Φ_j^{1/2}``, ``G_j = R_j (I - X_j B X_j' W_j) Φ_j R_j``, ``A_j = R_j G_j^{-1/2} R_j``;
    ``V = B [Σ_j X_j'W_j A_j e_j e_j' A_j W_j X_j] B``.
    """
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    X = np.asarray(X, dtype=float)
    clusters = np.asarray(clusters)
    tau2 = tau2_estimate(y, v, X, method)
    phi = v + tau2
    w = 1 / phi
    B = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = B @ X.T @ (w * y)
    e = y - X @ beta
    n = y.size
    H = X @ B @ X.T * w[None, :]  # hat matrix in the W metric: H = X B X' W
    IH = np.eye(n) - H
    meat = np.zeros((X.shape[1], X.shape[1]))
    g_blocks = []
    for cl in sorted(set(clusters.tolist()), key=str):
        idx = np.flatnonzero(clusters == cl)
        Xj, wj, phij = X[idx], w[idx], phi[idx]
        R = np.diag(np.sqrt(phij))
        IHjj = np.eye(idx.size) - Xj @ B @ Xj.T * wj[None, :]
        G = R @ IHjj @ np.diag(phij) @ R
        A = R @ _sym_power(G, -0.5) @ R
        u = Xj.T @ (wj * (A @ e[idx]))
        meat += np.outer(u, u)
        # g_j(c) = (I-H)_j' A_j W_j X_j B c  -> n x p matrix acting on c
        g_blocks.append(IH[idx].T @ A @ (wj[:, None] * Xj) @ B)
    return RobustFit(
        beta=beta,
        vcov=B @ meat @ B,
        tau2=float(tau2),
        k=n,
        n_clusters=len(g_blocks),
        design=X,
        phi=phi,
        g_blocks=tuple(g_blocks),
    )


def design(hours) -> np.ndarray:
    """Intercept, ``t`` and ``t²`` with ``t = log(hours / 24)`` (centred at 24 h)."""
    t = np.log(np.asarray(hours, dtype=float) / 24.0)
    return np.column_stack([np.ones_like(t), t, t**2])


TIMECOURSE_COLUMNS = [
    "route", "dosing", "time_h", "label", "estimate", "se", "df", "ci_low", "ci_high", "p", "k", "n_clusters",
    "tau2", "studies",
]  # fmt: skip
SUMMARY_COLUMNS = [
    "route", "dosing", "quantity", "time_h", "time_ci_low", "time_ci_high", "estimate", "ci_low", "ci_high", "df",
    "k", "n_clusters", "studies", "note",
]  # fmt: skip
#: Below this many Satterthwaite df a CR2 test's nominal level does not hold (Tipton 2015), so a
#: model quantity resting on such an interval is flagged rather than quoted as if it held.
MIN_DF = 4


def peak_time_interval(fit: RobustFit, level: float = 0.95) -> tuple[float, float]:
    """CI of the time of the peak, ``t* = -b1 / (2 b2)`` on the log scale, by the delta method with
    the CR2 covariance and the Satterthwaite df of the gradient contrast; (NaN, NaN) when the curve
    is not concave (no interior maximum)."""
    b0, b1, b2 = fit.beta
    if not b2 < 0:
        return float("nan"), float("nan")
    t_star = -b1 / (2 * b2)
    grad = np.array([0.0, -1 / (2 * b2), b1 / (2 * b2**2)])
    r = fit.contrast(grad, level)
    crit = float(special.stdtrit(r["df"], 1 - (1 - level) / 2))
    return float(24 * np.exp(t_star - crit * r["se"])), float(24 * np.exp(t_star + crit * r["se"]))


def timecourse_model(es: pd.DataFrame, cfg: Config, outcome: str = "depression", effect: str = "smd"):
    """Predicted effect at each time bin's nominal hour, per route group and all routes, and the
    summary quantities: first and last time the effect is distinguishable from zero (CI lower
    limit > 0) and the time of the peak, searched on a fine log-time grid within the observed span.

    Returns ``(predictions, summary)`` DataFrames. A route with fewer than 3 studies or fewer than
    4 observations is not modelled (too few clusters for a three-parameter curve).
    """
    model = cfg.model
    sel = es[
        es["primary"].astype(bool)
        & (es["group"] == "contrast")
        & (es["outcome"] == outcome)
        & (es["effect"] == effect)
        & es["time_bin"].isin(list(cfg.time_bins))
    ]
    preds, summary = [], []
    # hours after a single dose and hours after the first of several doses are different axes:
    # trials that kept dosing would otherwise carry the curve's tail (so they are modelled apart)
    groups = [(route, dosing) for dosing in ("single", "repeated") for route in ["all", *sorted(sel["route"].unique())]]
    for route, dosing in groups:
        d = sel[sel["dosing"] == dosing]
        d = d if route == "all" else d[d["route"] == route]
        if d["study_id"].nunique() < 3 or len(d) < 4 or d["time_h"].nunique() < 3:
            continue
        fit = robust_cr2(d["yi"], d["vi"], design(d["time_h"]), d["study_id"], model.method)
        studies = ";".join(sorted(d["study_id"].unique()))
        base = {"route": route, "dosing": dosing, "k": fit.k, "n_clusters": fit.n_clusters, "studies": studies}
        for b in cfg.time_bins.values():
            c = design([b.nominal_h])[0]
            r = fit.contrast(c, model.level)
            preds.append(
                {**base, "time_h": b.nominal_h, "label": b.label, "tau2": fit.tau2}
                | {k: r[k] for k in ("estimate", "se", "df", "ci_low", "ci_high", "p")}
            )
        lo_h, hi_h = float(d["time_h"].min()), float(d["time_h"].max())
        grid = np.exp(np.linspace(np.log(lo_h), np.log(hi_h), 241))
        rows = [fit.contrast(c, model.level) for c in design(grid)]
        est = np.array([r["estimate"] for r in rows])
        low = np.array([r["ci_low"] for r in rows])
        sig = np.flatnonzero(low > 0)
        ipk = int(np.argmax(est))
        peak_ci = peak_time_interval(fit, model.level)
        for quantity, i, note in (
            ("first_distinguishable", sig[0] if sig.size else None, "earliest time whose CI excludes 0"),
            ("peak", ipk, "time of the largest predicted effect within the observed span"),
            ("last_distinguishable", sig[-1] if sig.size else None, "latest time whose CI excludes 0"),
        ):
            if i is None:
                summary.append({**base, "quantity": quantity, "time_h": np.nan, "estimate": np.nan, "ci_low": np.nan,
                                "ci_high": np.nan, "note": f"{note}: none in {lo_h:g}-{hi_h:g} h"})  # fmt: skip
                continue
            r = rows[i]
            tci = peak_ci if quantity == "peak" else (np.nan, np.nan)
            if r["df"] < MIN_DF:
                note += f"; Satterthwaite df {r['df']:.1f} < {MIN_DF}: its coverage does not hold (Tipton 2015)"
            summary.append({**base, "quantity": quantity, "time_h": float(grid[i]), "time_ci_low": tci[0],
                            "time_ci_high": tci[1], "estimate": r["estimate"], "ci_low": r["ci_low"],
                            "ci_high": r["ci_high"], "df": r["df"], "note": note})  # fmt: skip
    return pd.DataFrame(preds, columns=TIMECOURSE_COLUMNS), pd.DataFrame(summary, columns=SUMMARY_COLUMNS)
