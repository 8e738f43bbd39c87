"""Figure and caption of the coverage simulation (:mod:`ketamine_meta.stats.simulation`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketamine_meta.outputs.style import OKABE_ITO, PAGE_WIDTH, plt, style
from ketamine_meta.stats.simulation import LEVEL, MODELS, N_PER_ARM, TRUE_EFFECT


def coverage_figure(table: pd.DataFrame):
    """Coverage (top) and bias (bottom) against k, one column per τ², one line per model.

    The grey band around 95% is ±1.96 Monte Carlo SEs at the nominal coverage: a model inside it
    is indistinguishable from nominal with this many replicates.
    """
    style()
    tau2s = sorted(table["tau2"].unique())
    fig, axes = plt.subplots(2, len(tau2s), figsize=(PAGE_WIDTH, 4.2), sharex=True, sharey="row")
    axes = np.atleast_2d(axes)
    colours = dict(zip([f"{m}-{t}" for m, t in MODELS], [OKABE_ITO[6], OKABE_ITO[2], OKABE_ITO[5]]))
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
