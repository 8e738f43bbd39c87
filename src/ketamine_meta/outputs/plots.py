"""Figures. Every function returns a matplotlib Figure and never writes files
(:func:`ketamine_meta.outputs.writers.save_figure` does, deterministically).

Style: one colour-blind-safe palette (Okabe & Ito 2008) for routes and verdicts, sized for a
journal column (3.5 in) or a page width (7 in), readable at 300 dpi.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless and deterministic; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ketamine_meta.claims.keys import MetricKey, unit_of  # noqa: E402
from ketamine_meta.evidence.analyses import to_reporting_scale  # noqa: E402
from ketamine_meta.outputs.captions import EFFECT_AXIS  # noqa: E402
from ketamine_meta.outputs.style import (  # noqa: E402
    OKABE_ITO,
    PAGE_WIDTH,
    ROUTE_COLOURS,
    VERDICT_COLOURS,
    style,
)


def _scale(effect: str, x):
    return to_reporting_scale(effect, x)


def timecourse_plot(
    pooled: pd.DataFrame,
    bins: dict,
    model: pd.DataFrame | None = None,
    outcome: str = "depression",
    effect: str = "smd",
    level: float = 0.95,
) -> plt.Figure:
    """Pooled effect per time bin, one line per route (and all routes), with CIs; the prediction
    band is drawn for all routes. Points are sized by k (key in the legend) and open where k <= 2,
    whose Knapp-Hartung intervals are too wide to show: the y range is set by the estimates and the
    intervals of k >= 3, and intervals past it end in an arrowhead. x is the bin's nominal time.
    ``model``: predictions of the study-clustered time-course model (route ``all``), drawn as a
    dashed curve with its CR2 confidence band."""
    style()
    bins = dict(sorted(bins.items(), key=lambda kv: (kv[1].low_h, kv[0])))
    sel = pooled[
        (pooled["subset"] == "primary")
        & (pooled["group"] == "contrast")
        & (pooled["outcome"] == outcome)
        & (pooled["effect"] == effect)
        & pooled["time_bin"].isin(list(bins))
    ]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.9))
    label, log = EFFECT_AXIS[effect]
    routes = ["all", *sorted(r for r in sel["route"].unique() if r != "all")]
    offsets = dict(zip(routes, np.linspace(-0.05, 0.05, len(routes))))
    # y range: estimates, the model curve and the intervals of k >= 3 (k <= 2 intervals are clipped)
    firm = sel[sel["k"] >= 3]
    ys = [*sel["estimate"], *firm["ci_low"], *firm["ci_high"], 0.0]
    if model is not None and not model.empty:
        ys += list(model.loc[model["route"] == "all", "estimate"])
    ys = np.asarray(ys, dtype=float)
    ys = ys[np.isfinite(ys)]
    lo, hi = (ys.min(), ys.max()) if ys.size else (-1.0, 1.0)
    pad = 0.12 * (hi - lo or 1.0)
    ax.set_ylim(lo - pad, hi + pad)
    ymin, ymax = ax.get_ylim()

    def size(k):
        return 10 + 9 * np.asarray(k, dtype=float)

    for route in routes:
        s = sel[sel["route"] == route].copy()
        if s.empty:
            continue
        s["x"] = [bins[b].nominal_h * 10 ** offsets[route] for b in s["time_bin"]]
        s = s.sort_values("x")
        colour = ROUTE_COLOURS.get(route, "#777777")
        name = {"all": "All routes", "iv": "Intravenous", "intranasal": "Intranasal", "oral": "Oral"}.get(route, route)
        ax.plot(s["x"], s["estimate"], color=colour, lw=1.2 if route == "all" else 0.8, zorder=3, label=name)
        for _, r in s.iterrows():
            a, b = max(r["ci_low"], ymin), min(r["ci_high"], ymax)
            firm_r = r["k"] >= 3
            ax.plot([r["x"], r["x"]], [a, b], color=colour, lw=0.9, ls="-" if firm_r else ":", zorder=2)
            if r["ci_low"] < ymin:
                ax.plot([r["x"]], [ymin], marker="v", color=colour, ms=4, mew=0, clip_on=False, zorder=4)
            if r["ci_high"] > ymax:
                ax.plot([r["x"]], [ymax], marker="^", color=colour, ms=4, mew=0, clip_on=False, zorder=4)
        firm_s = s["k"] >= 3
        ax.scatter(s.loc[firm_s, "x"], s.loc[firm_s, "estimate"], s=size(s.loc[firm_s, "k"]), color=colour, zorder=4)
        ax.scatter(s.loc[~firm_s, "x"], s.loc[~firm_s, "estimate"], s=size(s.loc[~firm_s, "k"]), facecolor="white",
                   edgecolor=colour, lw=1, zorder=4)  # fmt: skip
        if route == "all":  # prediction intervals as grey bars behind the points, where k >= 3
            first = True
            for _, r in s[(s["k"] >= 3) & s["pi_low"].notna()].iterrows():
                ax.fill_between([r["x"] / 1.1, r["x"] * 1.1], r["pi_low"], r["pi_high"], color="#000000", alpha=0.1,
                                lw=0, zorder=1, label=f"All routes: {level:.0%} prediction interval (k ≥ 3)" if first
                                else None)  # fmt: skip
                first = False
    if model is not None and not model.empty:
        m = model[model["route"] == "all"].sort_values("time_h")
        ax.plot(m["time_h"], m["estimate"], color="#D55E00", ls="--", lw=1.2, label="Time-course model (all routes)")
        ax.fill_between(m["time_h"], m["ci_low"], m["ci_high"], color="#D55E00", alpha=0.08, lw=0, zorder=0,
                        label=f"Time-course model: {level:.0%} CI (CR2)")  # fmt: skip
    # size key: filled k >= 3, open k <= 2
    for k in (1, 3, 5, 10):
        ax.scatter([], [], s=size(k), facecolor="white" if k <= 2 else "#777777", edgecolor="#777777",
                   label=f"k = {k}" + (" (open: k ≤ 2)" if k == 1 else ""))  # fmt: skip
    ax.set_xscale("log")
    ticks = [b.nominal_h for b in bins.values()]
    ax.set_xticks(ticks)
    ax.set_xticklabels([b.label for b in bins.values()], rotation=0)
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.axhline(1.0 if log else 0.0, color="#555555", lw=0.8)
    ax.set_ylabel(label)
    ax.set_xlabel("Time after the dose (log scale; points at each bin's nominal time)")
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=4, frameon=False, fontsize=6.5)
    ax.set_title(f"{outcome.capitalize()}: pooled Hedges' g over time by route", loc="left")
    fig.tight_layout()
    return fig


def moderator_plot(subgroups: pd.DataFrame, tests: pd.DataFrame, title: str, level: float = 0.95) -> plt.Figure:
    """Subgroup estimates (separate pooled fits per level) of each moderator with its mixed-effects
    test, laid out as a forest plot (:func:`ketamine_meta.outputs.forest.forest_plot`); one outcome x effect
    x bin per figure."""
    from ketamine_meta.outputs import forest, forest_table

    effect = subgroups["effect"].iloc[0]
    table = forest_table.moderator_rows(subgroups, tests)
    headers = {"label": "Moderator, level", "t": "k", "c": "Participants", "w": "", "sub": ""}
    return forest.forest_plot(table, effect, title, level, headers=headers)


def spec_curve(rows: pd.DataFrame, claimed: tuple[float, float], title: str, dimensions: list[str],
               value_label: str = "Regenerated value") -> plt.Figure:  # fmt: skip
    """Specification curve: each distinct analysis's estimate and CI sorted by estimate (top),
    coloured by its verdict, point area growing with k, the claimed value or range shaded, the
    primary analysis circled; beneath, which choices made each one.

    The axis spans the estimates (and the claim) with a margin, not the widest interval: an
    interval that runs past it is clipped and ends in an arrow, as in the forest plots."""
    style()
    rows = rows[np.isfinite(rows["estimate"])].sort_values(["estimate", "spec_id"]).reset_index(drop=True)
    varied = [d for d in dimensions if rows[d].nunique() > 1]
    options = [(d, o) for d in varied for o in sorted(rows[d].unique())]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(PAGE_WIDTH, 2.8 + 0.16 * len(options)), sharex=True,
                                      gridspec_kw={"height_ratios": [2.4, 0.25 + 0.16 * len(options)]})  # fmt: skip
    x = np.arange(len(rows))
    colours = rows["verdict"].map(VERDICT_COLOURS).fillna("#999999")
    lo_c, hi_c = float(min(claimed)), float(max(claimed))
    est = rows["estimate"].to_numpy(float)
    # most intervals (10th to 90th percentile of their ends) stay whole; the widest are clipped
    ci_lo, ci_hi = rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float)
    span_lo = min(
        est.min(), lo_c, np.nanpercentile(ci_lo, 10, method="higher") if np.isfinite(ci_lo).any() else est.min()
    )
    span_hi = max(
        est.max(), hi_c, np.nanpercentile(ci_hi, 90, method="lower") if np.isfinite(ci_hi).any() else est.max()
    )
    pad = 0.05 * max(span_hi - span_lo, 0.1)
    ylo, yhi = span_lo - pad, span_hi + pad
    if hi_c > lo_c:
        top.axhspan(lo_c, hi_c, color="#BBBBBB", alpha=0.4, lw=0, label="claimed")
    else:
        top.axhline(lo_c, color="#777777", lw=0.8, ls="--", label="claimed")
    ok = rows["ci_low"].notna() & rows["ci_high"].notna()
    lo_ci = rows["ci_low"].clip(lower=ylo).to_numpy(float)
    hi_ci = rows["ci_high"].clip(upper=yhi).to_numpy(float)
    top.vlines(x[ok], lo_ci[ok], hi_ci[ok], colors=colours[ok], lw=0.6, alpha=0.6)
    for flag, edge, marker in ((rows["ci_low"] < ylo, ylo, "v"), (rows["ci_high"] > yhi, yhi, "^")):
        hit = (flag & ok).to_numpy()
        if hit.any():
            top.scatter(x[hit], np.full(hit.sum(), edge), marker=marker, s=6, c=colours[hit], zorder=3)
    k = rows["k"].fillna(1).to_numpy(float)
    top.scatter(x, est, s=4 + 3 * np.sqrt(k), c=colours, zorder=3)
    prim = np.flatnonzero(rows["is_primary"].to_numpy())
    if prim.size:
        top.scatter(x[prim], est[prim], s=60, facecolors="none", edgecolors="black", zorder=4,
                    label="primary analysis")  # fmt: skip
    for verdict in ("reproduced", "inconclusive", "contradicted"):
        if (rows["verdict"] == verdict).any():
            top.scatter([], [], s=12, c=VERDICT_COLOURS[verdict], label=verdict)
    top.set_ylim(ylo, yhi)
    top.set_ylabel(value_label)
    top.set_title(title, loc="left")
    top.legend(loc="upper left", frameon=False, ncol=3, fontsize=6)
    for j, (d, o) in enumerate(options):
        hit = (rows[d] == o).to_numpy()
        bottom.scatter(x[hit], np.full(hit.sum(), j), s=3, color="#333333", marker="|")
    bottom.set_yticks(range(len(options)))
    bottom.set_yticklabels([f"{d}: {o}" for d, o in options], fontsize=6)
    bottom.invert_yaxis()
    bottom.set_xlabel(f"Distinct analyses sorted by estimate (n = {len(rows)}); point area grows with k "
                      f"({int(k.min())} to {int(k.max())}); arrows: interval clipped")  # fmt: skip
    bottom.grid(False)
    fig.tight_layout()
    return fig


def claims_overview(claims: pd.DataFrame) -> plt.Figure:
    """Verdict counts per document (stacked bars), the at-a-glance view of the registry."""
    style()
    order = ["reproduced", "inconclusive", "contradicted", "not_testable"]
    counts = claims.groupby(["document", "verdict"]).size().unstack(fill_value=0).reindex(columns=order, fill_value=0)
    counts = counts.sort_index()
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 0.6 + 0.45 * len(counts)))
    left = np.zeros(len(counts))
    for v in order:
        ax.barh(counts.index, counts[v], left=left, color=VERDICT_COLOURS[v], label=v.replace("_", " "))
        for y, (start, n) in enumerate(zip(left, counts[v])):
            if n:
                ax.text(
                    start + n / 2,
                    y,
                    str(int(n)),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if v != "inconclusive" else "black",
                )
        left += counts[v].to_numpy()
    ax.invert_yaxis()
    ax.set_xlabel("Number of claims")
    ax.legend(ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig


def claims_estimates(claims: pd.DataFrame) -> plt.Figure:
    """Testable claims: claimed value or range (grey) against the regenerated estimate and interval,
    one panel per unit so that proportions, effect sizes, ratios and days keep their own axes."""
    style()
    t = claims[claims["regenerated"].notna() & (claims["rule"] != "arithmetic")].copy()
    t["unit"] = t["metric"].map(unit_of)
    units = sorted(set(t["unit"]))
    heights = [max(1, (t["unit"] == u).sum()) for u in units] or [1]
    fig, axes = plt.subplots(
        len(units) or 1,
        1,
        figsize=(PAGE_WIDTH, 0.8 + 0.22 * sum(heights) + 0.5 * len(heights)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for ax, unit in zip(axes[:, 0], units):
        sub = t[t["unit"] == unit].sort_values("claim_id")
        ys = np.arange(len(sub))[::-1]
        for y, (_, r) in zip(ys, sub.iterrows()):
            lo, hi = r["claimed_low"], r["claimed_high"]
            ax.plot([lo, hi], [y, y], color="#BBBBBB", lw=6, solid_capstyle="butt")
            colour = VERDICT_COLOURS[r["verdict"]]
            if pd.notna(r["ci_low"]):
                ax.plot([r["ci_low"], r["ci_high"]], [y, y], color=colour, lw=1.2)
            ax.plot([r["regenerated"]], [y], "o", color=colour, ms=4)
        ax.set_yticks(ys)
        ax.set_yticklabels(sub["claim_id"], fontsize=6)
        ax.set_xlabel(unit)
        ax.grid(axis="y", visible=False)
    axes[0, 0].set_title("Claimed (grey) vs regenerated (dot and interval, coloured by verdict)", loc="left")
    fig.tight_layout()
    return fig


def relapse_claim_boxes(claims: pd.DataFrame, windows: dict) -> list[tuple[str, float, float, float]]:
    """(claim_id, nominal day, claimed low, claimed high) of every relapse-proportion or share claim
    whose window the config defines: the dashed boxes of the relapse figure."""
    boxes = []
    for _, r in claims[claims["metric"].str.startswith(("relapse.proportion", "relapse.share"))].iterrows():
        lo, hi = r["claimed_low"], r["claimed_high"]
        win = MetricKey.parse(r["metric"])["window"]
        if win in windows:
            boxes.append((r["claim_id"], windows[win].nominal_days, lo, hi))
    return boxes


def relapse_plot(
    by_study: pd.DataFrame,
    printed: pd.DataFrame,
    pooled: pd.DataFrame,
    windows: dict,
    claimed: list[tuple[str, float, float, float]] = (),
    labels: dict | None = None,
) -> plt.Figure:
    """Proportion of responders relapsed against days after the last dose, study by study.

    ``by_study``: counted proportions with CIs; ``printed``: rows with only a printed proportion
    (open markers, no interval); ``pooled``: pooled proportions per window (diamonds at the
    window's nominal day); ``claimed``: (label, day, low, high) boxes for the documents' claims;
    ``labels``: study_id -> "Author year" (studies.csv ``label``).
    """
    labels = labels or {}
    style()
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.6))
    by_study = by_study[np.isfinite(by_study["followup_days"].astype(float))]
    conds = sorted(set(by_study["condition"]) | set(printed["condition"]))
    readable = [c for c in OKABE_ITO if c != "#F0E442"]  # yellow is unreadable on white
    colours = dict(zip(conds, readable[1:] + readable[:1]))
    for _, r in by_study.iterrows():
        c = colours[r["condition"]]
        ax.errorbar(
            [r["followup_days"]],
            [r["proportion"]],
            yerr=[[r["proportion"] - r["ci_low"]], [r["ci_high"] - r["proportion"]]],
            fmt="o",
            color=c,
            ms=4,
            capsize=2,
        )
        ax.annotate(
            labels.get(r["study_id"], r["study_id"]), (r["followup_days"], r["proportion"]),
            textcoords="offset points", xytext=(4, 3), fontsize=6,
        )  # fmt: skip
    for _, r in printed.iterrows():
        c = colours[r["condition"]]
        ax.plot([r["followup_days"]], [r["proportion_relapsed"]], "o", mfc="white", color=c, ms=4)
        ax.annotate(
            labels.get(r["study_id"], r["study_id"]),
            (r["followup_days"], r["proportion_relapsed"]),
            textcoords="offset points",
            xytext=(4, -8),
            fontsize=6,
        )
    for _, r in pooled.iterrows():
        x = windows[r["window"]].nominal_days
        ax.fill(
            [x / 1.06, x, x * 1.06, x],
            [r["estimate"], r["ci_high"], r["estimate"], r["ci_low"]],
            color=colours.get(r["condition"], "k"),
            alpha=0.6,
        )
    for label, day, lo, hi in claimed:
        ax.add_patch(
            plt.Rectangle((day / 1.12, lo), day * 1.12 - day / 1.12, hi - lo, fill=False, ls="--", ec="#D55E00")
        )
        ax.annotate(label, (day * 1.12, hi), textcoords="offset points", xytext=(2, 2), fontsize=6, color="#D55E00")
    for cond, c in colours.items():
        ax.plot([], [], "o", color=c, label=cond)
    ax.plot([], [], "o", mfc="white", color="#555555", label="printed % only (no count)")
    ax.set_ylim(0, 1)
    ax.set_xscale("log")  # follow-ups run from 2 weeks to a year: a log axis keeps the early ones apart
    ticks = [7, 14, 28, 56, 91, 182, 365]
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlim(5, 500)
    ax.set_xlabel("Days after the last dose (follow-up at which relapse was counted; log scale)")
    ax.set_ylabel("Proportion of responders relapsed")
    ax.legend(loc="lower right", frameon=False, ncol=2)
    ax.set_title("Relapse after response, study by study (diamonds: pooled by window)", loc="left")
    fig.tight_layout()
    return fig
