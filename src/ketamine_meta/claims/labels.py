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


def forest_figures(cfg, primary: pd.DataFrame) -> dict[tuple[str, str, str, str], str]:
    """(outcome, effect, group, time bin) -> the path of that cell's forest plot, for the cells that
    get one (route ``all`` with k >= ``model.min_k_forest``, effects of ``model.forest_effects``).
    The one rule: the forest plan (``outputs.forest_table.forest_plan``) draws these cells and the
    metrics link them, so a metric never points at a missing figure. Look cells up with
    ``.get(key, "")``: no plot is an empty path."""
    out: dict = {}
    seen: set = set()
    cells = primary[primary["route"] == "all"]
    for key in zip(cells["outcome"], cells["effect"], cells["group"], cells["time_bin"], cells["k"]):
        cell, k = key[:4], key[4]
        if cell in seen:
            continue  # the first row of a cell decides
        seen.add(cell)
        if int(k) >= cfg.model.min_k_forest and cell[1] in cfg.model.forest_effects:
            out[cell] = f"figures/forest/{forest_name(*cell)}.png"
    return out


def anchor(reference: pd.DataFrame | None, quantity: str) -> pd.Series | None:
    if reference is None or reference.empty:
        return None
    hit = reference[reference["quantity"] == quantity]
    return None if hit.empty else hit.iloc[0]
