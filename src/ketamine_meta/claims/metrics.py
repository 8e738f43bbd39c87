"""The metrics table: every number a claim can be checked against, under a stable key.

Key grammar (documented for registry authors in ``config/README.md``)::

    pooled.<outcome>.<effect>.<route>.<bin>          primary pooled comparison (g, RR, OR)
    rate.<outcome>.<group>.<route>.<bin>             pooled proportion (ketamine/control/single_arm)
    ratio.smd_vs_ssri.<route>.<bin>                  pooled g / antidepressant anchor g
    route_diff.<outcome>.<effect>.<bin>.<a>_vs_<b>   difference between routes (analysis scale)
    route_test.<outcome>.<effect>.<bin>              p of the omnibus test of route
    moderator_diff.<moderator>.<outcome>.<effect>.<bin>.<a>_vs_<b>   same for any moderator
    moderator_test.<moderator>.<outcome>.<effect>.<bin>              p of its omnibus test
    dose_slope.<outcome>.<effect>.<bin>              change in g per mg/kg
    nnt.<outcome>.<route>.<bin>                      1 / pooled risk difference
    timecourse.effect.<route>.<bin>                  g predicted by the CR2 time-course model
    timecourse.<first_distinguishable|peak|last_distinguishable>.<route>   hours
    relapse.proportion.<condition>.<window>          pooled proportion of responders relapsed
    relapse.median_days.<condition>                  median of study medians (interval = range)
    study.<study_id>.<outcome>.<group>.<bin>         one study's proportion"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ketamine_meta.claims.labels import EFFECT_WORDS, forest_figures
from ketamine_meta.claims.metric_families import (
    adverse_metrics,
    dose_metrics,
    moderator_metrics,
    nnt_metrics,
    ratio_metrics,
    reference_metrics,
    relapse_metrics,
    share_metrics,
    study_metrics,
    timecourse_metrics,
)
from ketamine_meta.core.settings import Config

METRIC_COLUMNS = [
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "interval",
    "k",
    "n_participants",
    "i2",
    "pi_low",
    "pi_high",
    "beta",
    "se",
    "df",
    "scale",
    "studies",
    "analysis_id",
    "unit",
    "description",
    "figure",
]


@dataclass(frozen=True)
class Inputs:
    """The result tables the metrics are read from (one DataFrame each, as the steps write them)."""

    pooled: pd.DataFrame
    moderators: pd.DataFrame
    dose: pd.DataFrame
    timecourse: pd.DataFrame
    timecourse_summary: pd.DataFrame
    relapse_pooled: pd.DataFrame
    relapse_medians: pd.DataFrame
    effect_sizes: pd.DataFrame
    reference: pd.DataFrame | None
    adverse: pd.DataFrame | None = None
    relapse_shares: pd.DataFrame | None = None


def build_metrics(cfg: Config, t: Inputs) -> pd.DataFrame:
    """Every metric of the key grammar in the module docstring, sorted by key."""
    rows: list[dict] = []
    primary = t.pooled[t.pooled["subset"] == "primary"]
    figures = forest_figures(cfg, primary)
    for _, r in t.pooled.iterrows():
        fig = figures.get((r["outcome"], r["effect"], r["group"], r["time_bin"]), "")
        sub = "" if r["subset"] == "primary" else f".{r['subset']}"
        where = f"{cfg.bin_label(r['time_bin'])}, route {r['route']}"
        if sub:
            where += f", subset {r['subset']}"
        common = {
            "value": r["estimate"],
            "ci_low": r["ci_low"],
            "ci_high": r["ci_high"],
            "interval": "ci",
            "k": r["k"],
            "n_participants": r["n_participants"],
            "i2": r["i2"],
            "pi_low": r["pi_low"],
            "pi_high": r["pi_high"],
            "beta": r["beta"],
            "se": r["se"],
            "df": r["df"],
            "scale": ANALYSIS_SCALE.get(r["effect"], "identity"),
            "studies": r["studies"],
            "analysis_id": r["analysis_id"],
            "figure": fig if not sub else "",
        }
        if r["group"] == "contrast":
            rows.append(
                {
                    **common,
                    "metric": f"pooled.{r['outcome']}.{r['effect']}.{r['route']}.{r['time_bin']}{sub}",
                    "unit": r["effect"],
                    "description": f"pooled {EFFECT_WORDS[r['effect']]} for {r['outcome']} at {where}",
                }
            )
        elif r["effect"] == "logit_p":
            rows.append(
                {
                    **common,
                    "metric": f"rate.{r['outcome']}.{r['group']}.{r['route']}.{r['time_bin']}{sub}",
                    "unit": "proportion",
                    "description": f"pooled {r['outcome']} rate in {r['group'].replace('_', '-')} arms at {where}",
                }
            )
    rows += ratio_metrics(cfg, primary, t.reference)
    rows += reference_metrics(t.reference)
    rows += nnt_metrics(cfg, primary)
    rows += moderator_metrics(cfg, t.moderators)
    rows += dose_metrics(cfg, t.dose)
    rows += timecourse_metrics(cfg, t.timecourse, t.timecourse_summary)
    rows += relapse_metrics(t.relapse_pooled, t.relapse_medians)
    rows += share_metrics(t.relapse_shares)
    rows += adverse_metrics(t.adverse)
    rows += study_metrics(cfg, t.effect_sizes, primary)
    out = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    return out.sort_values("metric").reset_index(drop=True)


#: Scale on which each effect's CI is symmetric (for an interval at another level: beta ± crit se).
ANALYSIS_SCALE = {"log_rr": "log", "log_or": "log", "log_hr": "log", "mh_or": "log", "mh_rr": "log",
                  "logit_p": "logit"}  # fmt: skip
