"""Turn the contract tables into the effect sizes that enter pooling (``effect_sizes.csv``).

Sign convention: a positive ``yi`` favours ketamine. For symptom scores (lower = better) the SMD is
control minus ketamine, for endpoint and change scores alike; for responders and remitters it is
ketamine versus control; for relapse it is control versus ketamine.

One row per study x comparison x outcome x effect x time bin. Choices that move numbers come from
the ``handling`` block of the config (see ``config/README.md``): how multi-arm trials are merged,
which scale and measure win, which control types and populations enter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import effects
from .io import Dataset

EFFECT_COLUMNS = [
    "study_id",
    "comparison",
    "dose_mg_per_kg",
    "outcome",
    "group",
    "route",
    "time_bin",
    "time_h",
    "time_anchor",
    "effect",
    "yi",
    "vi",
    "n_treatment",
    "n_control",
    "events_treatment",
    "events_control",
    "scale",
    "measure",
    "design",
    "crossover",
    "randomized",
    "control",
    "drug",
    "population",
    "dosing",
    "year",
    "derivation",
    "source_rows",
    "window",
]

#: Effect computed for each contrast outcome from a printed mean difference or SMD.
CONTRAST_CONTINUOUS = ("depression", "suicidal_ideation")


def assign_bin(time_h: float, bins: dict) -> str | None:
    """Name of the bin with ``low_h < time_h <= high_h``, or None."""
    for name, b in bins.items():
        if b["low_h"] < time_h <= b["high_h"]:
            return name
    return None


def _src(table: str, rows) -> str:
    return ";".join(f"{table}.csv:{int(r)}" for r in sorted(rows))


def _keep_ketamine_arm(arm: pd.Series, doses) -> bool:
    if doses == "all" or pd.isna(arm["dose_mg_per_kg"]):
        return True
    return any(abs(float(arm["dose_mg_per_kg"]) - float(d)) < 1e-9 for d in doses)


class _Study:
    """Arms and metadata of one study, with the config's arm filters applied."""

    def __init__(self, st: pd.Series, arms: pd.DataFrame, cfg: dict):
        self.st = st
        self.route = cfg["route_groups"][st["route"]]
        h = cfg["handling"]
        k = arms[arms["role"] == "ketamine"]
        self.ket = [a for a in k["arm_id"] if _keep_ketamine_arm(k.set_index("arm_id").loc[a], h["ketamine_doses"])]
        self.ctl = list(arms.loc[arms["role"] == "control", "arm_id"])
        self.arm_n = {a: (None if pd.isna(n) else float(n)) for a, n in zip(arms["arm_id"], arms["n_randomized"])}
        self.arm_dose = dict(zip(arms["arm_id"], arms["dose_mg_per_kg"].astype(float)))
        self.comparative = bool(st["randomized"]) and st["design"] != "single_arm" and self.ket and self.ctl
        self.meta = {
            "route": self.route,
            "design": st["design"],
            "crossover": st["design"] == "crossover",
            "randomized": bool(st["randomized"]),
            "control": st["control"],
            "drug": st["drug"],
            "population": st["population"],
            "dosing": st["dosing"],
            "year": None if pd.isna(st["year"]) else int(st["year"]),
        }

    def dose(self, arm_ids) -> float:
        """The per-kg dose shared by these ketamine arms, else NaN (mixed or fixed-mg doses)."""
        doses = {self.arm_dose.get(a, np.nan) for a in arm_ids}
        return doses.pop() if len(doses) == 1 else np.nan

    def comparisons(self, multi_arm: str) -> list[tuple[list[str], list[str], float]]:
        """(ketamine arms, control arms, fraction of the control n used) per comparison."""
        if multi_arm == "combine" or len(self.ket) <= 1:
            return [(self.ket, self.ctl, 1.0)]
        if multi_arm == "split_control":
            return [([a], self.ctl, 1.0 / len(self.ket)) for a in self.ket]
        raise ValueError(f"unknown multi_arm rule {multi_arm!r}")


def _pick_rows(rows: pd.DataFrame, prefs: list[tuple[str, list]], need_arms: list[list[str]]):
    """First combination of preferred column values for which every arm list has rows."""
    if rows.empty:
        return None
    options = [rows]
    for col, order in prefs:
        ranked = sorted(rows[col].dropna().unique(), key=lambda v: (order.index(v) if v in order else len(order), v))
        options = [o[o[col] == val] for o in options for val in ranked]
    for o in options:
        if all(any(a in set(o["arm_id"]) for a in arms) for arms in need_arms):
            return o
    return None


def _continuous(study: _Study, rows: pd.DataFrame, cfg: dict) -> list[dict]:
    h = cfg["handling"]
    out = []
    rows = rows.copy()
    n = rows["n"].astype(float)
    rows["sd_used"] = rows["sd"].where(rows["sd"].notna(), effects.sd_from_se(rows["se"].astype(float), n))
    rows = rows[rows["sd_used"].notna() & n.notna()]  # means without SD/SE or n cannot enter an SMD
    for (t, anchor), grp in rows.groupby(["time_h", "time_anchor"], sort=True):
        if anchor == "baseline" or t == 0:
            continue
        for ket, ctl, frac in study.comparisons(h["multi_arm"]):
            sel = _pick_rows(
                grp[grp["arm_id"].isin(ket + ctl)],
                [("scale", h["scale_preference"]), ("measure", h["measure_preference"])],
                [ket, ctl],
            )
            if sel is None:
                continue
            k_rows, c_rows = sel[sel["arm_id"].isin(ket)], sel[sel["arm_id"].isin(ctl)]
            nk, mk, sk = effects.combine_groups(k_rows["n"], k_rows["mean"], k_rows["sd_used"])
            nc, mc, sc = effects.combine_groups(c_rows["n"], c_rows["mean"], c_rows["sd_used"])
            nc *= frac
            yi, vi = effects.smd(mc, sc, nc, mk, sk, nk)
            deriv = ["smd: control minus ketamine (positive favours ketamine)"]
            if sel["sd"].isna().any():
                deriv.append("SD from SE x sqrt(n)")
            if len(k_rows) > 1 or len(c_rows) > 1:
                deriv.append("arms combined (Cochrane 6.5.2.10)")
            if frac < 1:
                deriv.append(f"control n x {frac:.3g} (split)")
            out.append(
                {
                    **study.meta,
                    "study_id": study.st["study_id"],
                    "comparison": f"{'+'.join(k_rows['arm_id'])} vs {'+'.join(c_rows['arm_id'])}",
                    "dose_mg_per_kg": study.dose(k_rows["arm_id"]),
                    "outcome": "depression",
                    "group": "contrast",
                    "time_h": float(t),
                    "time_anchor": anchor,
                    "effect": "smd",
                    "yi": float(yi),
                    "vi": float(vi),
                    "n_treatment": nk,
                    "n_control": nc,
                    "scale": sel["scale"].iloc[0],
                    "measure": sel["measure"].iloc[0],
                    "derivation": "; ".join(deriv),
                    "source_rows": _src("outcomes_continuous", sel["_row"]),
                }
            )
    return out


def _binary(study: _Study, rows: pd.DataFrame, cfg: dict) -> list[dict]:
    """Comparative log RR / log OR, plus per-group logit proportions (rates)."""
    h = cfg["handling"]
    add = cfg["model"]["add"]
    out = []
    rows = rows.assign(
        window=rows["window"].fillna(""), scale=rows["scale"].fillna(""), definition=rows["definition"].fillna("")
    )
    groups = rows.groupby(["outcome", "time_h", "time_anchor", "window"], sort=True, dropna=False)
    for (outcome, t, anchor, window), grp in groups:
        if anchor == "baseline":
            continue
        base = {
            **study.meta,
            "study_id": study.st["study_id"],
            "outcome": outcome,
            "time_h": float(t),
            "time_anchor": anchor,
            "window": window,
            "measure": "responders",
        }
        prefs = [("scale", h["scale_preference"]), ("definition", [])]
        if study.comparative:
            for ket, ctl, frac in study.comparisons(h["multi_arm"]):
                sel = _pick_rows(grp[grp["arm_id"].isin(ket + ctl)], prefs, [ket, ctl])
                if sel is None:
                    continue
                k_rows, c_rows = sel[sel["arm_id"].isin(ket)], sel[sel["arm_id"].isin(ctl)]
                a, n1 = float(k_rows["events"].sum()), float(k_rows["total"].sum())
                c, n2 = float(c_rows["events"].sum()), float(c_rows["total"].sum())
                c, n2 = c * frac, n2 * frac
                comp = f"{'+'.join(k_rows['arm_id'])} vs {'+'.join(c_rows['arm_id'])}"
                for eff in h["binary_effects"]:
                    fn = effects.BINARY_EFFECTS[eff]
                    # relapse: fewer events on ketamine favour ketamine, so control is group 1
                    yi, vi = fn(c, n2, a, n1, add) if outcome == "relapse" else fn(a, n1, c, n2, add)
                    if not float(vi) > 0:
                        continue  # e.g. RD with add=0 and two all-or-none arms: no variance to weight by
                    out.append(
                        {
                            **base,
                            "comparison": comp,
                            "dose_mg_per_kg": study.dose(k_rows["arm_id"]),
                            "group": "contrast",
                            "effect": eff,
                            "yi": float(yi),
                            "vi": float(vi),
                            "n_treatment": n1,
                            "n_control": n2,
                            "events_treatment": a,
                            "events_control": c,
                            "scale": sel["scale"].iloc[0],
                            "derivation": f"{eff}: ketamine vs control from counts; {add} added to zero-cell tables",
                            "source_rows": _src("outcomes_binary", sel["_row"]),
                        }
                    )
        groups = [("ketamine", study.ket), ("control", study.ctl)] if study.comparative else [("single_arm", study.ket)]
        for group, arms in groups:
            sel = _pick_rows(grp[grp["arm_id"].isin(arms)], prefs, [arms])
            if sel is None:
                continue
            sel = sel[sel["arm_id"].isin(arms)]
            x, n = float(sel["events"].sum()), float(sel["total"].sum())
            yi, vi = effects.logit_p(x, n, add)
            out.append(
                {
                    **base,
                    "comparison": "+".join(sel["arm_id"]),
                    "group": group,
                    "effect": "logit_p",
                    "yi": float(yi),
                    "vi": float(vi),
                    "n_treatment": n,
                    "n_control": np.nan,
                    "events_treatment": x,
                    "events_control": np.nan,
                    "scale": sel["scale"].iloc[0],
                    "derivation": f"logit proportion {int(x)}/{int(n)}; {add} added if 0 or n",
                    "source_rows": _src("outcomes_binary", sel["_row"]),
                }
            )
    return out


def _contrast_rows(study: _Study, rows: pd.DataFrame, cfg: dict) -> list[dict]:
    h = cfg["handling"]
    out = []
    for _, r in rows.iterrows():
        if r["treatment_arm"] not in study.ket:
            continue
        se = r["se"] if pd.notna(r["se"]) else float(effects.se_from_ci(r["ci_low"], r["ci_high"]))
        deriv = "se from 95% CI" if pd.isna(r["se"]) else "se as printed"
        base = {
            **study.meta,
            "study_id": study.st["study_id"],
            "outcome": r["outcome"],
            "group": "contrast",
            "comparison": f"{r['treatment_arm']} vs {r['control_arm']}",
            "dose_mg_per_kg": study.dose([r["treatment_arm"]]),
            "time_h": float(r["time_h"]),
            "time_anchor": r["time_anchor"],
            "n_treatment": r["n_treatment"],
            "n_control": r["n_control"],
            "scale": r["scale"],
            "measure": "contrast",
            "source_rows": _src("contrasts", [r["_row"]]),
        }
        if r["effect"] == "md":
            # group sizes: as printed with the contrast, else the arms' randomized n
            n1 = float(r["n_treatment"]) if pd.notna(r["n_treatment"]) else study.arm_n.get(r["treatment_arm"])
            n2 = float(r["n_control"]) if pd.notna(r["n_control"]) else study.arm_n.get(r["control_arm"])
            if not (h["contrast_md_to_g"] and n1 and n2):
                continue  # a raw MD cannot be pooled with SMDs; logged as unused
            n_note = "" if pd.notna(r["n_treatment"]) and pd.notna(r["n_control"]) else "; n from arms.csv n_randomized"
            yi, vi = effects.g_from_md_se(r["estimate"], se, n1, n2)
            out.append(
                {
                    **base,
                    "effect": "smd",
                    "yi": float(yi),
                    "vi": float(vi),
                    "n_treatment": n1,
                    "n_control": n2,
                    "derivation": f"g from mean difference: s_p = SE/sqrt(1/n1+1/n2), {deriv}{n_note}",
                }
            )
        else:
            eff = "smd" if r["effect"] == "smd" else r["effect"]
            out.append(
                {
                    **base,
                    "effect": eff,
                    "yi": float(r["estimate"]),
                    "vi": float(se) ** 2,
                    "derivation": f"study-level {r['effect']} as printed, {deriv}",
                }
            )
    return out


def _bin_and_pick(df: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """Assign time bins and keep one time point per study x comparison x outcome x effect x bin."""
    if df.empty:
        return df
    bins = cfg["time_bins"]
    window_bin = cfg.get("window_bin") or ""

    def bin_of(r):
        if r["outcome"] == "relapse":
            return "followup"  # relapse is judged over the follow-up, not at a dose-relative time
        w = r.get("window")
        if isinstance(w, str) and w:
            return window_bin or None
        return assign_bin(r["time_h"], bins)

    df = df.assign(time_bin=df.apply(bin_of, axis=1))
    df = df[df["time_bin"].notna()].copy()
    nominal = {k: v["nominal_h"] for k, v in bins.items()}
    df["_dist"] = [abs(t - nominal[b]) if b in nominal else -t for t, b in zip(df["time_h"], df["time_bin"])]
    df = df.sort_values(["study_id", "comparison", "outcome", "group", "effect", "time_bin", "_dist", "time_h"])
    df = df.drop_duplicates(["study_id", "comparison", "outcome", "group", "effect", "time_bin"], keep="first")
    return df.drop(columns="_dist")


def effect_sizes_by_time(ds: Dataset, cfg: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Arm-level and contrast-level effect sizes at every printed time point, before binning.

    Depends on the ``handling`` rules that shape comparisons (multi-arm, doses, scales, measures,
    binary effects) but not on the time bins, so the multiverse builds it once per arm rule and
    re-bins it cheaply (:func:`bin_effect_sizes`).
    """
    arms_all = ds["arms"]
    arm_level, contrast_level = [], []
    for _, st in ds["studies"].sort_values("study_id").iterrows():
        sid = st["study_id"]
        study = _Study(st, arms_all[arms_all["study_id"] == sid], cfg)
        cont = ds["outcomes_continuous"]
        arm_level += _continuous(study, cont[cont["study_id"] == sid], cfg) if study.comparative else []
        binr = ds["outcomes_binary"]
        arm_level += _binary(study, binr[binr["study_id"] == sid], cfg)
        con = ds["contrasts"]
        contrast_level += _contrast_rows(study, con[con["study_id"] == sid], cfg) if study.comparative else []
    return pd.DataFrame(arm_level), pd.DataFrame(contrast_level)


def bin_effect_sizes(arm_level: pd.DataFrame, contrast_level: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """Bin, keep one time point per bin, let arm-level data win over contrasts, flag the primary set."""
    arm_df = _bin_and_pick(arm_level, cfg)
    con_df = _bin_and_pick(contrast_level, cfg)
    if not con_df.empty:
        # one contrast per study x outcome x effect x bin: the largest treatment arm (then the first)
        con_df = con_df.sort_values(
            ["study_id", "outcome", "effect", "time_bin", "n_treatment"], ascending=[True, True, True, True, False]
        )
        con_df = con_df.drop_duplicates(["study_id", "outcome", "effect", "time_bin"], keep="first")
        if not arm_df.empty:
            have = set(zip(arm_df["study_id"], arm_df["outcome"], arm_df["effect"], arm_df["time_bin"]))
            keep = [
                (s, o, e, b) not in have
                for s, o, e, b in zip(con_df["study_id"], con_df["outcome"], con_df["effect"], con_df["time_bin"])
            ]
            con_df = con_df[keep]  # arm-level data win over printed contrasts
    es = (
        pd.concat([d for d in (arm_df, con_df) if not d.empty], ignore_index=True)
        if (len(arm_df) or len(con_df))
        else pd.DataFrame(columns=EFFECT_COLUMNS)
    )
    for c in EFFECT_COLUMNS:
        if c not in es:
            es[c] = np.nan
    order = {b: i for i, b in enumerate([*cfg["time_bins"], cfg.get("window_bin") or "any_time", "followup"])}
    es = es.assign(_b=es["time_bin"].map(order)).sort_values(
        ["outcome", "effect", "group", "_b", "study_id", "comparison"]
    )
    es = es[EFFECT_COLUMNS].reset_index(drop=True)
    es["primary"] = in_primary(es, cfg)
    return es


def build_effect_sizes(ds: Dataset, cfg: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All effect sizes of a data set, and a log of the input rows that produced none.

    Returns
    -------
    effect_sizes : DataFrame with :data:`EFFECT_COLUMNS` and ``primary``, sorted.
    unused : DataFrame (``table``, ``row``, ``study_id``, ``reason``) of rows not used.
    """
    es = bin_effect_sizes(*effect_sizes_by_time(ds, cfg), cfg)
    return es, _unused_rows(ds, es)


def in_primary(es: pd.DataFrame, cfg: dict) -> pd.Series:
    """Which effect sizes the primary analyses use (control types, populations, crossover rule)."""
    h = cfg["handling"]
    ok = es["population"].isin(h["populations"])
    ok &= es["control"].isin(h["controls"]) | (es["group"] == "single_arm")
    if h["crossover"] == "exclude":
        ok &= ~es["crossover"].astype(bool)
    return ok


def _unused_rows(ds: Dataset, es: pd.DataFrame) -> pd.DataFrame:
    used = set()
    for s in es["source_rows"].dropna():
        used.update(s.split(";"))
    out = []
    for table in ("outcomes_binary", "outcomes_continuous", "contrasts"):
        for _, r in ds[table].iterrows():
            key = f"{table}.csv:{int(r['_row'])}"
            if key not in used:
                out.append(
                    {
                        "table": f"{table}.csv",
                        "row": int(r["_row"]),
                        "study_id": r["study_id"],
                        "reason": _why_unused(ds, table, r),
                    }
                )
    return pd.DataFrame(out, columns=["table", "row", "study_id", "reason"])


def _why_unused(ds: Dataset, table: str, r: pd.Series) -> str:
    st = ds["studies"].set_index("study_id").loc[r["study_id"]]
    if table != "outcomes_binary" and (not st["randomized"] or st["design"] == "single_arm"):
        return "study is not a randomized controlled comparison"
    if table == "outcomes_continuous" and (pd.isna(r["n"]) or (pd.isna(r["sd"]) and pd.isna(r.get("se")))):
        return "no SD/SE or no n printed: cannot enter an SMD"
    if r.get("time_anchor") == "baseline" or r.get("time_h") == 0:
        return "baseline value"
    if table == "contrasts" and r["effect"] == "md":
        return "mean difference without both group sizes (cannot be turned into g) or superseded"
    return "superseded by another row (other scale/measure/time point in the same bin, or arm-level data)"
