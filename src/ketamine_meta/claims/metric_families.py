"""The metric rows of each family beyond the pooled and rate rows (relapse, shares, adverse events,
reference values, NNT, ratios, moderators, dose, time course, single studies), each under its key
of :mod:`ketamine_meta.claims.keys`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ketamine_meta.claims.labels import EFFECT_WORDS, anchor, forest_figures
from ketamine_meta.evidence.analyses import to_reporting_scale
from ketamine_meta.stats import effects


def relapse_metrics(pooled: pd.DataFrame, medians: pd.DataFrame) -> list[dict]:
    """``relapse.proportion.<condition>.<induction>.<window>`` (pooled; k = 1 is the study's own
    proportion and interval) and ``relapse.median_days.<study>.<condition>`` (one study's median
    with the interval it printed, or none), plus ``relapse.median_days.<condition>.<induction>``,
    the range of study medians when there are at least two."""
    rows = []
    for _, r in pooled.iterrows():
        ind = {"single": "after a single dose", "course": "after a course", "any": "after a single dose or a course"}
        cohort = "" if r["cohort"] == "responders" else f".{r['cohort']}"
        rows.append({"metric": f"relapse.proportion.{r['condition']}.{r['induction']}.{r['window']}{cohort}",
                     "value": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"], "interval": "ci",
                     "k": r["k"], "n_participants": r["n_participants"], "scale": "identity", "i2": np.nan,
                     "studies": r["studies"], "analysis_id": r["analysis_id"], "unit": "proportion",
                     "description": f"proportion of responders relapsed by window {r['window']} "
                     f"{ind.get(r['induction'], '')} ({r['condition']}; {r['method']}, {r['ci_method']} interval)",
                     "figure": "figures/relapse.png"})  # fmt: skip
    for _, r in medians.iterrows():
        has_ci = pd.notna(r["ci_low"]) and pd.notna(r["ci_high"])
        rows.append({"metric": f"relapse.median_days.{r['study_id']}.{r['condition']}", "value": r["median_days"],
                     "ci_low": r["ci_low"] if has_ci else np.nan, "ci_high": r["ci_high"] if has_ci else np.nan,
                     "interval": "ci" if has_ci else "none", "k": 1, "n_participants": r["n_responders"],
                     "scale": "identity", "studies": r["study_id"], "analysis_id": "", "unit": "days",
                     "description": f"{r['study_id']} median days to relapse ({r['condition']}, {r['induction']}"
                     f" induction; {r['source']}{'' if has_ci else '; no interval printed'})",
                     "figure": "figures/relapse.png"})  # fmt: skip
    for (cond, ind), cell in pd.concat([medians, medians.assign(induction="any")]).groupby(["condition", "induction"]):
        cell = cell.drop_duplicates("study_id")
        if len(cell) < 2 or ind == "unknown":
            continue
        rows.append({"metric": f"relapse.median_days.{cond}.{ind}", "value": float(np.median(cell["median_days"])),
                     "ci_low": float(cell["median_days"].min()), "ci_high": float(cell["median_days"].max()),
                     "interval": "range", "k": len(cell), "n_participants": cell["n_responders"].sum(),
                     "scale": "identity", "studies": ";".join(sorted(cell["study_id"])), "analysis_id": "",
                     "unit": "days", "description": f"median of {len(cell)} study medians of days to relapse ({cond},"
                     f" {ind} induction); the interval is their range", "figure": "figures/relapse.png"})  # fmt: skip
    return rows


def share_metrics(shares: pd.DataFrame | None) -> list[dict]:
    """``relapse.share.<condition>.<induction>.<window>[.remitters]``: median and range of every
    printed share relapsed, counted or not (descriptive; the range is not a confidence interval)."""
    if shares is None or shares.empty:
        return []
    return [{"metric": r["analysis_id"].replace("relapse_share.", "relapse.share.", 1), "value": r["median"],
             "ci_low": r["min"], "ci_high": r["max"], "interval": "range", "k": r["k"], "scale": "identity",
             "studies": r["studies"], "analysis_id": r["analysis_id"], "unit": "proportion",
             "figure": "figures/relapse.png",
             "description": f"median of the printed shares of {r['cohort']} relapsed by window {r['window']} "
             f"({r['condition']}, {r['induction']} induction), counted or printed as a percentage; the interval "
             "is their range"} for _, r in shares.iterrows()]  # fmt: skip


def adverse_metrics(pooled: pd.DataFrame | None) -> list[dict]:
    """``ae.<event>.<log_rr|mh_rr>.all`` (ketamine vs placebo-type controls) and
    ``ae_rate.<event>.<ketamine|control>.all`` (proportion with the event)."""
    if pooled is None or pooled.empty:
        return []
    rows = []
    for _, r in pooled.iterrows():
        what = ("risk ratio (ketamine vs control" + (", Mantel-Haenszel" if r["effect"] == "mh_rr" else "") + ")"
                if r["group"] == "contrast" else f"proportion in {r['group']} arms")  # fmt: skip
        rows.append({"metric": r["analysis_id"], "value": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                     "interval": "ci", "k": r["k"], "n_participants": r["n_participants"], "i2": r["i2"],
                     "scale": "identity", "studies": r["studies"], "analysis_id": r["analysis_id"],
                     "unit": r["effect"], "figure": "",
                     "description": f"{r['event'].replace('_', ' ')}: pooled {what}, controls "
                     f"{r['control_types'] or 'none'} ({r['method']})"})  # fmt: skip
    return rows


def reference_metrics(reference: pd.DataFrame | None) -> list[dict]:
    """``reference.<quantity>``: a number read from a source, not computed (reference_values.csv)."""
    if reference is None:
        return []
    return [
        {
            "metric": f"reference.{r['quantity']}",
            "value": r["value"],
            "ci_low": r["ci_low"],
            "ci_high": r["ci_high"],
            "interval": "ci" if pd.notna(r["ci_low"]) else "none",
            "k": np.nan,
            "studies": "",
            "analysis_id": "",
            "unit": r["scale"] or "",
            "figure": "",
            "description": f"reference value read from {r['source_url']} ({r['locator']}): {r['description']}",
        }
        for _, r in reference.iterrows()
    ]


def nnt_metrics(cfg, primary) -> list[dict]:
    """Number needed to treat = 1 / pooled risk difference. Its interval inverts the RD's CI when
    that excludes 0; when the RD's CI spans 0 the NNT interval runs through infinity and is
    reported as missing (Altman 1998)."""
    rows, figures = [], forest_figures(cfg, primary)
    rd = primary[(primary["group"] == "contrast") & (primary["effect"] == "rd")]
    for _, r in rd.iterrows():
        if not r["estimate"] > 0:
            continue
        excl = r["ci_low"] > 0
        rows.append(
            {
                "metric": f"nnt.{r['outcome']}.{r['route']}.{r['time_bin']}",
                "value": 1 / r["estimate"],
                "ci_low": 1 / r["ci_high"] if excl else np.nan,
                "ci_high": 1 / r["ci_low"] if excl else np.nan,
                "interval": "ci" if excl else "none",
                "k": r["k"],
                "studies": r["studies"],
                "analysis_id": r["analysis_id"],
                "unit": "patients",
                "description": f"number needed to treat for one more {r['outcome']} at "
                f"{cfg.bin_label(r['time_bin'])}, route {r['route']} (1 / pooled risk difference"
                + ("" if excl else "; the RD's CI includes 0, so the NNT's interval is unbounded")
                + ")",
                "figure": figures.get((r["outcome"], "rd", "contrast", r["time_bin"]), ""),
            }
        )
    return rows


def ratio_to_anchor(est: float, se: float, ci_low: float, ci_high: float, a: pd.Series):
    """``est / anchor`` with its interval: the delta method on the log scale when the anchor has a
    CI and the pooled interval is positive (independent estimates; ``Var log(g) = (SE/g)²``),
    else the pooled CI divided by the anchor treated as fixed. Returns (ratio, low, high, how)."""
    ratio = est / a["value"]
    if pd.notna(a["ci_low"]) and pd.notna(a["ci_high"]) and est > 0 and ci_low > 0:
        se_log = math.sqrt((se / est) ** 2 + (float(effects.se_from_ci(a["ci_low"], a["ci_high"])) / a["value"]) ** 2)
        crit = (ci_high - est) / se if se > 0 else effects.Z975  # the model's own critical value (t or z)
        return (
            ratio,
            ratio * math.exp(-crit * se_log),
            ratio * math.exp(crit * se_log),
            "delta method on log scale, anchor CI included",
        )
    return ratio, ci_low / a["value"], ci_high / a["value"], "anchor treated as fixed"


def ratio_metrics(cfg, primary, reference) -> list[dict]:
    """Pooled g divided by the anchor g; CI by the delta method on the log scale when both have
    CIs (independent estimates), else the pooled CI divided by the anchor treated as fixed."""
    a = anchor(reference, cfg.reference.antidepressant_smd_quantity)
    if a is None:
        return []
    rows, figures = [], forest_figures(cfg, primary)
    smd = primary[
        (primary["group"] == "contrast") & (primary["effect"] == "smd") & (primary["outcome"] == "depression")
    ]
    for _, r in smd.iterrows():
        ratio, lo, hi, how = ratio_to_anchor(r["estimate"], r["se"], r["ci_low"], r["ci_high"], a)
        rows.append(
            {
                "metric": f"ratio.smd_vs_ssri.{r['route']}.{r['time_bin']}",
                "value": ratio,
                "ci_low": lo,
                "ci_high": hi,
                "interval": "ci",
                "k": r["k"],
                "studies": r["studies"],
                "analysis_id": r["analysis_id"],
                "unit": "ratio",
                "description": f"pooled g ({r['analysis_id']}) / anchor g {a['value']:g} ({a['quantity']}; {how})",
                "figure": figures.get(("depression", "smd", "contrast", r["time_bin"]), ""),
            }
        )
    return rows


def moderator_metrics(cfg, mods: pd.DataFrame) -> list[dict]:
    """``moderator_test`` / ``moderator_diff`` for every moderator, and for the route moderator
    also the shorter ``route_test`` / ``route_diff`` keys the registry uses."""
    rows = []
    seen = set()
    for _, r in mods.iterrows():
        cell = f"{r['outcome']}.{r['effect']}.{r['time_bin']}"
        names = [f"moderator_test.{r['moderator']}.{cell}"]
        names += [f"route_test.{cell}"] if r["moderator"] == "route" else []
        when = cfg.bin_label(r["time_bin"])
        fig = "figures/timecourse.png" if r["moderator"] == "route" else "figures/moderators.png"
        if (r["moderator"], cell) not in seen:
            seen.add((r["moderator"], cell))
            for name in names:
                rows.append(
                    {
                        "metric": name,
                        "value": r["qm_p"],
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "interval": "none",
                        "k": r["k"],
                        "studies": r["studies"],
                        "analysis_id": "",
                        "unit": "p",
                        "figure": fig,
                        "description": f"p of the test of {r['moderator']} as a moderator (QM={r['qm']:.3g}, "
                        f"df {r['qm_df']}; levels {r['levels'].replace(';', ', ')}) for {r['outcome']} {r['effect']} "
                        f"at {when}",
                    }
                )
        a, b = r["contrast"].split("_vs_")
        for pair, sign in ((f"{a}_vs_{b}", 1), (f"{b}_vs_{a}", -1)):
            lo, hi = sorted((sign * r["ci_low"], sign * r["ci_high"]))
            keys = [f"moderator_diff.{r['moderator']}.{cell}.{pair}"]
            keys += [f"route_diff.{cell}.{pair}"] if r["moderator"] == "route" else []
            for key in keys:
                rows.append(
                    {
                        "metric": key,
                        "value": sign * r["difference"],
                        "ci_low": lo,
                        "ci_high": hi,
                        "interval": "ci",
                        "k": r["k"],
                        "studies": r["studies"],
                        "analysis_id": "",
                        "unit": r["effect"],
                        "figure": fig,
                        "description": f"difference in pooled {r['effect']} between {r['moderator']} levels "
                        f"({pair.replace('_vs_', ' minus ')}) at {when}, mixed-effects model with {r['moderator']} "
                        "as moderator",
                    }
                )
    return rows


def dose_metrics(cfg, dose: pd.DataFrame) -> list[dict]:
    return [
        {
            "metric": f"dose_slope.{r['outcome']}.{r['effect']}.{r['time_bin']}",
            "value": r["slope_per_mg_per_kg"],
            "ci_low": r["ci_low"],
            "ci_high": r["ci_high"],
            "interval": "ci",
            "k": r["k"],
            "studies": r["studies"],
            "analysis_id": "",
            "unit": f"{r['effect']} per mg/kg",
            "figure": "figures/moderators.png",
            "description": f"change in pooled {r['effect']} per 1 mg/kg of ketamine (doses {r['doses']}) for "
            f"{r['outcome']} at {cfg.bin_label(r['time_bin'])}, meta-regression on dose",
        }
        for _, r in dose.iterrows()
    ]


def timecourse_metrics(cfg, preds: pd.DataFrame, summary: pd.DataFrame) -> list[dict]:
    """``timecourse.effect.<route>.<bin>`` (model-predicted g) and ``timecourse.<quantity>.<route>``
    (hours: first_distinguishable, peak, last_distinguishable)."""
    rows = []
    label_to_bin = {b.label: k for k, b in cfg.time_bins.items()}
    for _, r in preds.iterrows():
        rows.append(
            {
                "metric": f"timecourse.effect.{r['route']}.{r['dosing']}.{label_to_bin[r['label']]}",
                "value": r["estimate"],
                "ci_low": r["ci_low"],
                "ci_high": r["ci_high"],
                "interval": "ci",
                "k": r["n_clusters"],
                "df": r["df"],
                "se": r["se"],
                "studies": r["studies"],
                "analysis_id": "",
                "unit": "smd",
                "figure": "figures/timecourse.png",
                "description": f"g at {r['label']} predicted by the study-clustered (CR2, Satterthwaite df "
                f"{r['df']:.1f}) meta-regression on log time, route {r['route']}, {r['dosing']}-dose trials",
            }
        )
    for _, r in summary.iterrows():
        if pd.isna(r["time_h"]):
            continue
        rows.append(
            {
                "metric": f"timecourse.{r['quantity']}.{r['route']}.{r['dosing']}",
                "value": r["time_h"],
                "ci_low": r["time_ci_low"],
                "ci_high": r["time_ci_high"],
                "interval": "ci" if pd.notna(r["time_ci_low"]) else "none",
                "k": r["n_clusters"],
                "df": r["df"],
                "studies": r["studies"],
                "analysis_id": "",
                "unit": "hours",
                "figure": "figures/timecourse.png",
                "description": f"{r['note']} in hours (g there {r['estimate']:.2f} [{r['ci_low']:.2f}, "
                f"{r['ci_high']:.2f}]), study-clustered meta-regression on log time, route {r['route']}, "
                f"{r['dosing']}-dose trials"
                + ("; interval: delta-method CI of the vertex" if r["quantity"] == "peak" else ""),
            }
        )
    return rows


def study_metrics(cfg, es: pd.DataFrame, primary: pd.DataFrame) -> list[dict]:
    rows, figures = [], forest_figures(cfg, primary)
    z = effects.Z975
    # one study's comparative effect: study_effect.<study>.<outcome>.<effect>.<bin> (z interval, as escalc)
    for _, r in es[es["group"] == "contrast"].drop_duplicates(["study_id", "outcome", "effect", "time_bin"]).iterrows():
        se = math.sqrt(r["vi"])
        est, lo, hi = (float(x) for x in to_reporting_scale(r["effect"], [r["yi"], r["yi"] - z * se, r["yi"] + z * se]))
        rows.append({"metric": f"study_effect.{r['study_id']}.{r['outcome']}.{r['effect']}.{r['time_bin']}",
                     "value": est, "ci_low": lo, "ci_high": hi, "interval": "ci", "k": 1, "scale": "identity",
                     "n_participants": r.get("n_participants"), "studies": r["study_id"], "analysis_id": "",
                     "unit": r["effect"], "figure": "",
                     "description": f"{r['study_id']} {EFFECT_WORDS.get(r['effect'], r['effect'])} for {r['outcome']} "
                     f"at {cfg.bin_label(r['time_bin'])} ({r['comparison']}; 95% z interval)"})  # fmt: skip
    rates = es[es["effect"] == "logit_p"]
    for _, r in rates.iterrows():
        x, n = int(r["events_treatment"]), int(r["n_treatment"])
        lo, hi = effects.proportion_ci(x, n, cfg.relapse.study_ci)
        rows.append(
            {
                "metric": f"study.{r['study_id']}.{r['outcome']}.{r['group']}.{r['time_bin']}",
                "value": x / n,
                "ci_low": float(lo),
                "ci_high": float(hi),
                "interval": "ci",
                "k": 1,
                "n_participants": n,
                "scale": "identity",
                "studies": r["study_id"],
                "analysis_id": "",
                "unit": "proportion",
                "description": f"{r['study_id']} {r['outcome']} in {r['group']} arm(s) {r['comparison']} at "
                f"{cfg.bin_label(r['time_bin'])} ({x}/{n}; {cfg.relapse.study_ci.title()} interval)",
                "figure": figures.get((r["outcome"], "logit_p", r["group"], r["time_bin"]), "") if r["primary"] else "",
            }
        )
    return rows
