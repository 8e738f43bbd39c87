"""Run every pooled analysis of an effect-size table (``pooled.csv``) and the route comparisons.

An analysis is one cell of outcome x effect x group x route x time bin x subset. ``group`` is
``contrast`` (ketamine versus control), or ``ketamine`` / ``control`` / ``single_arm`` for pooled
proportions. ``route`` is ``all`` or a route group; ``subset`` is ``primary`` or the name of a
sensitivity subset from the config.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .effects import inv_logit
from .pooling import rma

POOLED_COLUMNS = [
    "analysis_id",
    "outcome",
    "effect",
    "group",
    "route",
    "time_bin",
    "subset",
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
    "beta",
    "se",
    "df",
    "note",
]

ROUTE_COLUMNS = [
    "outcome",
    "effect",
    "time_bin",
    "subset",
    "k",
    "routes",
    "reference",
    "qm",
    "qm_df",
    "qm_p",
    "contrast",
    "difference",
    "se",
    "ci_low",
    "ci_high",
    "method",
    "ci_method",
    "tau2",
    "studies",
]


def to_reporting_scale(effect: str, x):
    """g for SMD, a ratio for log ratios, a proportion for logits."""
    x = np.asarray(x, dtype=float)
    if effect in ("log_rr", "log_or", "log_hr"):
        return np.exp(x)
    if effect == "logit_p":
        return inv_logit(x)
    return x


def analysis_id(outcome, effect, group, route, time_bin, subset) -> str:
    return ".".join([outcome, effect, group, route, time_bin, subset])


def subset_frames(es: pd.DataFrame, cfg: dict) -> dict[str, pd.DataFrame]:
    """The primary set and each sensitivity subset (a subset filters the primary set)."""
    primary = es[es["primary"].astype(bool)]
    out = {"primary": primary}
    for name, filters in cfg["subsets"].items():
        sel = primary
        for col, allowed in filters.items():
            sel = sel[sel[col].isin(allowed)]
        out[name] = sel
    return out


def pool_one(rows: pd.DataFrame, model: dict) -> dict:
    """Pool one analysis' rows; numbers on the reporting scale plus β and SE on the analysis scale."""
    fit = rma(rows["yi"], rows["vi"], method=model["method"], test=model["test"], level=model["level"])
    eff = rows["effect"].iloc[0]
    n = rows["n_treatment"].fillna(0).sum() + rows["n_control"].fillna(0).sum()
    return {
        "k": fit.k,
        "n_participants": float(n),
        "estimate": float(to_reporting_scale(eff, fit.beta)),
        "ci_low": float(to_reporting_scale(eff, fit.ci_low)),
        "ci_high": float(to_reporting_scale(eff, fit.ci_high)),
        "pi_low": float(to_reporting_scale(eff, fit.pi_low)),
        "pi_high": float(to_reporting_scale(eff, fit.pi_high)),
        "tau2": fit.tau2,
        "i2": fit.i2,
        "q": fit.q,
        "q_p": fit.q_p,
        "method": model["method"] if fit.k > 1 else "single study",
        "ci_method": model["test"] if fit.k > 1 else "z",
        "studies": ";".join(sorted(rows["study_id"])),
        "beta": fit.beta,
        "se": fit.se,
        "df": fit.df,
        "note": fit.note,
    }


def run_pooling(es: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """Every analysis with k >= 1, in a stable order."""
    rows = []
    bin_order = [*cfg["time_bins"], cfg.get("window_bin") or "any_time", "followup"]
    for subset, sub in subset_frames(es, cfg).items():
        if sub.empty:
            continue
        for (outcome, effect, group, time_bin), cell in sub.groupby(
            ["outcome", "effect", "group", "time_bin"], sort=False
        ):
            routes = ["all", *sorted(cell["route"].unique())]
            for route in routes:
                sel = cell if route == "all" else cell[cell["route"] == route]
                rows.append(
                    {
                        "analysis_id": analysis_id(outcome, effect, group, route, time_bin, subset),
                        "outcome": outcome,
                        "effect": effect,
                        "group": group,
                        "route": route,
                        "time_bin": time_bin,
                        "subset": subset,
                        **pool_one(sel, cfg["model"]),
                    }
                )
    out = pd.DataFrame(rows, columns=POOLED_COLUMNS)
    subset_order = ["primary", *cfg["subsets"]]
    out["_s"] = out["subset"].map(subset_order.index)
    out["_b"] = out["time_bin"].map({b: i for i, b in enumerate(bin_order)})
    out["_r"] = out["route"].map(lambda r: (r != "all", r))
    out = out.sort_values(["_s", "outcome", "effect", "group", "_b", "_r"]).drop(columns=["_s", "_b", "_r"])
    return out.reset_index(drop=True)


def route_comparisons(es: pd.DataFrame, cfg: dict, subset: str = "primary") -> pd.DataFrame:
    """Mixed-effects test of route as a moderator per outcome x effect x time bin (contrasts only).

    ``rma(yi, vi, mods = ~ factor(route))`` with IV as the reference when present: QM is the
    omnibus test (F under ``knha``), and every pair of routes gets its difference with a CI from
    the model's covariance (one common τ², metafor's default for a categorical moderator).
    """
    model = cfg["model"]
    sub = subset_frames(es, cfg)[subset]
    sub = sub[sub["group"] == "contrast"]
    rows = []
    for (outcome, effect, time_bin), cell in sub.groupby(["outcome", "effect", "time_bin"], sort=True):
        routes = sorted(cell["route"].unique(), key=lambda r: (r != "iv", r))
        if len(routes) < 2 or len(cell) <= len(routes):
            continue
        X = np.column_stack([(cell["route"] == r).astype(float) for r in routes[1:]])
        fit = rma(cell["yi"], cell["vi"], mods=X, method=model["method"], test=model["test"], level=model["level"])
        crit, vcov = fit.crit, np.asarray(fit.vcov)
        base = {
            "outcome": outcome,
            "effect": effect,
            "time_bin": time_bin,
            "subset": subset,
            "k": fit.k,
            "routes": ";".join(routes),
            "reference": routes[0],
            "qm": fit.qm,
            "qm_df": ",".join(f"{d:g}" for d in fit.qm_df),
            "qm_p": fit.qm_p,
            "method": model["method"],
            "ci_method": model["test"],
            "tau2": fit.tau2,
            "studies": ";".join(sorted(cell["study_id"])),
        }
        for i, a in enumerate(routes):
            for j, b in enumerate(routes):
                if j >= i:
                    continue
                # coefficient index: route r (not the reference) is column routes.index(r)
                ca = np.zeros(len(routes))
                if i > 0:
                    ca[i] += 1
                if j > 0:
                    ca[j] -= 1
                diff = float(ca @ np.asarray(fit.betas))
                se = float(np.sqrt(ca @ vcov @ ca))
                rows.append(
                    {
                        **base,
                        "contrast": f"{a}_vs_{b}",
                        "difference": diff,
                        "se": se,
                        "ci_low": diff - crit * se,
                        "ci_high": diff + crit * se,
                    }
                )
    return pd.DataFrame(rows, columns=ROUTE_COLUMNS)
