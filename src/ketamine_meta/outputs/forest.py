"""Forest plots to the standard of ``metafor::forest`` and RevMan, and the axis helpers every
row-per-estimate figure shares (natural units on log axes, intervals clipped with arrows).

:func:`forest_rows` lays out the numbers (one row per study, subgroup subtotal, heterogeneity line,
total, prediction interval, subgroup test); :func:`forest_plot` draws them. The layout is a plain
DataFrame so that tests can check the weights and texts without reading pixels.

Weights are the random-effects weights of the all-routes model, ``w_i = 1/(v_i + τ²)`` with that
model's τ² (metafor's ``weights(res)``), as a percentage of their sum; squares have an area
proportional to the weight. The test for subgroup differences is RevMan's: a Q test of the subgroup
estimates around their inverse-variance mean, ``Q = Σ (β_g - β̄)² / se_g²`` on ``G - 1`` df."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless and deterministic; must precede pyplot


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import ticker  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

from ketamine_meta.outputs.forest_table import BOTTOM_IN, ROW_IN, figure_size, square_side  # noqa: E402
from ketamine_meta.outputs.style import style  # noqa: E402

#: Effect -> (axis label, plot-column header, estimate-column abbreviation, log axis, axis clamp).
FOREST_AXIS = {
    "smd": ("Hedges' g (standardised mean difference)", "Hedges' g", "g", False, None),
    "log_rr": ("Risk ratio, ketamine / control (log scale)", "Risk ratio", "RR", True, None),
    "log_or": ("Odds ratio, ketamine / control (log scale)", "Odds ratio", "OR", True, None),
    "log_hr": ("Hazard ratio, control / ketamine (log scale)", "Hazard ratio", "HR", True, None),
    "logit_p": ("Proportion of the arm", "Proportion", "Proportion", False, (0.0, 1.0)),
    "rd": ("Risk difference, ketamine - control", "Risk difference", "RD", False, (-1.0, 1.0)),
}


ROUTE_COLOURS = {"all": "#000000", "iv": "#0072B2", "intranasal": "#E69F00", "oral": "#009E73", "im_sc": "#CC79A7"}


#: Candidate ticks of a log axis, in natural units (1-2-5 series).
LOG_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500)


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
    width, height = figure_size(n)
    cols = {"label": 0.06, "t": 2.75, "c": 3.50, "w": 4.02, "ax0": 4.18, "ax1": 6.15, "text": 6.25}
    if not contrast:
        cols.update(t=3.05)
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes([cols["ax0"] / width, BOTTOM_IN / height, (cols["ax1"] - cols["ax0"]) / width,
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
        if r.weight_text:
            col(cols["w"], y, r.weight_text, ha="right", fontweight="bold" if bold else "normal",
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
