"""The metrics table: every number a claim can be checked against, under a stable key.

Key grammar (documented for registry authors in ``config/README.md``)::

    pooled.<outcome>.<effect>.<route>.<bin>          primary pooled comparison (g, RR, OR)
    rate.<outcome>.<group>.<route>.<bin>             pooled proportion (ketamine/control/single_arm)
    ratio.smd_vs_ssri.<route>.<bin>                  pooled g / antidepressant anchor g
    route_diff.<outcome>.<effect>.<bin>.<a>_vs_<b>   difference between routes (analysis scale)
    route_test.<outcome>.<effect>.<bin>              p of the omnibus test of route
    relapse.proportion.<condition>.<window>          pooled proportion of responders relapsed
    relapse.median_days.<condition>                  median of study medians (interval = range)
    study.<study_id>.<outcome>.<group>.<bin>         one study's proportion
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import effects

METRIC_COLUMNS = [
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "interval",
    "k",
    "studies",
    "analysis_id",
    "unit",
    "description",
    "figure",
]

EFFECT_WORDS = {
    "smd": "SMD (Hedges' g, ketamine vs control)",
    "log_rr": "risk ratio (ketamine vs control)",
    "log_or": "odds ratio (ketamine vs control)",
    "log_hr": "hazard ratio of relapse (control vs ketamine)",
    "logit_p": "proportion",
}


def forest_name(outcome, effect, group, time_bin) -> str:
    """Stable file stem of the forest plot of one outcome x effect x group x bin."""
    return f"forest_{outcome}_{effect}_{group}_{time_bin}"


def _bin_label(cfg, b):
    if b in cfg["time_bins"]:
        return cfg["time_bins"][b]["label"]
    return {"any_time": "any time during follow-up", "followup": "over follow-up"}.get(b, b)


def build_metrics(
    cfg: dict,
    pooled: pd.DataFrame,
    routes: pd.DataFrame,
    relapse_pooled: pd.DataFrame,
    relapse_medians: pd.DataFrame,
    effect_sizes: pd.DataFrame,
    reference: pd.DataFrame | None,
) -> pd.DataFrame:
    rows: list[dict] = []
    primary = pooled[pooled["subset"] == "primary"]
    for _, r in primary.iterrows():
        fig = f"figures/forest/{forest_name(r['outcome'], r['effect'], r['group'], r['time_bin'])}.png"
        where = f"{_bin_label(cfg, r['time_bin'])}, route {r['route']}"
        common = {
            "value": r["estimate"],
            "ci_low": r["ci_low"],
            "ci_high": r["ci_high"],
            "interval": "ci",
            "k": r["k"],
            "studies": r["studies"],
            "analysis_id": r["analysis_id"],
            "figure": fig,
        }
        if r["group"] == "contrast":
            rows.append(
                {
                    **common,
                    "metric": f"pooled.{r['outcome']}.{r['effect']}.{r['route']}.{r['time_bin']}",
                    "unit": r["effect"],
                    "description": f"pooled {EFFECT_WORDS[r['effect']]} for {r['outcome']} at {where}",
                }
            )
        elif r["effect"] == "logit_p":
            rows.append(
                {
                    **common,
                    "metric": f"rate.{r['outcome']}.{r['group']}.{r['route']}.{r['time_bin']}",
                    "unit": "proportion",
                    "description": f"pooled {r['outcome']} rate in {r['group'].replace('_', '-')} arms at {where}",
                }
            )
    rows += _ratio_metrics(cfg, primary, reference)
    rows += _route_metrics(cfg, routes)
    for _, r in relapse_pooled.iterrows():
        rows.append(
            {
                "metric": f"relapse.proportion.{r['condition']}.{r['window']}",
                "value": r["estimate"],
                "ci_low": r["ci_low"],
                "ci_high": r["ci_high"],
                "interval": "ci",
                "k": r["k"],
                "studies": r["studies"],
                "analysis_id": r["analysis_id"],
                "unit": "proportion",
                "description": f"pooled proportion of responders relapsed by window {r['window']} ({r['condition']})",
                "figure": "figures/relapse.png",
            }
        )
    for _, r in relapse_medians.iterrows():
        rows.append(
            {
                "metric": f"relapse.median_days.{r['condition']}",
                "value": r["median_of_medians"],
                "ci_low": r["min"],
                "ci_high": r["max"],
                "interval": "range",
                "k": r["k"],
                "studies": r["studies"],
                "analysis_id": "",
                "unit": "days",
                "description": f"median of per-study median days to relapse ({r['condition']}); interval is the range",
                "figure": "figures/relapse.png",
            }
        )
    rows += _study_metrics(cfg, effect_sizes)
    out = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    return out.sort_values("metric").reset_index(drop=True)


def anchor(reference: pd.DataFrame | None, quantity: str) -> pd.Series | None:
    if reference is None or reference.empty:
        return None
    hit = reference[reference["quantity"] == quantity]
    return None if hit.empty else hit.iloc[0]


def _ratio_metrics(cfg, primary, reference) -> list[dict]:
    """Pooled g divided by the anchor g; CI by the delta method on the log scale when both have
    CIs (independent estimates), else the pooled CI divided by the anchor treated as fixed."""
    a = anchor(reference, cfg["reference"]["antidepressant_smd_quantity"])
    if a is None:
        return []
    rows = []
    smd = primary[
        (primary["group"] == "contrast") & (primary["effect"] == "smd") & (primary["outcome"] == "depression")
    ]
    for _, r in smd.iterrows():
        ratio = r["estimate"] / a["value"]
        if pd.notna(a["ci_low"]) and pd.notna(a["ci_high"]) and r["estimate"] > 0 and r["ci_low"] > 0:
            # SE of log(g): SE(g)/g on the analysis scale; anchor SE from its CI
            se_log = math.sqrt(
                (r["se"] / r["estimate"]) ** 2
                + (float(effects.se_from_ci(a["ci_low"], a["ci_high"])) / a["value"]) ** 2
            )
            crit = (r["ci_high"] - r["estimate"]) / r["se"] if r["se"] > 0 else effects.Z975
            lo, hi = ratio * math.exp(-crit * se_log), ratio * math.exp(crit * se_log)
            how = "delta method on log scale, anchor CI included"
        else:
            lo, hi = r["ci_low"] / a["value"], r["ci_high"] / a["value"]
            how = "anchor treated as fixed"
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
                "figure": f"figures/forest/{forest_name('depression', 'smd', 'contrast', r['time_bin'])}.png",
            }
        )
    return rows


def _route_metrics(cfg, routes: pd.DataFrame) -> list[dict]:
    rows = []
    seen = set()
    for _, r in routes.iterrows():
        base = f"{r['outcome']}.{r['effect']}.{r['time_bin']}"
        if base not in seen:
            seen.add(base)
            rows.append(
                {
                    "metric": f"route_test.{base}",
                    "value": r["qm_p"],
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "interval": "none",
                    "k": r["k"],
                    "studies": r["studies"],
                    "analysis_id": "",
                    "unit": "p",
                    "figure": "figures/timecourse.png",
                    "description": f"p of the test of route as a moderator (QM={r['qm']:.3g}, df {r['qm_df']}) "
                    f"for {r['outcome']} {r['effect']} at {_bin_label(cfg, r['time_bin'])}",
                }
            )
        a, b = r["contrast"].split("_vs_")
        for name, sign in ((f"{a}_vs_{b}", 1), (f"{b}_vs_{a}", -1)):
            lo, hi = sorted((sign * r["ci_low"], sign * r["ci_high"]))
            rows.append(
                {
                    "metric": f"route_diff.{base}.{name}",
                    "value": sign * r["difference"],
                    "ci_low": lo,
                    "ci_high": hi,
                    "interval": "ci",
                    "k": r["k"],
                    "studies": r["studies"],
                    "analysis_id": "",
                    "unit": r["effect"],
                    "figure": "figures/timecourse.png",
                    "description": f"difference in pooled {r['effect']} between routes "
                    f"({name.replace('_vs_', ' minus ')}) at {_bin_label(cfg, r['time_bin'])}, "
                    "mixed-effects model with route as moderator",
                }
            )
    return rows


def _study_metrics(cfg, es: pd.DataFrame) -> list[dict]:
    rows = []
    z = effects.Z975
    rates = es[es["effect"] == "logit_p"]
    for _, r in rates.iterrows():
        se = math.sqrt(r["vi"])
        rows.append(
            {
                "metric": f"study.{r['study_id']}.{r['outcome']}.{r['group']}.{r['time_bin']}",
                "value": r["events_treatment"] / r["n_treatment"],
                "ci_low": float(effects.inv_logit(r["yi"] - z * se)),
                "ci_high": float(effects.inv_logit(r["yi"] + z * se)),
                "interval": "ci",
                "k": 1,
                "studies": r["study_id"],
                "analysis_id": "",
                "unit": "proportion",
                "description": f"{r['study_id']} {r['outcome']} in {r['group']} arm(s) {r['comparison']} at "
                f"{_bin_label(cfg, r['time_bin'])} ({int(r['events_treatment'])}/{int(r['n_treatment'])}; "
                "logit z interval)",
                "figure": f"figures/forest/{forest_name(r['outcome'], 'logit_p', r['group'], r['time_bin'])}.png",
            }
        )
    return rows
