"""Does the default inference hold its nominal coverage? A seeded simulation of ketamine-like trials.

Each replicate is one meta-analysis of ``k`` two-arm trials reporting a continuous depression score,
as in the extraction:

* per-arm sizes ``n1, n2`` drawn independently and uniformly from 15..120 (the range of the
  ketamine trials);
* true study effects ``θ_i ~ N(μ, τ²)`` with ``μ = 0.6`` (a standardised mean difference);
* Cohen's d drawn from its exact sampling distribution: the standardised mean difference
  ``(x̄1 - x̄2) / σ ~ N(θ_i, 1/n1 + 1/n2)`` divided by the pooled SD ratio
  ``s_p / σ = sqrt(χ²_m / m)`` with ``m = n1 + n2 - 2`` (equivalently a noncentral t);
* ``y_i = J(m) d`` and ``v_i = 1/n1 + 1/n2 + y_i² / (2 (n1 + n2))``, exactly what
  :func:`ketamine_meta.stats.effects.smd` (``escalc(measure="SMD")``) computes from printed means and SDs.

Because ``v_i`` depends on ``y_i``, larger effects get smaller weights; that correlation, the
skewness of d in small trials and the uncertainty of τ̂² with few studies are what the nominal
intervals ignore and what the simulation measures. Each replicate is pooled by DL with z
intervals, REML with z intervals and REML with Knapp–Hartung intervals (the project default) with
the batched engine :func:`ketamine_meta.stats.batch.pool_arrays`, which equals ``rma`` fit by fit.

Per cell (k, τ²) and model the table gives, over R replicates with estimates ``μ̂_r``:

* ``coverage = mean(ci_low_r ≤ μ ≤ ci_high_r)``, Monte Carlo SE ``sqrt(c (1 - c) / R)``;
* ``bias = mean(μ̂_r) - μ``, MCSE ``sd(μ̂_r) / sqrt(R)``; ``rmse = sqrt(mean((μ̂_r - μ)²))``;
* ``ci_width`` (mean), ``tau2_mean`` and ``tau2_zero`` (share of τ̂² = 0), ``pi_coverage`` (share
  of prediction intervals containing a new study's true effect ``θ_new ~ N(μ, τ²)``).

Every cell has its own random stream, ``SeedSequence([seed, k, round(10⁶ τ²)])``, so a cell gives
the same numbers whether it runs alone (one cluster job per cell) or with the whole grid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketamine_meta.stats.batch import pool_arrays
from ketamine_meta.stats.effects import smd_from_d

#: The grid of the issue: number of trials and between-trial variance of the true SMD.
KS = (2, 3, 5, 10, 20)
TAU2S = (0.0, 0.05, 0.2)
#: (τ² estimator, interval) pairs compared; the last is the project default (config/README.md).
MODELS = (("DL", "z"), ("REML", "z"), ("REML", "knha"))
TRUE_EFFECT = 0.6
N_PER_ARM = (15, 120)
REPS = 10_000
SEED = 20_240_521
LEVEL = 0.95

COLUMNS = [
    "model",
    "method",
    "test",
    "k",
    "tau2",
    "reps",
    "coverage",
    "coverage_mcse",
    "bias",
    "bias_mcse",
    "rmse",
    "ci_width",
    "pi_coverage",
    "tau2_mean",
    "tau2_zero",
    "not_converged",
    "seed",
]


def cell_rng(seed: int, k: int, tau2: float) -> np.random.Generator:
    """The random stream of one (k, τ²) cell, independent of which other cells run."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(k), round(float(tau2) * 10**6)]))


def simulate_smd(
    rng: np.random.Generator, k: int, tau2: float, reps: int, mu: float = TRUE_EFFECT, n_per_arm=N_PER_ARM
):
    """Draw ``reps`` meta-analyses of ``k`` trials (module docstring); returns ``yi, vi, theta_new``.

    Returns
    -------
    yi, vi : arrays of shape (k, reps), Hedges' g and its escalc variance.
    theta_new : array (reps,), the true effect of one new trial per replicate (for the prediction
        interval's coverage).
    """
    lo, hi = n_per_arm
    n1 = rng.integers(lo, hi + 1, size=(k, reps))
    n2 = rng.integers(lo, hi + 1, size=(k, reps))
    sd_tau = np.sqrt(tau2)
    theta = mu + sd_tau * rng.standard_normal((k, reps))
    m = n1 + n2 - 2
    diff = theta + np.sqrt(1 / n1 + 1 / n2) * rng.standard_normal((k, reps))
    sp = np.sqrt(rng.chisquare(m) / m)
    yi, vi = smd_from_d(diff / sp, n1, n2)
    theta_new = mu + sd_tau * rng.standard_normal(reps)
    return yi, vi, theta_new


def simulate_cell(k: int, tau2: float, reps: int = REPS, seed: int = SEED, mu: float = TRUE_EFFECT) -> pd.DataFrame:
    """Coverage, bias and τ² summaries of every model in one (k, τ²) cell; one row per model."""
    yi, vi, theta_new = simulate_smd(cell_rng(seed, k, tau2), k, tau2, reps, mu=mu)
    rows = []
    for method, test in MODELS:
        r = pool_arrays(yi, vi, method=method, test=test, level=LEVEL, axis=0)
        est = r["estimate"]
        cover = (r["ci_low"] <= mu) & (mu <= r["ci_high"])
        c = cover.mean()
        rows.append(
            {
                "model": f"{method}-{test}",
                "method": method,
                "test": test,
                "k": k,
                "tau2": tau2,
                "reps": reps,
                "coverage": c,
                "coverage_mcse": np.sqrt(c * (1 - c) / reps),
                "bias": est.mean() - mu,
                "bias_mcse": est.std(ddof=1) / np.sqrt(reps),
                "rmse": np.sqrt(np.mean((est - mu) ** 2)),
                "ci_width": np.mean(r["ci_high"] - r["ci_low"]),
                "pi_coverage": np.mean((r["pi_low"] <= theta_new) & (theta_new <= r["pi_high"])),
                "tau2_mean": r["tau2"].mean(),
                "tau2_zero": np.mean(r["tau2"] == 0),
                "not_converged": int((~r["converged"]).sum()),
                "seed": seed,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def simulate_grid(ks=KS, tau2s=TAU2S, reps: int = REPS, seed: int = SEED) -> pd.DataFrame:
    """Every cell of the grid in one process (what the chunked workflow assembles cell by cell)."""
    return sort_table(pd.concat([simulate_cell(k, t, reps, seed) for k in ks for t in tau2s], ignore_index=True))


def sort_table(table: pd.DataFrame) -> pd.DataFrame:
    order = {f"{m}-{t}": i for i, (m, t) in enumerate(MODELS)}
    out = table.assign(_m=table["model"].map(order)).sort_values(["tau2", "k", "_m"]).drop(columns="_m")
    return out.reset_index(drop=True)[COLUMNS]
