"""How analyses are named in metrics and figures: effect words, time-bin labels, forest-plot file
names, and the reference anchor that ratios divide by."""

from __future__ import annotations

import pandas as pd

EFFECT_WORDS = {
    "smd": "SMD (Hedges' g, ketamine vs control)",
    "log_rr": "risk ratio (ketamine vs control)",
    "log_or": "odds ratio (ketamine vs control)",
    "log_hr": "hazard ratio of relapse (control vs ketamine)",
    "rd": "risk difference (ketamine minus control)",
    "logit_p": "proportion",
    "mh_or": "Mantel-Haenszel odds ratio (ketamine vs control, common effect)",
    "mh_rr": "Mantel-Haenszel risk ratio (ketamine vs control, common effect)",
}


def forest_name(outcome, effect, group, time_bin) -> str:
    """Stable file stem of the forest plot of one outcome x effect x group x bin."""
    return f"forest_{outcome}_{effect}_{group}_{time_bin}"


def forest_path(cfg, primary: pd.DataFrame, outcome, effect, group, time_bin) -> str:
    """The forest plot of that cell, or "" when none is drawn (k below ``model.min_k_forest``, or an
    effect outside ``model.forest_effects``):
    the same rule the forest step applies, so a metric never points at a missing figure."""
    hit = primary[(primary["outcome"] == outcome) & (primary["effect"] == effect) & (primary["group"] == group)
                  & (primary["time_bin"] == time_bin) & (primary["route"] == "all")]  # fmt: skip
    if hit.empty or int(hit["k"].iloc[0]) < cfg.model.min_k_forest or effect not in cfg.model.forest_effects:
        return ""
    return f"figures/forest/{forest_name(outcome, effect, group, time_bin)}.png"


def anchor(reference: pd.DataFrame | None, quantity: str) -> pd.Series | None:
    if reference is None or reference.empty:
        return None
    hit = reference[reference["quantity"] == quantity]
    return None if hit.empty else hit.iloc[0]
