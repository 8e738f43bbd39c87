"""Run every pooled analysis of an effect-size table (``pooled.csv``) and the route comparisons.

An analysis is one cell of outcome x effect x group x route x time bin x subset. ``group`` is
``contrast`` (ketamine versus control), or ``ketamine`` / ``control`` / ``single_arm`` for pooled
proportions. ``route`` is ``all`` or a route group; ``subset`` is ``primary`` or the name of a
sensitivity subset from the config.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ketamine_meta.core.settings import Config, Model
from ketamine_meta.stats import batch
from ketamine_meta.stats.effects import inv_logit
from ketamine_meta.stats.mantel_haenszel import mh_pool
from ketamine_meta.stats.pooling import rma

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

MODERATOR_COLUMNS = [
    "moderator",
    "outcome",
    "effect",
    "time_bin",
    "subset",
    "k",
    "levels",
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


SUBGROUP_COLUMNS = [
    "moderator", "outcome", "effect", "time_bin", "level", "k", "n_participants", "estimate", "ci_low", "ci_high",
    "pi_low", "pi_high", "tau2", "i2", "method", "ci_method", "studies",
]  # fmt: skip
DOSE_COLUMNS = [
    "outcome", "effect", "time_bin", "subset", "k", "slope_per_mg_per_kg", "se", "ci_low", "ci_high", "p", "doses",
    "method", "ci_method", "tau2", "studies",
]  # fmt: skip


def to_reporting_scale(effect: str, x):
    """g for SMD, a ratio for log ratios, a proportion for logits."""
    x = np.asarray(x, dtype=float)
    if effect in ("log_rr", "log_or", "log_hr", "mh_or", "mh_rr"):
        return np.exp(x)
    if effect == "logit_p":
        return inv_logit(x)
    return x


def analysis_id(outcome, effect, group, route, time_bin, subset) -> str:
    return ".".join([outcome, effect, group, route, time_bin, subset])


def subset_frames(es: pd.DataFrame, cfg: Config) -> dict[str, pd.DataFrame]:
    """The primary set and each sensitivity subset (a subset filters the primary set)."""
    primary = es[es["primary"].astype(bool)]
    out = {"primary": primary}
    for name, filters in cfg.subsets.items():
        sel = primary
        for col, allowed in filters.items():
            sel = sel[sel[col].isin(allowed)]
        out[name] = sel
    return out


def pool_one(rows: pd.DataFrame, model: Model) -> dict:
    """Pool one analysis' rows; numbers on the reporting scale plus β and SE on the analysis scale."""
    return pool_cells([rows], model)[0]


def pool_cells(cells: list[pd.DataFrame], model: Model) -> list[dict]:
    """:func:`pool_one` for many analyses, fitted together by the batched engine (one call of
    :func:`ketamine_meta.stats.batch.pool_arrays`, the core that ``rma`` runs one column of): the
    same numbers as one at a time, to the last bit but for the order of a sum (≤ 2e-16 here)."""
    if not cells:
        return []
    y, v = batch.pad_groups([c["yi"].to_numpy(float) for c in cells], [c["vi"].to_numpy(float) for c in cells])
    res = batch.pool_arrays(y, v, method=model.method, test=model.test, level=model.level, axis=0)
    lab = batch.labels(res, model.method, model.test)
    out = []
    for j, rows in enumerate(cells):
        eff = rows["effect"].iloc[0]
        # participants, not arm-person counts: a crossover trial's people are in both arms
        if "n_participants" in rows:
            n = rows["n_participants"].fillna(0).sum()
        else:
            n = rows["n_treatment"].fillna(0).sum() + rows["n_control"].fillna(0).sum()
        k = int(res["k"][j])
        num = {name: float(res[name][j]) for name in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")}
        out.append({
            "k": k,
            "n_participants": float(n),
            **{name: float(to_reporting_scale(eff, x)) for name, x in num.items()},
            "tau2": float(res["tau2"][j]),
            "i2": float(res["i2"][j]),
            "q": float(res["q"][j]),
            "q_p": float(res["q_p"][j]),
            "method": lab["method"][j],  # the estimator used: "DL" if the requested failed; "single study"
            "ci_method": model.test if k > 1 else "z",
            "studies": ";".join(sorted(rows["study_id"])),
            "beta": num["estimate"],
            "se": float(res["se"][j]),
            "df": None if res["single"][j] or model.test == "z" else float(res["df"][j]),
            "note": lab["note"][j],
        })  # fmt: skip
    return out


#: Effects that get a Mantel-Haenszel (common-effect) pool beside the random-effects one.
MH_EFFECTS = {"log_or": "mh_or", "log_rr": "mh_rr"}


def pool_mh(rows: pd.DataFrame, effect: str, level: float) -> dict:
    """Mantel-Haenszel pool of the 2x2 tables behind ``rows`` (RevMan's default). For relapse the
    control arm is group 1, as in the effect sizes (fewer relapses on ketamine favour ketamine)."""
    relapse = (rows["outcome"] == "relapse").all()
    a, n1 = rows["events_treatment"], rows["n_treatment"]
    c, n2 = rows["events_control"], rows["n_control"]
    if relapse:
        a, n1, c, n2 = c, n2, a, n1
    fit = mh_pool(a, n1, c, n2, effect, level)
    k = fit["k"]
    return {
        "k": k,
        "n_participants": float(rows["n_participants"].fillna(0).sum()),
        "estimate": float(np.exp(fit["beta"])),
        "ci_low": float(np.exp(fit["ci_low"])),
        "ci_high": float(np.exp(fit["ci_high"])),
        "pi_low": np.nan,
        "pi_high": np.nan,
        "tau2": np.nan,
        "i2": np.nan,
        "q": np.nan,
        "q_p": np.nan,
        "method": "MH",
        "ci_method": "z",
        "studies": ";".join(sorted(rows["study_id"])),
        "beta": fit["beta"],
        "se": fit["se"],
        "df": np.nan,
        "note": "Mantel-Haenszel common effect (statsmodels StratifiedTable; RR: Greenland-Robins variance)",
    }


def run_pooling(es: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Every analysis with k >= 1, in a stable order."""
    rows, cells = [], []
    bin_order = [*cfg.time_bins, cfg.window_bin or "any_time", "followup"]
    for subset, sub in subset_frames(es, cfg).items():
        if sub.empty:
            continue
        for (outcome, effect, group, time_bin), cell in sub.groupby(
            ["outcome", "effect", "group", "time_bin"], sort=False
        ):
            routes = ["all", *sorted(cell["route"].unique())]
            for route in routes:
                sel = cell if route == "all" else cell[cell["route"] == route]
                key = {"outcome": outcome, "group": group, "route": route, "time_bin": time_bin, "subset": subset}
                rows.append({"analysis_id": analysis_id(outcome, effect, group, route, time_bin, subset),
                             "effect": effect, **key})  # fmt: skip
                cells.append((len(rows) - 1, sel))
                if group == "contrast" and effect in MH_EFFECTS:
                    mh = MH_EFFECTS[effect]
                    rows.append({"analysis_id": analysis_id(outcome, mh, group, route, time_bin, subset),
                                 "effect": mh, **key, **pool_mh(sel, effect, cfg.model.level)})  # fmt: skip
    # every random-effects pool in one batched call
    for (i, _), fit in zip(cells, pool_cells([sel for _, sel in cells], cfg.model)):
        rows[i].update(fit)
    out = pd.DataFrame(rows, columns=POOLED_COLUMNS)
    subset_order = ["primary", *cfg.subsets]
    out["_s"] = out["subset"].map(subset_order.index)
    out["_b"] = out["time_bin"].map({b: i for i, b in enumerate(bin_order)})
    out["_r"] = out["route"].map(lambda r: (r != "all", r))
    out = out.sort_values(["_s", "outcome", "effect", "group", "_b", "_r"]).drop(columns=["_s", "_b", "_r"])
    return out.reset_index(drop=True)


def level_contrast(fit, levels: list[str], a: str, b: str) -> tuple[float, float, float, float]:
    """Difference a minus b between two levels of a categorical moderator fitted with the first
    level as reference (level l > 0 is coefficient l), with its SE and CI from the model."""
    c = np.zeros(len(levels))
    ia, ib = levels.index(a), levels.index(b)
    if ia:
        c[ia] += 1
    if ib:
        c[ib] -= 1
    diff = float(c @ np.asarray(fit.betas))
    se = float(np.sqrt(c @ np.asarray(fit.vcov) @ c))
    return diff, se, diff - fit.crit * se, diff + fit.crit * se


def _levels(sub: pd.DataFrame, spec: dict) -> pd.Series:
    """The moderator's level of each row, after the config's optional recoding."""
    recode = spec.recode
    return sub[spec.column].astype(str).map(lambda x: recode.get(x, x))


def moderator_comparisons(es: pd.DataFrame, cfg: Config, subset: str = "primary") -> pd.DataFrame:
    """Mixed-effects test of each categorical moderator per outcome x effect x time bin.

    For every moderator in the config (``moderators``: route, control type, drug, population,
    dosing), ``rma(yi, vi, mods = ~ factor(level))`` with the configured reference level first:
    QM is the omnibus test (F with (m, k-p) df under ``knha``, chi-square under ``z``), and every
    pair of levels gets its difference with a CI from the model's covariance (one common τ², as
    metafor does for a categorical moderator). Contrasts (ketamine vs control) only.
    """
    model = cfg.model
    sub = subset_frames(es, cfg)[subset]
    sub = sub[sub["group"] == "contrast"]
    rows = []
    for name, spec in cfg.moderators.items():
        cells = sub.assign(_level=_levels(sub, spec)).groupby(["outcome", "effect", "time_bin"], sort=True)
        for (outcome, effect, time_bin), cell in cells:
            levels = sorted(cell["_level"].unique(), key=lambda lv, ref=spec.reference: (lv != ref, lv))
            if len(levels) < 2 or len(cell) <= len(levels):
                continue
            X = np.column_stack([(cell["_level"] == lv).astype(float) for lv in levels[1:]])
            fit = rma(cell["yi"], cell["vi"], mods=X, method=model.method, test=model.test, level=model.level)
            base = {
                "moderator": name,
                "outcome": outcome,
                "effect": effect,
                "time_bin": time_bin,
                "subset": subset,
                "k": fit.k,
                "levels": ";".join(levels),
                "reference": levels[0],
                "qm": fit.qm,
                "qm_df": ",".join(f"{d:g}" for d in fit.qm_df),
                "qm_p": fit.qm_p,
                "method": fit.method,
                "ci_method": model.test,
                "tau2": fit.tau2,
                "studies": ";".join(sorted(cell["study_id"])),
            }
            for i, a in enumerate(levels):
                for b in levels[:i]:
                    diff, se, lo, hi = level_contrast(fit, levels, a, b)
                    rows.append(
                        {**base, "contrast": f"{a}_vs_{b}", "difference": diff, "se": se, "ci_low": lo, "ci_high": hi}
                    )
    return pd.DataFrame(rows, columns=MODERATOR_COLUMNS)


def subgroup_estimates(es: pd.DataFrame, cfg: Config, subset: str = "primary") -> pd.DataFrame:
    """Separate pooled estimates per level of each moderator (the subgroup table beside the test)."""
    sub = subset_frames(es, cfg)[subset]
    sub = sub[sub["group"] == "contrast"]
    keys, cells = [], []
    for name, spec in cfg.moderators.items():
        for (outcome, effect, time_bin, level), cell in sub.assign(_level=_levels(sub, spec)).groupby(
            ["outcome", "effect", "time_bin", "_level"], sort=True
        ):
            keys.append({"moderator": name, "outcome": outcome, "effect": effect, "time_bin": time_bin, "level": level})
            cells.append(cell)
    rows = [
        key | {k: res[k] for k in SUBGROUP_COLUMNS if k in res} for key, res in zip(keys, pool_cells(cells, cfg.model))
    ]
    return pd.DataFrame(rows, columns=SUBGROUP_COLUMNS)


def dose_regression(es: pd.DataFrame, cfg: Config, subset: str = "primary") -> pd.DataFrame:
    """Meta-regression of the effect on ketamine dose in mg/kg, per outcome x effect x bin, for
    comparisons whose ketamine arm(s) share one per-kg dose: ``rma(yi, vi, mods = ~ dose)``."""
    model = cfg.model
    sub = subset_frames(es, cfg)[subset]
    sub = sub[(sub["group"] == "contrast") & sub["dose_mg_per_kg"].notna()]
    rows = []
    for (outcome, effect, time_bin), cell in sub.groupby(["outcome", "effect", "time_bin"], sort=True):
        if cell["dose_mg_per_kg"].nunique() < 2 or len(cell) < 3:
            continue
        fit = rma(cell["yi"], cell["vi"], mods=cell["dose_mg_per_kg"].to_numpy(), method=model.method,
                  test=model.test, level=model.level)  # fmt: skip
        b, se = fit.betas[1], fit.ses[1]
        rows.append({"outcome": outcome, "effect": effect, "time_bin": time_bin, "subset": subset, "k": fit.k,
                     "slope_per_mg_per_kg": b, "se": se, "ci_low": b - fit.crit * se, "ci_high": b + fit.crit * se,
                     "p": fit.qm_p, "doses": ";".join(f"{x:g}" for x in sorted(cell["dose_mg_per_kg"].unique())),
                     "method": fit.method, "ci_method": model.test, "tau2": fit.tau2,
                     "studies": ";".join(sorted(cell["study_id"]))})  # fmt: skip
    return pd.DataFrame(rows, columns=DOSE_COLUMNS)


@dataclass(frozen=True)
class SensitivityCell:
    """One primary ketamine-vs-control analysis (all routes) with its studies, for the diagnostics."""

    analysis_id: str
    outcome: str
    effect: str
    time_bin: str
    yi: np.ndarray
    vi: np.ndarray
    labels: list[str]
    year: np.ndarray


def sensitivity_cells(es: pd.DataFrame, min_k: int) -> list[SensitivityCell]:
    """The primary ketamine-vs-control analyses over all routes with at least ``min_k`` studies."""
    es = es[es["primary"].astype(bool) & (es["group"] == "contrast")]
    out = []
    for (outcome, effect, time_bin), cell in es.groupby(["outcome", "effect", "time_bin"], sort=True):
        if len(cell) < min_k:
            continue
        aid = analysis_id(outcome, effect, "contrast", "all", time_bin, "primary")
        out.append(SensitivityCell(aid, outcome, effect, time_bin, cell["yi"].to_numpy(), cell["vi"].to_numpy(),
                                   cell["study_id"].tolist(), cell["year"].fillna(9999).to_numpy()))  # fmt: skip
    return out
