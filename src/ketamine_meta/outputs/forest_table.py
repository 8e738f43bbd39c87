"""The rows of a forest plot as a table (labels, arm data, weights, pooled rows, heterogeneity and
subgroup-test text), before anything is drawn; and the plan of every forest plot of a run
(:func:`forest_plan`: which plots, their titles, captions, sizes and rows), written by the pooling
job so that the report can be built while the plots are being drawn.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special

from ketamine_meta.claims.labels import forest_figures
from ketamine_meta.core.settings import Config
from ketamine_meta.evidence.analyses import MH_EFFECTS, to_reporting_scale
from ketamine_meta.outputs import captions
from ketamine_meta.outputs.writers import PNG_DPI

ROUTE_NAMES = {"iv": "Intravenous", "intranasal": "Intranasal", "oral": "Oral", "im_sc": "IM / SC", "all": "All"}
#: Side (points) of the square of the heaviest study, and the smallest side drawn.
SQUARE_MAX, SQUARE_MIN = 8.5, 1.5

MINUS = "\u2212"

#: Page layout of a forest plot, inches: the width, the band above the first row (title, column
#: headers), the band below the last (axis, its label, the "favours" labels) and one row.
FOREST_WIDTH_IN, TOP_IN, BOTTOM_IN, ROW_IN = 7.7, 0.58, 0.72, 0.19

#: Columns of a forest plot's rows (:func:`forest_rows`, :func:`moderator_rows`, forest_rows.csv).
ROW_COLUMNS = ["kind", "label", "route", "study_id", "treatment", "control", "weight", "weight_text", "est", "lo",
               "hi", "text"]  # fmt: skip

#: Columns of forest_index.csv, one row per forest plot.
INDEX_COLUMNS = ["figure", "outcome", "effect", "group", "time_bin", "k", "title", "width_in", "height_in",
                 "png_width", "png_height", "caption"]  # fmt: skip


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
    p = special.chdtrc(k - 1, q)
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
    return q, df, float(special.chdtrc(df, q))


def subgroup_test_text(pooled_routes: pd.DataFrame, effect: str, level: float, qm: pd.Series | None) -> str:
    """The test line under the total: the mixed-effects moderator test of route (``moderators.csv``:
    QM with its df, as ``rma(mods = ~ route)``) when there is one, else RevMan's Q on the subgroup
    estimates with standard errors read from their intervals (so a t interval keeps its width)."""
    if qm is not None:
        df = str(qm["qm_df"]).replace(",", ", ")
        stat = f"F({df})" if "," in str(qm["qm_df"]) else f"χ²({df})"
        return f"Test for subgroup differences: QM = {num(qm['qm'])}, {stat}, {p_text(qm['qm_p'])}"
    z = special.ndtri(0.5 + level / 2)
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
    z = special.ndtri(0.5 + level / 2)
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

    comparisons_of = rows["study_id"].value_counts().to_dict()
    for route in routes:
        sub = rows[rows["route"] == route].sort_values(["year", "study_id", "comparison"], na_position="last")
        add("heading", ROUTE_NAMES.get(route, route), route=route)
        for r in sub.to_dict("records"):  # plain dicts: ~20x cheaper per row than iterrows' Series
            name = labels.get(r["study_id"], r["study_id"])
            if comparisons_of[r["study_id"]] > 1:
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
    table["weight_text"] = weight_texts(table["weight"])
    return table[ROW_COLUMNS]


def weight_texts(weights: pd.Series) -> list[str]:
    """The weight column as printed ("28.1%"; empty where there is no weight): fixed here, from the
    full-precision weight, so that a plot drawn from forest_rows.csv prints what this table says."""
    return [f"{w:.1f}%" if np.isfinite(w) else "" for w in weights.to_numpy(float)]


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
    table["route"], table["study_id"], table["weight"], table["weight_text"] = "", "", np.nan, ""
    for c in ("treatment", "control", "text"):
        table[c] = table[c].fillna("")
    return table[ROW_COLUMNS]


def figure_size(n_rows: int) -> tuple[float, float]:
    """Width and height (inches) of a forest plot of ``n_rows`` rows."""
    return FOREST_WIDTH_IN, TOP_IN + BOTTOM_IN + ROW_IN * n_rows


def png_pixels(width_in: float, height_in: float) -> dict[str, int]:
    """The PNG's size in pixels at :data:`writers.PNG_DPI`, so the report can size a plot not yet
    drawn. matplotlib's Agg canvas truncates ``inches x dpi`` as its transforms compute it (3.01 in
    at 300 dpi: 903.0, where Python's product is 902.9999999999999): truncated here after a nudge
    far below a pixel and far above rounding error. tests/test_forest.py checks every plot."""
    return {name: math.floor(inches * PNG_DPI + 1e-6) for name, inches in
            (("png_width", width_in), ("png_height", height_in))}  # fmt: skip


def forest_plan(cfg: Config, es: pd.DataFrame, pooled: pd.DataFrame, moderators: pd.DataFrame,
                tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Every forest plot of a run, before any is drawn: one per primary outcome x effect x group x
    time bin whose all-routes analysis has k >= ``model.min_k_forest``, for the effects of
    ``model.forest_effects`` (:func:`ketamine_meta.claims.labels.forest_figures` decides, so a
    metric never points at a plot that is not drawn).

    ``es``: effect_sizes.csv; ``pooled``: pooled.csv; ``moderators``: moderators.csv (its route
    tests are printed as the test for subgroup differences); ``tables``: the extraction's tables
    (``studies``, ``arms``, ``outcomes_continuous``).

    Returns
    -------
    index : one row per plot (:data:`INDEX_COLUMNS`): its PNG path relative to the results folder,
        the cell, the all-routes k, title, size in inches and in PNG pixels, and caption.
    rows : every plot's rows (``figure`` then :data:`ROW_COLUMNS`), top to bottom: what the plot
        draws, with every number it prints.
    """
    es = es[es["primary"].astype(bool)]
    prim = pooled[pooled["subset"] == "primary"]
    mods = moderators[(moderators["moderator"] == "route") & (moderators.get("subset", "primary") == "primary")]
    labels = captions.study_labels(tables["studies"])
    arm_texts = continuous_arm_texts(es[es["effect"] == "smd"], tables.get("outcomes_continuous"), tables["arms"])
    level = cfg.model.level
    drawn = forest_figures(cfg, prim)  # which cells get a plot: one rule, shared with the metrics
    index, parts = [], []
    for (outcome, effect, group, time_bin), cell in es.groupby(["outcome", "effect", "group", "time_bin"], sort=True):
        figure = drawn.get((outcome, effect, group, time_bin))
        if figure is None:
            continue
        in_cell = (prim["outcome"] == outcome) & (prim["group"] == group) & (prim["time_bin"] == time_bin)
        p = prim[in_cell & (prim["effect"] == effect)]
        k_all = int(p.loc[p["route"] == "all", "k"].iloc[0])
        mh = prim[in_cell & (prim["effect"] == MH_EFFECTS.get(effect, "-")) & (prim["route"] == "all")]
        mh = mh.iloc[0] if len(mh) and int(mh["k"].iloc[0]) > 1 else None
        what = "ketamine vs control" if group == "contrast" else f"{group.replace('_', '-')} arms"
        title = f"{outcome.replace('_', ' ').capitalize()}, {what}, {cfg.bin_label(time_bin)}"
        qm = mods[(mods["outcome"] == outcome) & (mods["effect"] == effect) & (mods["time_bin"] == time_bin)]
        qm = qm.iloc[0] if group == "contrast" and len(qm) else None
        table = forest_rows(cell, p, labels, arm_texts, level, mh, qm)
        caption = captions.forest_caption(cfg, title, k_all, effect, cell["route"].nunique() > 1, qm is not None,
                                          mh is not None)  # fmt: skip
        width, height = figure_size(len(table))
        index.append({"figure": figure, "outcome": outcome, "effect": effect, "group": group,
                      "time_bin": time_bin, "k": k_all, "title": title, "width_in": width, "height_in": height,
                      **png_pixels(width, height), "caption": caption})  # fmt: skip
        parts.append(table.assign(figure=figure)[["figure", *ROW_COLUMNS]])
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["figure", *ROW_COLUMNS])
    return pd.DataFrame(index, columns=INDEX_COLUMNS), rows
