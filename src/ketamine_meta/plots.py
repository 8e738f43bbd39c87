"""Figures. Every function returns a matplotlib Figure and never writes files
(:func:`ketamine_meta.outputs.save_figure` does, deterministically).

Style: one colour-blind-safe palette (Okabe & Ito 2008) for routes and verdicts, sized for a
journal column (3.5 in) or a page width (7 in), readable at 300 dpi.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless and deterministic; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

OKABE_ITO = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]
ROUTE_COLOURS = {"all": "#000000", "iv": "#0072B2", "intranasal": "#E69F00", "oral": "#009E73", "im_sc": "#CC79A7"}
VERDICT_COLOURS = {
    "reproduced": "#009E73",
    "inconclusive": "#E69F00",
    "contradicted": "#D55E00",
    "not_testable": "#999999",
}
EFFECT_AXIS = {
    "smd": ("Hedges' g (positive favours ketamine)", False),
    "log_rr": ("Risk ratio (ketamine / control)", True),
    "log_or": ("Odds ratio (ketamine / control)", True),
    "log_hr": ("Hazard ratio (control / ketamine)", True),
    "logit_p": ("Proportion", False),
    "rd": ("Risk difference (ketamine - control)", False),
}
PAGE_WIDTH = 7.0


def style() -> None:
    """The house style; called by every figure function so figures do not depend on call order."""
    sns.set_theme(context="paper", style="whitegrid", font="DejaVu Sans", font_scale=1.0)
    plt.rcParams.update(
        {
            "svg.hashsalt": "ketamine-meta",  # fixed ids in SVG output: byte-identical reruns
            "svg.fonttype": "path",
            "figure.dpi": 100,
            "axes.titlesize": 9,
            "axes.labelsize": 8,
            "xtick.labelsize": 7,
            "ytick.labelsize": 7,
            "legend.fontsize": 7,
        }
    )


def _scale(effect: str, x):
    x = np.asarray(x, dtype=float)
    if effect in ("log_rr", "log_or", "log_hr"):
        return np.exp(x)
    if effect == "logit_p":
        return 1 / (1 + np.exp(-x))
    return x


def _value_label(ax, y, est, lo, hi) -> None:
    """ "est [lo, hi]" to the right of the axes, at row y."""
    ax.text(1.01, y, f"{est:.2f} [{lo:.2f}, {hi:.2f}]", transform=ax.get_yaxis_transform(), va="center", fontsize=6.5)


def _finish_rows_axis(fig, ax, ys, lines, label, log, title, left) -> None:
    """Shared finish of row-per-estimate plots (forest, moderators): row labels (headers blank),
    the no-effect line, the scale, and margins that keep labels and values inside the figure."""
    ax.set_yticks(ys)
    ax.set_yticklabels(["" if k == "header" else t for k, t, *_ in lines], fontsize=6.5)
    ax.axvline(1.0 if log else 0.0, color="#555555", lw=0.8)
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(label)
    ax.set_title(title, loc="left")
    ax.grid(axis="y", visible=False)
    height = fig.get_figheight()
    fig.subplots_adjust(left=left, right=0.84, top=1 - 0.35 / height, bottom=0.5 / height)


def forest_plot(rows: pd.DataFrame, pooled: pd.DataFrame, title: str, z: float = 1.959963984540054) -> plt.Figure:
    """Forest plot of one outcome x effect x group x time bin, studies grouped by route.

    ``rows``: the effect sizes (``yi``, ``vi``, ``study_id``, ``route``, ``comparison``, ``crossover``);
    ``pooled``: the pooled rows of the same cell, one per route and ``all`` (reporting scale).
    Study CIs are z intervals from ``vi``; diamonds are the model's intervals; the dotted line
    under a diamond is the prediction interval.
    """
    style()
    effect = rows["effect"].iloc[0]
    label, log = EFFECT_AXIS[effect]
    routes = sorted(rows["route"].unique())
    lines = []  # (kind, label, est, lo, hi, pi_lo, pi_hi, colour)
    for route in routes:
        sub = rows[rows["route"] == route].sort_values(["year", "study_id"], na_position="last")
        lines.append(
            (
                "header",
                route.replace("_", "/").upper() if route != "intranasal" else "Intranasal",
                *[np.nan] * 5,
                ROUTE_COLOURS.get(route, "k"),
            )
        )
        for _, r in sub.iterrows():
            se = np.sqrt(r["vi"])
            tag = " (crossover)" if r["crossover"] else ""
            lines.append(
                (
                    "study",
                    f"{r['study_id']}{tag}",
                    *_scale(effect, [r["yi"], r["yi"] - z * se, r["yi"] + z * se]),
                    np.nan,
                    np.nan,
                    ROUTE_COLOURS.get(route, "k"),
                )
            )
        p = pooled[pooled["route"] == route]
        if len(routes) > 1 and not p.empty and int(p["k"].iloc[0]) > 1:
            q = p.iloc[0]
            lines.append(
                (
                    "pooled",
                    f"{route} pooled (k={int(q['k'])})",
                    q["estimate"],
                    q["ci_low"],
                    q["ci_high"],
                    q["pi_low"],
                    q["pi_high"],
                    ROUTE_COLOURS.get(route, "k"),
                )
            )
    p = pooled[pooled["route"] == "all"]
    if not p.empty:
        q = p.iloc[0]
        lines.append(
            (
                "pooled",
                f"All routes (k={int(q['k'])}, I²={q['i2']:.0f}%)" if q["k"] > 1 else "Single study",
                q["estimate"],
                q["ci_low"],
                q["ci_high"],
                q["pi_low"],
                q["pi_high"],
                "#000000",
            )
        )
    height = 0.9 + 0.2 * len(lines)
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, height))
    ys = np.arange(len(lines))[::-1]
    for y, (kind, text, est, lo, hi, plo, phi, colour) in zip(ys, lines):
        if kind == "header":
            ax.text(
                0.0,
                y,
                text,
                transform=ax.get_yaxis_transform(),
                ha="right",
                va="center",
                fontsize=7,
                fontweight="bold",
                color=colour,
            )
            continue
        if kind == "study":
            ax.plot([lo, hi], [y, y], color=colour, lw=1)
            ax.plot([est], [y], marker="s", color=colour, ms=4)
        else:
            ax.fill([lo, est, hi, est], [y, y + 0.3, y, y - 0.3], color=colour, alpha=0.9)
            if np.isfinite(plo) and np.isfinite(phi):
                ax.plot([plo, phi], [y, y], color=colour, lw=1, ls=":")
        _value_label(ax, y, est, lo, hi)
    _finish_rows_axis(fig, ax, ys, lines, label, log, title, left=0.28)
    return fig


def timecourse_plot(
    pooled: pd.DataFrame,
    bins: dict,
    model: pd.DataFrame | None = None,
    outcome: str = "depression",
    effect: str = "smd",
) -> plt.Figure:
    """Pooled effect per time bin, one line per route (and all routes), with CIs; the
    prediction band is drawn for all routes. Points are sized by k; x is the bin's nominal time.
    ``model``: predictions of the study-clustered time-course model (route ``all``), drawn as a
    dashed curve with its CR2 confidence band."""
    style()
    sel = pooled[
        (pooled["subset"] == "primary")
        & (pooled["group"] == "contrast")
        & (pooled["outcome"] == outcome)
        & (pooled["effect"] == effect)
        & pooled["time_bin"].isin(list(bins))
    ]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.6))
    label, log = EFFECT_AXIS[effect]
    routes = ["all", *sorted(r for r in sel["route"].unique() if r != "all")]
    offsets = dict(zip(routes, np.linspace(-0.06, 0.06, len(routes))))
    for route in routes:
        s = sel[sel["route"] == route].copy()
        if s.empty:
            continue
        s["x"] = [bins[b]["nominal_h"] * 10 ** offsets[route] for b in s["time_bin"]]
        s = s.sort_values("x")
        colour = ROUTE_COLOURS.get(route, "#777777")
        ax.errorbar(
            s["x"],
            s["estimate"],
            yerr=[s["estimate"] - s["ci_low"], s["ci_high"] - s["estimate"]],
            color=colour,
            lw=1.2 if route == "all" else 0.9,
            capsize=2,
            label=f"{route} (CI)",
            zorder=3,
        )
        ax.scatter(s["x"], s["estimate"], s=12 + 10 * s["k"], color=colour, zorder=4)
        if route == "all":
            ok = s["pi_low"].notna()
            ax.fill_between(
                s.loc[ok, "x"],
                s.loc[ok, "pi_low"],
                s.loc[ok, "pi_high"],
                color=colour,
                alpha=0.08,
                label="all: prediction interval",
            )
    if model is not None and not model.empty:
        m = model[model["route"] == "all"].sort_values("time_h")
        ax.plot(m["time_h"], m["estimate"], color="#D55E00", ls="--", lw=1.2, label="all: CR2 time-course model")
        ax.fill_between(m["time_h"], m["ci_low"], m["ci_high"], color="#D55E00", alpha=0.12)
    ax.set_xscale("log")
    ticks = [b["nominal_h"] for b in bins.values()]
    ax.set_xticks(ticks)
    ax.set_xticklabels([b["label"] for b in bins.values()], rotation=0)
    ax.axhline(1.0 if log else 0.0, color="#555555", lw=0.8)
    ax.set_ylabel(label)
    ax.set_xlabel("Time after dose (log scale; bin nominal times)")
    finite = sel[["ci_low", "ci_high"]].to_numpy(dtype=float)
    if finite.size:
        lo, hi = np.nanmin(finite), np.nanmax(finite)
        ax.set_ylim(max(lo, -1.5), min(hi, 2.5))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)
    ax.set_title(f"{outcome.capitalize()}: pooled {effect.upper()} over time by route", loc="left")
    fig.tight_layout()
    return fig


def moderator_plot(subgroups: pd.DataFrame, tests: pd.DataFrame, title: str) -> plt.Figure:
    """Subgroup estimates (separate pooled fits per level) of each moderator, with the p of its
    mixed-effects test; one block of rows per moderator, one outcome x effect x bin per figure."""
    style()
    effect = subgroups["effect"].iloc[0]
    label, log = EFFECT_AXIS[effect]
    lines = []
    for mod, cell in subgroups.groupby("moderator", sort=True):
        t = tests[tests["moderator"] == mod]
        p = f"p = {t['qm_p'].iloc[0]:.2g}" if len(t) else "no test (one level or too few studies)"
        lines.append(("header", f"{mod}: {p}", np.nan, np.nan, np.nan, 0))
        for _, r in cell.sort_values("level").iterrows():
            lines.append(("level", f"{r['level']} (k={int(r['k'])})", r["estimate"], r["ci_low"], r["ci_high"], r["k"]))
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 0.8 + 0.22 * len(lines)))
    ys = np.arange(len(lines))[::-1]
    for y, (kind, text, est, lo, hi, k) in zip(ys, lines):
        if kind == "header":
            ax.text(0.0, y, text, transform=ax.get_yaxis_transform(), ha="right", va="center", fontsize=7,
                    fontweight="bold")  # fmt: skip
            continue
        ax.plot([lo, hi], [y, y], color="#0072B2", lw=1)
        ax.plot([est], [y], "s", color="#0072B2", ms=3 + min(k, 10) * 0.4)
        _value_label(ax, y, est, lo, hi)
    _finish_rows_axis(fig, ax, ys, lines, label, log, title, left=0.3)
    return fig


def spec_curve(rows: pd.DataFrame, claimed: tuple[float, float], title: str, dimensions: list[str]) -> plt.Figure:
    """Specification curve: every specification's estimate and CI sorted by estimate (top), the
    claimed range shaded, the primary specification marked; beneath, which choices made each one."""
    style()
    rows = rows[np.isfinite(rows["estimate"])].sort_values(["estimate", "spec_id"]).reset_index(drop=True)
    varied = [d for d in dimensions if rows[d].nunique() > 1]
    options = [(d, o) for d in varied for o in sorted(rows[d].unique())]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(PAGE_WIDTH, 2.6 + 0.16 * len(options)), sharex=True,
                                      gridspec_kw={"height_ratios": [2.2, 0.25 + 0.16 * len(options)]})  # fmt: skip
    x = np.arange(len(rows))
    colours = rows["verdict"].map(VERDICT_COLOURS).fillna("#999999")
    top.axhspan(claimed[0], claimed[1], color="#BBBBBB", alpha=0.4, lw=0, label="claimed")
    ok = rows["ci_low"].notna()
    top.vlines(x[ok], rows.loc[ok, "ci_low"], rows.loc[ok, "ci_high"], colors=colours[ok], lw=0.6, alpha=0.6)
    top.scatter(x, rows["estimate"], s=6, c=colours, zorder=3)
    prim = np.flatnonzero(rows["is_primary"].to_numpy())
    if prim.size:
        top.scatter(x[prim], rows.loc[prim, "estimate"], s=40, facecolors="none", edgecolors="black", zorder=4,
                    label="primary analysis")  # fmt: skip
    top.set_ylabel("Regenerated value")
    top.set_title(title, loc="left")
    top.legend(loc="upper left", frameon=False)
    for j, (d, o) in enumerate(options):
        hit = (rows[d] == o).to_numpy()
        bottom.scatter(x[hit], np.full(hit.sum(), j), s=3, color="#333333", marker="|")
    bottom.set_yticks(range(len(options)))
    bottom.set_yticklabels([f"{d}: {o}" for d, o in options], fontsize=6)
    bottom.invert_yaxis()
    bottom.set_xlabel(f"Specifications sorted by estimate (n = {len(rows)})")
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
    t["unit"] = t["metric"].map(_unit_of)
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
            lo, hi = _claimed_range(r["claimed"])
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


def _unit_of(metric: str) -> str:
    """The panel a claim is drawn in: claims on different scales never share an axis."""
    parts = metric.split(".")
    head = parts[0]
    if head in ("rate", "study") or metric.startswith("relapse.proportion"):
        return "proportion"
    if head in ("pooled", "dose_slope"):
        return {"smd": "g", "rd": "risk difference"}.get(parts[2], "ratio (RR, OR, HR)")
    if head in ("route_diff", "moderator_diff"):
        effect = parts[2] if head == "route_diff" else parts[3]
        return "difference in g" if effect == "smd" else "difference (analysis scale)"
    if head in ("route_test", "moderator_test"):
        return "p"
    if head == "ratio":
        return "ratio to antidepressant g"
    if head == "timecourse":
        return "g" if parts[1] == "effect" else "hours"
    if head == "nnt":
        return "patients"
    return "days" if "median_days" in metric else "value"


def _claimed_range(text: str) -> tuple[float, float]:
    text = str(text).strip()
    if text.startswith("["):
        a, b = text.strip("[]").split(",")
        return float(a), float(b)
    return float(text), float(text)


def relapse_plot(
    by_study: pd.DataFrame,
    printed: pd.DataFrame,
    pooled: pd.DataFrame,
    windows: dict,
    claimed: list[tuple[str, float, float, float]] = (),
) -> plt.Figure:
    """Proportion of responders relapsed against days after the last dose, study by study.

    ``by_study``: counted proportions with CIs; ``printed``: rows with only a printed proportion
    (open markers, no interval); ``pooled``: pooled proportions per window (diamonds at the
    window's nominal day); ``claimed``: (label, day, low, high) boxes for the documents' claims.
    """
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
            r["study_id"], (r["followup_days"], r["proportion"]), textcoords="offset points", xytext=(4, 3), fontsize=6
        )
    for _, r in printed.iterrows():
        c = colours[r["condition"]]
        ax.plot([r["followup_days"]], [r["proportion_relapsed"]], "o", mfc="white", color=c, ms=4)
        ax.annotate(
            r["study_id"],
            (r["followup_days"], r["proportion_relapsed"]),
            textcoords="offset points",
            xytext=(4, -8),
            fontsize=6,
        )
    for _, r in pooled.iterrows():
        x = windows[r["window"]]["nominal_days"]
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
    ax.set_xlim(5, 500)
    ax.set_xlabel("Days after the last dose (follow-up at which relapse was counted; log scale)")
    ax.set_ylabel("Proportion of responders relapsed")
    ax.legend(loc="lower right", frameon=False, ncol=2)
    ax.set_title("Relapse after response, study by study (diamonds: pooled by window)", loc="left")
    fig.tight_layout()
    return fig
