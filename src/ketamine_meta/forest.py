"""Forest plots to the standard of ``metafor::forest`` and RevMan, and the axis helpers every
row-per-estimate figure shares (natural units on log axes, intervals clipped with arrows).

:func:`forest_rows` lays out the numbers (one row per study, subgroup subtotal, heterogeneity line,
total, prediction interval, subgroup test); :func:`forest_plot` draws them. The layout is a plain
DataFrame so that tests can check the weights and texts without reading pixels.

Weights are the random-effects weights of the all-routes model, ``w_i = 1/(v_i + τ²)`` with that
model's τ² (metafor's ``weights(res)``), as a percentage of their sum; squares have an area
proportional to the weight. The test for subgroup differences is RevMan's: a Q test of the subgroup
estimates around their inverse-variance mean, ``Q = Σ (β_g - β̄)² / se_g²`` on ``G - 1`` df.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # headless and deterministic; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import ticker  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402
from scipy import stats  # noqa: E402

from .analyses import to_reporting_scale

#: Effect -> (axis label, plot-column header, estimate-column abbreviation, log axis, axis clamp).
FOREST_AXIS = {
    "smd": ("Hedges' g (standardised mean difference)", "Hedges' g", "g", False, None),
    "log_rr": ("Risk ratio, ketamine / control (log scale)", "Risk ratio", "RR", True, None),
    "log_or": ("Odds ratio, ketamine / control (log scale)", "Odds ratio", "OR", True, None),
    "log_hr": ("Hazard ratio, control / ketamine (log scale)", "Hazard ratio", "HR", True, None),
    "logit_p": ("Proportion of the arm", "Proportion", "Proportion", False, (0.0, 1.0)),
    "rd": ("Risk difference, ketamine - control", "Risk difference", "RD", False, (-1.0, 1.0)),
}
ROUTE_NAMES = {"iv": "Intravenous", "intranasal": "Intranasal", "oral": "Oral", "im_sc": "IM / SC", "all": "All"}
ROUTE_COLOURS = {"all": "#000000", "iv": "#0072B2", "intranasal": "#E69F00", "oral": "#009E73", "im_sc": "#CC79A7"}
#: Candidate ticks of a log axis, in natural units (1-2-5 series).
LOG_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500)
ROW_IN = 0.19  # height of one row, inches
MINUS = "\u2212"


# --------------------------------------------------------------------------------------------- numbers


def num(x: float, digits: int = 2) -> str:
    """A number for a figure: fixed decimals, a true minus sign, 'NA' when missing."""
    if x is None or not np.isfinite(x):
        return "NA"
    if abs(x) >= 100:
        digits = 0
    return f"{x:.{digits}f}".replace("-", MINUS)


def interval(est: float, lo: float, hi: float) -> str:
    return f"{num(est)} [{num(lo)}, {num(hi)}]"


def p_text(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "p = NA"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def heterogeneity_text(tau2, i2, q, k) -> str:
    """metafor's summary line: τ², I², Q on k - 1 df and its p."""
    if not (k and k > 1 and np.isfinite(q)):
        return "Heterogeneity: not applicable (one study)"
    p = stats.chi2.sf(q, k - 1)
    return f"Heterogeneity: τ² = {num(tau2, 3)}; I² = {num(i2, 0)}%; Q = {num(q)}, df = {int(k - 1)} ({p_text(p)})"


def subgroup_test(beta: np.ndarray, se: np.ndarray) -> tuple[float, int, float]:
    """RevMan's test for subgroup differences: Q of the subgroup estimates (analysis scale) around
    their inverse-variance mean, chi-squared on G - 1 df. Returns (Q, df, p); NaN when G < 2."""
    beta, se = np.asarray(beta, float), np.asarray(se, float)
    ok = np.isfinite(beta) & np.isfinite(se) & (se > 0)
    beta, w = beta[ok], 1 / se[ok] ** 2
    if len(beta) < 2:
        return float("nan"), 0, float("nan")
    mean = np.sum(w * beta) / np.sum(w)
    q = float(np.sum(w * (beta - mean) ** 2))
    df = len(beta) - 1
    return q, df, float(stats.chi2.sf(q, df))


def subgroup_test_text(pooled_routes: pd.DataFrame, effect: str, level: float, qm: pd.Series | None) -> str:
    """The test line under the total: the mixed-effects moderator test of route (``moderators.csv``:
    QM with its df, as ``rma(mods = ~ route)``) when there is one, else RevMan's Q on the subgroup
    estimates with standard errors read from their intervals (so a t interval keeps its width)."""
    if qm is not None:
        df = str(qm["qm_df"]).replace(",", ", ")
        stat = f"F({df})" if "," in str(qm["qm_df"]) else f"χ²({df})"
        return f"Test for subgroup differences: QM = {num(qm['qm'])}, {stat}, {p_text(qm['qm_p'])}"
    z = stats.norm.ppf(0.5 + level / 2)
    f = to_analysis(effect)
    beta = f(pooled_routes["estimate"].to_numpy(float))
    se = (f(pooled_routes["ci_high"].to_numpy(float)) - f(pooled_routes["ci_low"].to_numpy(float))) / (2 * z)
    q, df, pv = subgroup_test(beta, se)
    if not df:
        return ""
    return f"Test for subgroup differences: Q = {num(q)}, df = {df} ({p_text(pv)})"


def to_analysis(effect: str):
    """The inverse of :func:`to_natural`: ratios to logs, proportions to logits."""
    if effect in ("log_rr", "log_or", "log_hr"):
        return np.log
    if effect == "logit_p":
        return lambda p: np.log(np.asarray(p, float) / (1 - np.asarray(p, float)))
    return lambda x: np.asarray(x, float)


def to_natural(effect: str, x):
    """Analysis scale -> the scale the axis shows (ratios exponentiated, logits to proportions)."""
    return to_reporting_scale(effect, x)


# --------------------------------------------------------------------------------------------- layout


def arm_key(r) -> tuple:
    """The effect size a per-arm text belongs to: study, comparison, outcome, effect, time bin."""
    return (r["study_id"], r["comparison"], r["outcome"], r["effect"], r["time_bin"])


def _arm_texts(r: pd.Series, arm_values: dict | None) -> tuple[str, str]:
    """Per-arm data as RevMan prints them: events/total, or mean (SD), n; else n alone."""

    def count(e, n):
        if pd.notna(n) and pd.notna(e):
            return f"{int(e)}/{int(n)}"
        return f"{int(n)}" if pd.notna(n) else ""

    if r["group"] != "contrast":  # one arm per study (proportions): its events/total
        return count(r.get("events_treatment"), r.get("n_treatment")), ""
    extra = (arm_values or {}).get(arm_key(r))
    if extra:
        return extra
    return count(r.get("events_treatment"), r.get("n_treatment")), count(r.get("events_control"), r.get("n_control"))


#: Side (points) of the square of the heaviest study, and the smallest side drawn.
SQUARE_MAX, SQUARE_MIN = 8.5, 1.5


def square_side(weight: float, max_weight: float) -> float:
    """Side of a study's square in points: area proportional to its weight (RevMan, metafor), the
    heaviest study at :data:`SQUARE_MAX`; never below :data:`SQUARE_MIN` so a light study stays visible."""
    if not (np.isfinite(weight) and max_weight > 0):
        return SQUARE_MIN
    return max(SQUARE_MAX * math.sqrt(max(weight, 0.0) / max_weight), SQUARE_MIN)


def forest_rows(
    rows: pd.DataFrame,
    pooled: pd.DataFrame,
    labels: dict | None = None,
    arm_values: dict | None = None,
    level: float = 0.95,
    mh: pd.Series | None = None,
    route_test: pd.Series | None = None,
) -> pd.DataFrame:
    """The rows of a forest plot, top to bottom, with every number it prints.

    ``rows``: effect sizes of one outcome x effect x group x time bin (``yi``, ``vi`` on the analysis
    scale, ``study_id``, ``route``, ``comparison``, ``crossover``, arm counts); ``pooled``: the pooled
    rows of the same cell, one per route and ``all`` (reporting scale, with ``beta`` and ``se``);
    ``labels``: study_id -> "Author year"; ``arm_values``: :func:`arm_key` -> (ketamine text,
    control text) where arm-level means and SDs exist; ``mh``: an optional Mantel-Haenszel row;
    ``route_test``: the ``moderators.csv`` row of the route moderator for this cell, if any.

    Columns: ``kind`` (heading, study, subtotal, het, spacer, total, pi, mh, test), ``label``,
    ``route``, ``study_id``, ``treatment``, ``control``, ``weight`` (% of the all-routes weight),
    ``est``, ``lo``, ``hi`` (natural scale), ``text`` (the estimate column).
    """
    labels = labels or {}
    effect = rows["effect"].iloc[0]
    z = stats.norm.ppf(0.5 + level / 2)
    total = pooled[pooled["route"] == "all"]
    tot = total.iloc[0] if not total.empty else None
    tau2 = float(tot["tau2"]) if tot is not None and np.isfinite(tot["tau2"]) else 0.0
    w = 1 / (rows["vi"].to_numpy(float) + tau2)
    rows = rows.assign(_w=100 * w / w.sum())
    routes = sorted(rows["route"].unique())
    several = len(routes) > 1
    out = []

    def add(kind, label, **kw):
        out.append({"kind": kind, "label": label, "route": kw.pop("route", ""), **kw})

    for route in routes:
        sub = rows[rows["route"] == route].sort_values(["year", "study_id", "comparison"], na_position="last")
        add("heading", ROUTE_NAMES.get(route, route), route=route)
        for _, r in sub.iterrows():
            name = labels.get(r["study_id"], r["study_id"])
            n_comp = int((rows["study_id"] == r["study_id"]).sum())
            if n_comp > 1:
                name += f" ({r['comparison']})"
            if str(r["crossover"]).lower() == "true":
                name += " (crossover)"
            se = math.sqrt(r["vi"])
            est, lo, hi = to_natural(effect, [r["yi"], r["yi"] - z * se, r["yi"] + z * se])
            t_text, c_text = _arm_texts(r, arm_values)
            add("study", name, route=route, study_id=r["study_id"], treatment=t_text, control=c_text,
                weight=r["_w"], est=est, lo=lo, hi=hi, text=interval(est, lo, hi))  # fmt: skip
        p = pooled[pooled["route"] == route]
        if several and not p.empty and int(p["k"].iloc[0]) > 1:
            q = p.iloc[0]
            add("subtotal", f"Subtotal (k = {int(q['k'])})", route=route, weight=sub["_w"].sum(),
                est=q["estimate"], lo=q["ci_low"], hi=q["ci_high"],
                text=interval(q["estimate"], q["ci_low"], q["ci_high"]))  # fmt: skip
            add("het", heterogeneity_text(q["tau2"], q["i2"], q["q"], int(q["k"])), route=route)
        add("spacer", "")
    if tot is not None:
        k = int(tot["k"])
        n = tot.get("n_participants")
        who = f"; {int(n):,} participants" if pd.notna(n) else ""
        name = f"Total (k = {k}{who})" if k > 1 else f"Single study{who}"
        add("total", name, route="all", weight=100.0, est=tot["estimate"], lo=tot["ci_low"], hi=tot["ci_high"],
            text=interval(tot["estimate"], tot["ci_low"], tot["ci_high"]))  # fmt: skip
        if k > 1 and np.isfinite(tot["pi_low"]):
            add("pi", "Prediction interval", route="all", est=np.nan, lo=tot["pi_low"], hi=tot["pi_high"],
                text=f"[{num(tot['pi_low'])}, {num(tot['pi_high'])}]")  # fmt: skip
        if mh is not None:
            est, lo, hi = mh["estimate"], mh["ci_low"], mh["ci_high"]
            label = f"Mantel-Haenszel common effect (k = {int(mh['k'])})"
            add("mh", label, route="all", est=est, lo=lo, hi=hi, text=interval(est, lo, hi))
        if k > 1:
            add("het", heterogeneity_text(tot["tau2"], tot["i2"], tot["q"], k), route="all")
        if several:
            text = subgroup_test_text(pooled[pooled["route"] != "all"], effect, level, route_test)
            if text:
                add("test", text)
    table = pd.DataFrame(out)
    for col in ("study_id", "treatment", "control", "text"):
        table[col] = table.get(col, pd.Series(dtype=object)).fillna("")
    for col in ("weight", "est", "lo", "hi"):
        table[col] = pd.to_numeric(table.get(col, pd.Series(dtype=float)), errors="coerce")
    return table[["kind", "label", "route", "study_id", "treatment", "control", "weight", "est", "lo", "hi", "text"]]


# --------------------------------------------------------------------------------------------- axes


def axis_limits(effect: str, points, lows, highs, must=()) -> tuple[float, float]:
    """A readable x range (natural scale): every point estimate and ``must`` (the total's interval),
    the null, and study intervals as far as they reach but not more than the spread of the points
    beyond it (or two typical half-widths), so that one wide interval cannot squash the rest; what
    falls outside is clipped and drawn with an arrow. Proportions and risk differences never leave
    their possible range."""
    _, _, _, log, clamp = FOREST_AXIS.get(effect, ("", "", "", False, None))
    f = np.log if log else (lambda a: np.asarray(a, float))
    pts = f(np.asarray([*points, *must], float))
    pts = pts[np.isfinite(pts)]
    lo_i, hi_i = f(np.asarray(lows, float)), f(np.asarray(highs, float))
    null = 0.0
    if pts.size == 0:
        lo, hi = -1.0, 1.0
    else:
        core_lo, core_hi = min(pts.min(), null), max(pts.max(), null)
        half = np.nanmedian((hi_i - lo_i) / 2) if len(lo_i) else 0.0
        reach = max(core_hi - core_lo, 2 * (half if np.isfinite(half) else 0.0), 0.1)
        lo = max(np.nanmin([*lo_i, core_lo]), core_lo - reach)
        hi = min(np.nanmax([*hi_i, core_hi]), core_hi + reach)
    pad = 0.04 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    if log:
        return float(np.exp(lo)), float(np.exp(hi))
    if clamp:
        lo, hi = max(lo, clamp[0]), min(hi, clamp[1])
    return float(lo), float(hi)


def natural_log_axis(ax, lo: float, hi: float) -> None:
    """A log x axis labelled in natural units (0.5, 1, 2) rather than powers of ten."""
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ticks = [t for t in LOG_TICKS if lo <= t <= hi]
    if len(ticks) > 7:  # keep it readable: the 1-10-100 series and its halves
        ticks = [t for t in ticks if str(t).lstrip("0.").startswith(("1", "5"))]
    ax.xaxis.set_major_locator(ticker.FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ticker.FixedFormatter([f"{t:g}" for t in ticks]))
    ax.xaxis.set_minor_locator(ticker.NullLocator())


def _arrows(ax, y, lo, hi, colour, zorder=4) -> None:
    """Arrowheads at the axis ends an interval runs past (the artist itself is clipped by the axes)."""
    xmin, xmax = ax.get_xlim()
    if lo < xmin:
        ax.plot([xmin], [y], marker="<", color=colour, ms=4, mew=0, zorder=zorder, clip_on=False)
    if hi > xmax:
        ax.plot([xmax], [y], marker=">", color=colour, ms=4, mew=0, zorder=zorder, clip_on=False)


def clipped_segment(ax, y, lo, hi, colour, lw=1.0, ls="-", zorder=2, gid=None) -> None:
    """A horizontal interval; where it runs past the axis an arrowhead marks the cut."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return
    ax.plot([lo, hi], [y, y], color=colour, lw=lw, ls=ls, zorder=zorder, solid_capstyle="butt", gid=gid)
    _arrows(ax, y, lo, hi, colour, zorder + 1)


def clipped_diamond(ax, y, est, lo, hi, colour, filled=True, half=0.32, gid=None) -> None:
    """A pooled diamond (cut by the axes where it runs past them, with an arrowhead there)."""
    if not all(np.isfinite([est, lo, hi])):
        return
    ax.fill([lo, est, hi, est], [y, y - half, y, y + half], facecolor=colour if filled else "white",
            edgecolor=colour, lw=0.8, zorder=3, gid=gid)  # fmt: skip
    _arrows(ax, y, lo, hi, colour)


def favours(ax, null: float, left: str = "Favours control", right: str = "Favours ketamine") -> None:
    """RevMan's labels under the axis, either side of the line of no effect."""
    kw = {"xycoords": ("data", "axes fraction"), "textcoords": "offset points", "fontsize": 6, "color": "#444444"}
    ax.annotate(f"\u2190 {left}", xy=(null, 0), xytext=(-3, -20), ha="right", va="top", **kw)
    ax.annotate(f"{right} \u2192", xy=(null, 0), xytext=(3, -20), ha="left", va="top", **kw)


# --------------------------------------------------------------------------------------------- figure


def forest_plot(
    table: pd.DataFrame,
    effect: str,
    title: str,
    level: float = 0.95,
    group: str = "contrast",
    headers: dict | None = None,
):
    """Draw the rows of :func:`forest_rows`: study, per-arm data, weight, the plot, estimate [CI].

    ``headers``: column titles ``label``, ``t``, ``c``, ``w``, ``sub`` (the line under ``t``/``c``)
    and ``plot_sub`` (under the plot column), replacing those for ``group``.

    Squares have an area proportional to the weight (``gid`` ``square-<study_id>-<row>`` in the SVG;
    texts carry ``gid`` ``label-…``, ``weight-…``, ``het-…``), diamonds are pooled estimates with
    their CI, the bar under the total is the prediction interval, and intervals past the axis end in
    an arrowhead.
    """
    from .plots import style

    style()
    axis_label, name, abbr, log, _ = FOREST_AXIS[effect]
    n = len(table)
    study = table[table["kind"] == "study"]
    spread = study if len(study) else table[table["kind"] == "level"]  # the intervals that set the range
    drawn = table[table["kind"].isin(["study", "subtotal", "total", "mh", "level"])]
    total = table[table["kind"] == "total"]
    lo, hi = axis_limits(effect, drawn["est"], spread["lo"], spread["hi"],
                         must=[*total["lo"], *total["hi"]] if len(total) else ())  # fmt: skip
    contrast = group == "contrast"
    width = 7.7
    cols = {"label": 0.06, "t": 2.75, "c": 3.50, "w": 4.02, "ax0": 4.18, "ax1": 6.15, "text": 6.25}
    if not contrast:
        cols.update(t=3.05)
    top_in, bottom_in = 0.58, 0.72
    height = top_in + bottom_in + ROW_IN * n
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes([cols["ax0"] / width, bottom_in / height, (cols["ax1"] - cols["ax0"]) / width,
                       ROW_IN * n / height])  # fmt: skip
    ax.set_ylim(n - 0.5, -0.5)
    if log:
        natural_log_axis(ax, lo, hi)
    else:
        ax.set_xlim(lo, hi)
        ax.xaxis.set_major_locator(ticker.MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    null = 1.0 if log else 0.0
    if effect != "logit_p":
        ax.axvline(null, color="#333333", lw=0.7, zorder=1)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#333333")
    ax.set_yticks([])
    ax.grid(False)
    ax.set_xlabel(axis_label, fontsize=7, labelpad=18 if effect != "logit_p" else 4)
    ax.tick_params(axis="x", labelsize=6.5, length=3)
    if effect != "logit_p":
        favours(ax, null)
    tr = blended_transform_factory(fig.transFigure, ax.transData)

    def col(x_in, y, s, ha="left", gid=None, **kw):
        ax.text(x_in / width, y, s, transform=tr, ha=ha, va="center", fontsize=kw.pop("fontsize", 6.5), gid=gid,
                **kw)  # fmt: skip

    # column headers above the first row, a rule under them, the title above
    head_y, sub_y = -1.6, -1.0
    level_txt = f"{level:.0%}"
    bold = {"fontweight": "bold"}
    small = {"fontsize": 5.5, "color": "#555555"}
    if contrast:
        head = {"label": "Study", "t": "Ketamine", "c": "Control", "w": "Weight",
                "sub": "events/total, or mean (SD), n", "plot_sub": f"random effects, {level_txt} CI"}  # fmt: skip
    else:
        head = {"label": "Study", "t": "Events/total", "c": "", "w": "Weight", "sub": "",
                "plot_sub": f"random effects, {level_txt} CI"}  # fmt: skip
    head.update(headers or {})
    col(cols["label"], head_y, head["label"], **bold)
    col(cols["t"], head_y, head["t"], ha="right", **bold)
    col(cols["c"], head_y, head["c"], ha="right", **bold)
    col(cols["c"] if head["c"] else cols["t"], sub_y, head["sub"], ha="right", **small)
    col(cols["w"], head_y, head["w"], ha="right", **bold)
    col((cols["ax0"] + cols["ax1"]) / 2, head_y, name, ha="center", **bold)
    col((cols["ax0"] + cols["ax1"]) / 2, sub_y, head["plot_sub"], ha="center", **small)
    col(cols["text"], head_y, f"{abbr} [{level_txt} CI]", **bold)
    ax.add_artist(plt.Line2D([0.01, 0.99], [-0.62, -0.62], transform=tr, color="#333333", lw=0.6, clip_on=False))
    fig.text(0.01, 1 - 0.1 / height, title, ha="left", va="top", fontsize=8.5, fontweight="bold")

    max_w = study["weight"].max() if len(study) else 1.0
    for i, r in enumerate(table.itertuples(index=False)):
        y = i
        colour = ROUTE_COLOURS.get(r.route, "#000000")
        sid = r.study_id or r.kind
        if r.kind == "heading":
            col(cols["label"], y, r.label, fontweight="bold", color=colour, gid=f"heading-{i}")
            continue
        if r.kind in ("het", "test"):
            col(cols["label"] + 0.1, y, r.label, fontsize=6, style="italic", color="#333333", gid=f"{r.kind}-{i}")
            continue
        if r.kind == "spacer":
            continue
        bold = r.kind in ("subtotal", "total")
        indent = 0.1 if r.kind in ("study", "level") else 0.0
        col(cols["label"] + indent, y, r.label, fontweight="bold" if bold else "normal", gid=f"label-{sid}-{i}")
        if r.treatment:
            col(cols["t"], y, r.treatment, ha="right", gid=f"arm-t-{sid}-{i}")
        if r.control:
            col(cols["c"], y, r.control, ha="right", gid=f"arm-c-{sid}-{i}")
        if np.isfinite(r.weight):
            col(cols["w"], y, f"{r.weight:.1f}%", ha="right", fontweight="bold" if bold else "normal",
                gid=f"weight-{sid}-{i}")  # fmt: skip
        col(cols["text"], y, r.text, fontweight="bold" if bold else "normal", gid=f"estimate-{sid}-{i}")
        if r.kind == "study":
            clipped_segment(ax, y, r.lo, r.hi, colour, lw=0.9)
            if lo <= r.est <= hi:
                side = square_side(r.weight, max_w)
                ax.plot([r.est], [y], marker="s", ms=side, color=colour, mew=0, zorder=3, gid=f"square-{sid}-{i}")
        elif r.kind == "pi":
            clipped_segment(ax, y, r.lo, r.hi, "#000000", lw=2.2, gid=f"pi-{i}")
        else:
            colour = {"subtotal": colour, "level": "#0072B2"}.get(r.kind, "#000000")
            clipped_diamond(ax, y, r.est, r.lo, r.hi, colour, filled=r.kind != "mh", gid=f"diamond-{r.kind}-{i}")
    return fig


def continuous_arm_texts(es: pd.DataFrame, outcomes: pd.DataFrame, arms: pd.DataFrame) -> dict:
    """:func:`arm_key` -> ("mean (SD), n" of ketamine, of control) for SMDs computed from one
    arm-level row per side (``source_rows`` into ``outcomes_continuous.csv``); merged arms and
    printed contrasts have no single mean to show and are left out (their n is shown instead)."""
    if outcomes is None or outcomes.empty:
        return {}
    by_row = outcomes.set_index("_row")
    role = arms.set_index(["study_id", "arm_id"])["role"].to_dict()
    out = {}
    for _, r in es.iterrows():
        sides: dict[str, list] = {}
        for ref in str(r.get("source_rows") or "").split(";"):
            table, _, row = ref.rpartition(":")
            if table != "outcomes_continuous.csv" or not row.isdigit() or int(row) not in by_row.index:
                sides.setdefault("other", []).append(ref)
                continue
            o = by_row.loc[int(row)]
            sides.setdefault(role.get((o["study_id"], o["arm_id"]), "other"), []).append(o)
        if set(sides) != {"ketamine", "control"} or any(len(v) != 1 for v in sides.values()):
            continue
        texts = []
        for side in ("ketamine", "control"):
            o = sides[side][0]
            if pd.isna(o["mean"]) or pd.isna(o["sd"]) or pd.isna(o["n"]):
                break
            texts.append(f"{num(float(o['mean']), 1)} ({num(float(o['sd']), 1)}), {int(o['n'])}")
        if len(texts) == 2:
            out[arm_key(r)] = tuple(texts)
    return out


def moderator_rows(subgroups: pd.DataFrame, tests: pd.DataFrame) -> pd.DataFrame:
    """Rows of the moderator figure in :func:`forest_plot`'s layout: a heading per moderator, one
    diamond per level (its separate pooled fit: k, participants, estimate [CI]) and the line of its
    mixed-effects test (QM with its df and p, ``moderators.csv``)."""
    out = []
    for mod, cell in subgroups.groupby("moderator", sort=True):
        t = tests[tests["moderator"] == mod]
        ref = f" (reference: {t['reference'].iloc[0]})" if len(t) else ""
        out.append({"kind": "heading", "label": f"{mod.capitalize()}{ref}"})
        for _, r in cell.sort_values("level").iterrows():
            n = r.get("n_participants")
            out.append({"kind": "level", "label": str(r["level"]), "treatment": f"{int(r['k'])}",
                        "control": f"{int(n):,}" if pd.notna(n) else "", "est": r["estimate"], "lo": r["ci_low"],
                        "hi": r["ci_high"], "text": interval(r["estimate"], r["ci_low"], r["ci_high"])})  # fmt: skip
        if len(t):
            q = t.iloc[0]
            df = str(q["qm_df"]).replace(",", ", ")
            stat = f"F({df})" if "," in str(q["qm_df"]) else f"χ²({df})"
            text = f"Test of {mod}: QM = {num(q['qm'])}, {stat}, {p_text(q['qm_p'])}"
        else:
            text = f"No test of {mod}: one level, or too few studies"
        out.append({"kind": "test", "label": text})
        out.append({"kind": "spacer", "label": ""})
    table = pd.DataFrame(out[:-1] if out else [], columns=["kind", "label", "treatment", "control", "est", "lo",
                                                           "hi", "text"])  # fmt: skip
    table["route"], table["study_id"], table["weight"] = "", "", np.nan
    for c in ("treatment", "control", "text"):
        table[c] = table[c].fillna("")
    return table[["kind", "label", "route", "study_id", "treatment", "control", "weight", "est", "lo", "hi", "text"]]
