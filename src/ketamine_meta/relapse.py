"""Durability after response: proportions relapsed by a follow-up window, and median times.

Proportions are pooled on the logit scale (``escalc(measure="PLO")`` + ``rma.uni``) per
condition (what responders received afterwards) and window (config ``relapse.windows``). One row
per study enters a window: the follow-up closest to the window's nominal day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import effects
from .analyses import pool_one

STUDY_COLUMNS = [
    "study_id",
    "condition",
    "window",
    "followup_days",
    "n_responders",
    "n_relapsed",
    "proportion",
    "ci_low",
    "ci_high",
    "yi",
    "vi",
    "relapse_definition",
    "source_row",
]
POOLED_COLUMNS = [
    "analysis_id",
    "condition",
    "window",
    "k",
    "n_participants",
    "estimate",
    "ci_low",
    "ci_high",
    "pi_low",
    "pi_high",
    "tau2",
    "i2",
    "q",
    "q_p",
    "method",
    "ci_method",
    "studies",
    "note",
]
MEDIAN_COLUMNS = ["condition", "k", "median_of_medians", "min", "max", "studies"]


def window_of(days: float, windows: dict) -> str | None:
    for name, w in windows.items():
        if w["low_days"] <= days <= w["high_days"]:
            return name
    return None


def relapse_by_study(relapse: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """Per-study proportions with a 95% logit (z) interval, assigned to windows."""
    windows = cfg["relapse"]["windows"]
    add = cfg["model"]["add"]
    rows = []
    z = effects.Z975
    for _, r in relapse.iterrows():
        if pd.isna(r["n_relapsed"]) or pd.isna(r["n_responders"]):
            continue
        x, n = float(r["n_relapsed"]), float(r["n_responders"])
        yi, vi = effects.logit_p(x, n, add)
        yi, vi = float(yi), float(vi)
        rows.append(
            {
                "study_id": r["study_id"],
                "condition": r["condition"],
                "window": window_of(float(r["followup_days"]), windows) or "",
                "followup_days": float(r["followup_days"]),
                "n_responders": n,
                "n_relapsed": x,
                "proportion": x / n,
                "ci_low": float(effects.inv_logit(yi - z * np.sqrt(vi))),
                "ci_high": float(effects.inv_logit(yi + z * np.sqrt(vi))),
                "yi": yi,
                "vi": vi,
                "relapse_definition": r["relapse_definition"],
                "source_row": f"relapse.csv:{int(r['_row'])}",
            }
        )
    out = pd.DataFrame(rows, columns=STUDY_COLUMNS)
    return out.sort_values(["condition", "study_id", "followup_days"]).reset_index(drop=True)


def pool_relapse(by_study: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """Pooled proportion relapsed per condition x window (logit random effects, back-transformed)."""
    windows = cfg["relapse"]["windows"]
    rows = []
    for (cond, win), cell in by_study[by_study["window"] != ""].groupby(["condition", "window"], sort=True):
        nominal = windows[win]["nominal_days"]
        cell = cell.assign(_d=(cell["followup_days"] - nominal).abs()).sort_values(["study_id", "_d"])
        cell = cell.drop_duplicates("study_id")
        cell = cell.assign(effect="logit_p", n_treatment=cell["n_responders"], n_control=np.nan)
        res = pool_one(cell, cfg["model"])
        rows.append(
            {
                "analysis_id": f"relapse.{cond}.{win}",
                "condition": cond,
                "window": win,
                **{k: res[k] for k in POOLED_COLUMNS if k in res},
            }
        )
    return pd.DataFrame(rows, columns=POOLED_COLUMNS)


def median_summary(relapse: pd.DataFrame) -> pd.DataFrame:
    """Median of the per-study median days to relapse, with their range, per condition."""
    rows = []
    med = relapse[relapse["median_days_to_relapse"].notna()]
    for cond, cell in med.groupby("condition", sort=True):
        per_study = cell.groupby("study_id")["median_days_to_relapse"].first()
        rows.append(
            {
                "condition": cond,
                "k": len(per_study),
                "median_of_medians": float(np.median(per_study)),
                "min": float(per_study.min()),
                "max": float(per_study.max()),
                "studies": ";".join(sorted(per_study.index)),
            }
        )
    return pd.DataFrame(rows, columns=MEDIAN_COLUMNS)
