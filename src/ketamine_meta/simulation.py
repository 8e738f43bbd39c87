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
  :func:`ketamine_meta.effects.smd` (``escalc(measure="SMD")``) computes from printed means and SDs.

Because ``v_i`` depends on ``y_i``, larger effects get smaller weights; that correlation, the
skewness of d in small trials and the uncertainty of τ̂² with few studies are what the nominal
intervals ignore and what the simulation measures. Each replicate is pooled by DL with z
intervals, REML with z intervals and REML with Knapp–Hartung intervals (the project default) with
the batched engine :func:`ketamine_meta.batch.pool_arrays`, which equals ``rma`` fit by fit.

Per cell (k, τ²) and model the table gives, over R replicates with estimates ``μ̂_r``:

* ``coverage = mean(ci_low_r ≤ μ ≤ ci_high_r)``, Monte Carlo SE ``sqrt(c (1 - c) / R)``;
* ``bias = mean(μ̂_r) - μ``, MCSE ``sd(μ̂_r) / sqrt(R)``; ``rmse = sqrt(mean((μ̂_r - μ)²))``;
* ``ci_width`` (mean), ``tau2_mean`` and ``tau2_zero`` (share of τ̂² = 0), ``pi_coverage`` (share
  of prediction intervals containing a new study's true effect ``θ_new ~ N(μ, τ²)``).

Every cell has its own random stream, ``SeedSequence([seed, k, round(10⁶ τ²)])``, so a cell gives
the same numbers whether it runs alone (one cluster job per cell) or with the whole grid.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from . import outputs
from .batch import pool_arrays
from .effects import smd_from_d

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


def coverage_figure(table: pd.DataFrame):
    """Coverage (top) and bias (bottom) against k, one column per τ², one line per model.

    The grey band around 95% is ±1.96 Monte Carlo SEs at the nominal coverage: a model inside it
    is indistinguishable from nominal with this many replicates.
    """
    from . import plots

    plots.style()
    plt = plots.plt
    tau2s = sorted(table["tau2"].unique())
    fig, axes = plt.subplots(2, len(tau2s), figsize=(plots.PAGE_WIDTH, 4.2), sharex=True, sharey="row")
    axes = np.atleast_2d(axes)
    colours = dict(zip([f"{m}-{t}" for m, t in MODELS], [plots.OKABE_ITO[6], plots.OKABE_ITO[2], plots.OKABE_ITO[5]]))
    reps = int(table["reps"].min())
    band = 1.959963984540054 * np.sqrt(LEVEL * (1 - LEVEL) / reps)
    for j, tau2 in enumerate(tau2s):
        top, bottom = axes[0, j], axes[1, j]
        sel = table[table["tau2"] == tau2]
        top.axhspan(LEVEL - band, LEVEL + band, color="#bbbbbb", alpha=0.5, lw=0)
        top.axhline(LEVEL, color="#555555", lw=0.8)
        bottom.axhline(0.0, color="#555555", lw=0.8)
        for model, rows in sel.groupby("model", sort=False):
            rows = rows.sort_values("k")
            kw = {"color": colours.get(model, "#777777"), "marker": "o", "ms": 3, "lw": 1.1}
            top.plot(rows["k"], rows["coverage"], label=model, ls="--" if model == "REML-z" else "-", **kw)
            if model != "REML-z":  # same estimate as REML-knha: only the interval differs
                bottom.errorbar(rows["k"], rows["bias"], yerr=1.96 * rows["bias_mcse"], capsize=2, **kw)
        top.set_title(f"τ² = {tau2:g}", loc="left")
        bottom.set_xscale("log")
        bottom.set_xticks(sorted(table["k"].unique()))
        bottom.set_xticklabels([str(k) for k in sorted(table["k"].unique())])
        bottom.minorticks_off()
        bottom.set_xlabel("studies per meta-analysis (k)")
    axes[0, 0].set_ylabel("CI coverage of μ")
    axes[1, 0].set_ylabel(f"bias of pooled g (true {TRUE_EFFECT:g})")
    axes[0, 0].legend(loc="lower right", frameon=False)
    fig.tight_layout()
    return fig


def conclusion(table: pd.DataFrame) -> str:
    """One-paragraph summary of the table, worded from its numbers (used in the caption)."""
    parts = []
    for model, rows in table.groupby("model", sort=False):
        lo, hi = rows["coverage"].min(), rows["coverage"].max()
        worst = rows.loc[rows["coverage"].idxmin()]
        parts.append(f"{model}: coverage {lo:.3f}-{hi:.3f} (lowest at k={int(worst['k'])}, tau^2={worst['tau2']:g})")
    bias = table["bias"].abs().max()
    return "; ".join(parts) + f". Largest absolute bias of the pooled g: {bias:.3f}."


def caption(table: pd.DataFrame) -> str:
    reps, seed = int(table["reps"].min()), int(table["seed"].iloc[0])
    return (
        f"Simulated coverage of the {LEVEL:.0%} CI for the mean effect (top) and bias of the pooled Hedges' g "
        "(bottom; bars: 95% Monte Carlo intervals; REML-z shares REML-knha's estimate, so one REML bias line) "
        "for DL with z intervals, REML with z intervals and REML with Knapp-Hartung t intervals (the pipeline "
        f"default). Each point: {reps} meta-analyses of k two-arm trials with per-arm n uniform on "
        f"{N_PER_ARM[0]}-{N_PER_ARM[1]}, true mean SMD {TRUE_EFFECT:g}, study effects N(mu, tau^2), g and its "
        f"variance as escalc(measure='SMD') computes them; seed {seed}, one random stream per k x tau^2 cell. "
        f"Grey band: 95% +/- 1.96 Monte Carlo SEs. {conclusion(table)}"
    )


def cell_step(k, tau2, out_csv, reps=REPS, seed=SEED) -> None:
    """Workflow step: simulate one (k, τ²) cell and write its rows (``coverage.csv`` columns)."""
    k, tau2, reps, seed = int(k), float(tau2), int(reps), int(seed)
    logging.info("simulating k=%d tau2=%g: %d replicates, seed %d", k, tau2, reps, seed)
    outputs.write_csv(simulate_cell(k, tau2, reps=reps, seed=seed), out_csv)


def summary_step(cells, out_csv, out_stem) -> None:
    """Workflow step: join the cells into ``coverage.csv`` and draw ``coverage.png/.svg/.caption.txt``."""
    cells = [cells] if isinstance(cells, str) else list(cells)
    table = sort_table(pd.concat([pd.read_csv(p) for p in cells], ignore_index=True))
    outputs.write_csv(table, out_csv)
    outputs.save_figure(coverage_figure(table), Path(out_stem), caption(table))
    logging.info("%s", conclusion(table))
