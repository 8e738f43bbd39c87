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
from scipy import stats

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
    "n_participants",
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
    "basis",
    "conversions",
    "baseline_diff_sd",
    "derivation",
    "source_rows",
    "window",
]

#: Typed flags for every conversion between what a trial printed and ``yi``/``vi`` (column
#: ``conversions``, ``;``-joined, sorted), so that they can be filtered and varied.
CONVERSIONS = {
    "sd_from_se": "arm SD recovered from its SE x sqrt(n) (Handbook 6.5.2.3)",
    "se_from_ci_t": "SE from a 95% CI divided by 2 t(df) (Handbook 6.5.2.3, small samples)",
    "se_from_ci_z": "SE from a 95% CI divided by 2 x 1.96",
    "md_to_g": "g from a mean difference and its SE, pooled SD recovered as SE / sqrt(1/n1 + 1/n2)",
    "adjusted_se": "the SE is that of a model-adjusted (ANCOVA/MMRM/LS-mean) contrast: the recovered SD is residual",
    "d_to_g": "printed Cohen's d corrected with Hedges' J",
    "paired_to_between": "within-person scale put on the between-person SD with the within-person correlation r",
    "paired_variance": "variance of a paired (crossover) analysis, Handbook 23.2.7: (1/N + g^2/2N) 2(1 - r)",
    "crossover_as_parallel": "crossover arm counts entered as two independent groups (conservative, Handbook 23.2.6)",
    "first_period": "first-period data of a crossover trial only (analysed as parallel groups)",
    "arms_combined": "several arms combined into one (Handbook 6.5.2.10)",
    "control_split": "shared control n divided among the comparisons",
    "n_from_arms": "group sizes from arms.csv n_randomized (not printed with the contrast)",
    "n_from_study": "crossover participants from studies.csv n_randomized",
    "basis_unknown": "the page does not say whether the printed SMD is of change or endpoint scores",
    "strata_combined": "contrasts of independent strata or cohorts of one trial combined by inverse variance",
}
#: Bases of an SMD (what was differenced): Cochrane Handbook 10.5.2 does not mix change and endpoint
#: SMDs; baseline-adjusted contrasts (ANCOVA / MMRM / LS means) may join either.
BASES = ("change", "endpoint", "adjusted", "unknown")


def _flags(*names: str) -> str:
    bad = [n for n in names if n not in CONVERSIONS]
    if bad:
        raise ValueError(f"unknown conversion flag(s) {bad}")  # programming error
    return ";".join(sorted(set(names)))


def assign_bin(time_h: float, bins: dict) -> str | None:
    """Name of the bin with ``low_h < time_h <= high_h``, or None."""
    for name, b in bins.items():
        if b["low_h"] < time_h <= b["high_h"]:
            return name
    return None


def _src(table: str, rows) -> str:
    return ";".join(f"{table}.csv:{int(r)}" for r in sorted(rows))


def _key(x) -> float:
    """A dose as a set key: missing doses (flexible dosing) compare equal."""
    return -1.0 if x is None or pd.isna(x) else float(x)


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
        self.all_ket = list(k["arm_id"])
        self.ket = [a for a in k["arm_id"] if _keep_ketamine_arm(k.set_index("arm_id").loc[a], h["ketamine_doses"])]
        self.ctl = list(arms.loc[arms["role"] == "control", "arm_id"])
        self.arm_n = {a: (None if pd.isna(n) else float(n)) for a, n in zip(arms["arm_id"], arms["n_randomized"])}
        self.arm_dose = dict(zip(arms["arm_id"], arms["dose_mg_per_kg"].astype(float)))
        self.arm_mg = dict(zip(arms["arm_id"], arms["dose_mg"].astype(float)))
        self.crossover = st["design"] == "crossover"
        self.n_participants = None if pd.isna(st["n_randomized"]) else float(st["n_randomized"])
        self.comparative = bool(st["randomized"]) and st["design"] != "single_arm" and self.ket and self.ctl
        self.meta = {
            "route": self.route,
            "design": st["design"],
            "crossover": self.crossover,
            "randomized": bool(st["randomized"]),
            "control": st["control"],
            "drug": st["drug"],
            "population": st["population"],
            "dosing": st["dosing"],
            "year": None if pd.isna(st["year"]) else int(st["year"]),
        }

    def dose_arms(self) -> int:
        """How many distinct ketamine doses the kept arms have (strata of one dose, such as
        SUSTAIN-1's remitters and responders, are not dose arms)."""
        doses = {(_key(self.arm_dose.get(a)), _key(self.arm_mg.get(a))) for a in self.ket}
        return len(doses)

    def shared_control(self) -> bool:
        """Several dose arms against fewer control arms: a printed contrast of one of them is not the
        trial's combined comparison (cohorts or strata with their own controls are not affected)."""
        return self.dose_arms() > max(len(self.ctl), 1)

    def pairs(self, n1, n2) -> tuple[float | None, bool]:
        """Participants of a crossover comparison, and whether that number is the study's N.

        Arms of a crossover hold either everyone who had that condition (then min(n1, n2)
        completed both) or the two randomized sequence groups (then n1 + n2 is the study's N and
        every participant had both conditions)."""
        n = self.n_participants
        if n1 and n2:
            if n and abs(n1 + n2 - n) < 0.5 and max(n1, n2) < n:
                return n, True
            return float(min(n1, n2)), False
        return n, True

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


def _period_rows(study: _Study, rows: pd.DataFrame, h: dict) -> tuple[pd.DataFrame, bool]:
    """A crossover study's rows for the configured crossover rule, and whether they are first-period
    rows (analysed as parallel groups). ``first_period`` keeps only rows marked ``first``; ``paired``
    prefers both-period rows and falls back to first-period rows where only those exist."""
    if not study.crossover or "crossover_period" not in rows:
        return rows, False
    period = rows["crossover_period"].fillna("both")
    first = rows[period == "first"]
    if h["crossover"] == "first_period":
        return first, True
    both = rows[period != "first"]
    return (both, False) if len(both) else (first, True)


def paired_smd(md, sd_between, n, r):
    """SMD and variance of a crossover (paired) comparison, Cochrane Handbook 23.2.7.2 (5.1: 16.4.6).

    ``SMD = MD / SD`` with ``SD`` the between-person SD of a single measurement, and
    ``SE² = (1/N + SMD²/(2N)) · 2(1 - r)`` with ``N`` participants and ``r`` the within-person
    correlation between the two conditions. No Hedges correction (as the Handbook's formula).
    """
    md, sd_between, n, r = (np.asarray(x, dtype=float) for x in (md, sd_between, n, r))
    g = md / sd_between
    return g, (1 / n + g**2 / (2 * n)) * 2 * (1 - r)


def _se_from_ci(lo, hi, df, rule: str) -> tuple[float, str]:
    """SE of a symmetric 95% CI: ``(hi - lo) / (2 t_{0.975, df})`` under ``rule = t`` when ``df``
    is known (Handbook 6.5.2.3), else ``/ (2 · 1.96)``."""
    if rule == "t" and df is not None and df > 0:
        return float((hi - lo) / (2 * stats.t.ppf(0.975, df))), "se_from_ci_t"
    return float(effects.se_from_ci(lo, hi)), "se_from_ci_z"


def _continuous(study: _Study, rows: pd.DataFrame, cfg: dict) -> list[dict]:
    """SMDs from arm-level means: every scale/measure candidate per time point (the bin step picks),
    parallel groups by ``escalc(SMD)``, crossover trials by the paired formula of :func:`paired_smd`."""
    h = cfg["handling"]
    out = []
    rows, first_period = _period_rows(study, rows.copy(), h)
    if rows.empty or (study.crossover and h["crossover"] == "exclude"):
        return out
    n = rows["n"].astype(float)
    rows["sd_used"] = rows["sd"].where(rows["sd"].notna(), effects.sd_from_se(rows["se"].astype(float), n))
    baseline = rows[(rows["time_anchor"] == "baseline") | (rows["time_h"] == 0)]
    rows = rows[rows["sd_used"].notna() & n.notna()]  # means without SD/SE or n cannot enter an SMD
    paired = study.crossover and not first_period
    for (t, anchor, scale, measure), grp in rows.groupby(["time_h", "time_anchor", "scale", "measure"], sort=True):
        if anchor == "baseline" or t == 0:
            continue
        for ket, ctl, frac in study.comparisons(h["multi_arm"]):
            k_rows, c_rows = grp[grp["arm_id"].isin(ket)], grp[grp["arm_id"].isin(ctl)]
            if k_rows.empty or c_rows.empty:
                continue
            nk, mk, sk = effects.combine_groups(k_rows["n"], k_rows["mean"], k_rows["sd_used"])
            nc, mc, sc = effects.combine_groups(c_rows["n"], c_rows["mean"], c_rows["sd_used"])
            flags = ["sd_from_se"] if pd.concat([k_rows, c_rows])["sd"].isna().any() else []
            if len(k_rows) > 1 or len(c_rows) > 1:
                flags.append("arms_combined")
            if paired:
                # both conditions measured in the same people: N participants, r imputed
                n_pairs, from_study = study.pairs(nk, nc)
                if from_study:
                    flags.append("n_from_study")
                sd_between = np.sqrt((sk**2 + sc**2) / 2)
                yi, vi = paired_smd(mc - mk, sd_between, n_pairs, h["crossover_r"])
                flags.append("paired_variance")
                deriv = (f"paired SMD (crossover, Handbook 23.2.7): (control - ketamine) / sqrt((SD_k^2 + SD_c^2)/2),"
                         f" N = {n_pairs:g}, r = {h['crossover_r']:g}")  # fmt: skip
                nk_out, nc_out = n_pairs, n_pairs
            else:
                nc *= frac
                if frac < 1:
                    flags.append("control_split")
                yi, vi = effects.smd(mc, sc, nc, mk, sk, nk)
                if first_period:
                    flags.append("first_period")
                deriv = "smd: control minus ketamine (positive favours ketamine)"
                nk_out, nc_out = nk, nc
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
                    "n_treatment": nk_out,
                    "n_control": nc_out,
                    "n_participants": n_pairs if paired else nk + nc,
                    "scale": scale,
                    "measure": measure,
                    "basis": "adjusted" if k_rows["adjusted"].notna().any() else measure,
                    "conversions": _flags(*flags),
                    "baseline_diff_sd": _baseline_gap(baseline, scale, ket, ctl) if measure == "endpoint" else np.nan,
                    "derivation": deriv,
                    "source_rows": _src("outcomes_continuous", pd.concat([k_rows, c_rows])["_row"]),
                }
            )
    return out


def _baseline_gap(baseline: pd.DataFrame, scale: str, ket, ctl) -> float:
    """Baseline difference (ketamine minus control) in pooled-SD units, where baselines are printed:
    large gaps are why the Handbook (10.5.2) prefers change or adjusted contrasts."""
    b = baseline[(baseline["scale"] == scale) & baseline["sd_used"].notna() & baseline["n"].notna()]
    bk, bc = b[b["arm_id"].isin(ket)], b[b["arm_id"].isin(ctl)]
    if bk.empty or bc.empty:
        return np.nan
    nk, mk, sk = effects.combine_groups(bk["n"], bk["mean"], bk["sd_used"])
    nc, mc, sc = effects.combine_groups(bc["n"], bc["mean"], bc["sd_used"])
    sp = np.sqrt(((nk - 1) * sk**2 + (nc - 1) * sc**2) / (nk + nc - 2))
    return float((mk - mc) / sp)


def _binary(study: _Study, rows: pd.DataFrame, cfg: dict) -> list[dict]:
    """Comparative log RR / log OR / RD, plus per-group logit proportions (rates)."""
    h = cfg["handling"]
    add = cfg["model"]["add"]
    out = []
    if study.crossover and h["crossover"] == "exclude":
        return out
    rows, first_period = _period_rows(study, rows, h)
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
            "basis": "responders",
        }
        prefs = [("scale", h["scale_preference"]), ("definition", [])]
        if study.comparative:
            out += _binary_contrasts(study, grp, prefs, base, cfg, first_period)
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
                    "n_participants": n,
                    "events_treatment": x,
                    "events_control": np.nan,
                    "scale": sel["scale"].iloc[0],
                    "conversions": _flags(*(["arms_combined"] if len(sel) > 1 else [])),
                    "derivation": f"logit proportion {int(x)}/{int(n)}; {add} added if 0 or n",
                    "source_rows": _src("outcomes_binary", sel["_row"]),
                }
            )
    return out


def _binary_contrasts(study: _Study, grp, prefs, base: dict, cfg: dict, first_period: bool) -> list[dict]:
    h, add = cfg["handling"], cfg["model"]["add"]
    out = []
    for ket, ctl, frac in study.comparisons(h["multi_arm"]):
        sel = _pick_rows(grp[grp["arm_id"].isin(ket + ctl)], prefs, [ket, ctl])
        if sel is None:
            continue
        k_rows, c_rows = sel[sel["arm_id"].isin(ket)], sel[sel["arm_id"].isin(ctl)]
        a, n1 = float(k_rows["events"].sum()), float(k_rows["total"].sum())
        c, n2 = float(c_rows["events"].sum()), float(c_rows["total"].sum())
        c, n2 = c * frac, n2 * frac
        flags = ["arms_combined"] if len(k_rows) > 1 or len(c_rows) > 1 else []
        if frac < 1:
            flags.append("control_split")
        if study.crossover:
            # no paired (discordant-pair) counts are printed: two independent groups, which
            # over-states the variance (Elbourne et al. 2002; Handbook 23.2.6)
            flags.append("first_period" if first_period else "crossover_as_parallel")
        comp = f"{'+'.join(k_rows['arm_id'])} vs {'+'.join(c_rows['arm_id'])}"
        for eff in h["binary_effects"]:
            fn = effects.BINARY_EFFECTS[eff]
            # relapse: fewer events on ketamine favour ketamine, so control is group 1
            yi, vi = fn(c, n2, a, n1, add) if base["outcome"] == "relapse" else fn(a, n1, c, n2, add)
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
                    "n_participants": (max(n1, n2) if study.crossover else n1 + n2),
                    "events_treatment": a,
                    "events_control": c,
                    "scale": sel["scale"].iloc[0],
                    "conversions": _flags(*flags),
                    "derivation": f"{eff}: ketamine vs control from counts; {add} added to zero-cell tables",
                    "source_rows": _src("outcomes_binary", sel["_row"]),
                }
            )
    return out


def _contrast_basis(r: pd.Series) -> str:
    adj = r.get("adjustment")
    if isinstance(adj, str) and adj in ("ancova", "mmrm", "lsmean"):
        return "adjusted"
    m = r.get("measure")
    return m if isinstance(m, str) and m in ("change", "endpoint") else "unknown"


def _contrast_rows(study: _Study, rows: pd.DataFrame, cfg: dict) -> list[dict]:
    """Study-level effects as printed. The ``multi_arm`` rule applies: under ``combine`` a contrast
    of one of several (kept) ketamine arms is not the trial's combined comparison and is not used."""
    h = cfg["handling"]
    out = []
    rows, first_period = _period_rows(study, rows, h)
    if study.crossover and h["crossover"] == "exclude":
        return out
    for _, r in rows.iterrows():
        if r["treatment_arm"] not in study.ket:
            continue
        if h["multi_arm"] == "combine" and study.shared_control():
            continue  # covers one dose arm of several sharing a control; logged as unused with that reason
        paired = study.crossover and not first_period and bool(r.get("paired") is True or r.get("paired") == "true")
        n1 = float(r["n_treatment"]) if pd.notna(r["n_treatment"]) else study.arm_n.get(r["treatment_arm"])
        n2 = float(r["n_control"]) if pd.notna(r["n_control"]) else study.arm_n.get(r["control_arm"])
        flags = [] if pd.notna(r["n_treatment"]) and pd.notna(r["n_control"]) else ["n_from_arms"]
        if first_period:
            flags.append("first_period")
        n_pairs = None
        if paired:
            n_pairs, from_study = study.pairs(n1, n2)
            flags = [f for f in flags if f != "n_from_arms"] + (["n_from_study"] if from_study else [])
        is_mean = r["effect"] in ("md", "smd") and r["outcome"] in ("depression", "suicidal_ideation")
        df = None
        if is_mean:
            df = (n_pairs - 1 if n_pairs else None) if paired else (n1 + n2 - 2 if n1 and n2 else None)
        se_flag = None
        if pd.notna(r["se"]):
            se = float(r["se"])
        else:
            se, se_flag = _se_from_ci(r["ci_low"], r["ci_high"], df, h["ci_to_se"])
        # the SE enters unless a printed d is rescaled by formula (paired d) or converted with n (d_to_g)
        se_used = not (is_mean and r["effect"] == "smd" and (paired or (n1 and n2)))
        if se_flag and se_used:
            flags.append(se_flag)
        base = {
            **study.meta,
            "study_id": study.st["study_id"],
            "outcome": r["outcome"],
            "group": "contrast",
            "comparison": f"{r['treatment_arm']} vs {r['control_arm']}",
            "dose_mg_per_kg": study.dose([r["treatment_arm"]]),
            "time_h": float(r["time_h"]),
            "time_anchor": r["time_anchor"],
            "n_treatment": n1,
            "n_control": n2,
            "scale": r["scale"],
            "measure": "contrast",
            "basis": _contrast_basis(r) if is_mean else "ratio",
            "source_rows": _src("contrasts", [r["_row"]]),
        }
        if is_mean and paired:
            row = _paired_contrast(r, se, n_pairs, h, flags)
        elif r["effect"] == "md":
            if not (h["contrast_md_to_g"] and n1 and n2):
                continue  # a raw MD cannot be pooled with SMDs; logged as unused
            yi, vi = effects.g_from_md_se(r["estimate"], se, n1, n2)
            flags.append("md_to_g")
            if base["basis"] == "adjusted":
                flags.append("adjusted_se")
            row = {"yi": float(yi), "vi": float(vi), "derivation": "g from mean difference: s_p = SE/sqrt(1/n1+1/n2)"}
        elif r["effect"] == "smd":
            if not (n1 and n2):
                row = {"yi": float(r["estimate"]), "vi": se**2, "derivation": "printed SMD, variance from its SE/CI"}
            else:
                yi, vi = effects.smd_from_d(r["estimate"], n1, n2)
                flags.append("d_to_g")
                row = {"yi": float(yi), "vi": float(vi),
                       "derivation": "printed d x Hedges' J(n1+n2-2); escalc large-sample variance"}  # fmt: skip
        else:
            row = {"yi": float(r["estimate"]), "vi": se**2, "derivation": f"study-level {r['effect']} as printed"}
        if base["basis"] == "unknown":
            flags.append("basis_unknown")
        if row is None:
            continue
        n_part = n_pairs if paired else ((n1 or 0) + (n2 or 0) or np.nan)
        out.append({**base, "effect": "smd" if is_mean else r["effect"], **row, "conversions": _flags(*flags),
                    "n_participants": n_part,
                    **({"n_treatment": n_pairs, "n_control": n_pairs} if paired else {})})  # fmt: skip
    return out


def _paired_contrast(r: pd.Series, se: float, n_pairs, h: dict, flags: list) -> dict | None:
    """A within-person estimate of a crossover trial on the between-person SD scale.

    * printed mean difference with a paired SE/CI: ``SD_diff = SE · sqrt(N)``, the between-person
      SD ``SD = SD_diff / sqrt(2(1 - r))``, then :func:`paired_smd`;
    * printed within-person d (``MD / SD_diff``): ``SMD = d · sqrt(2(1 - r))``, variance from
      :func:`paired_smd` with ``N`` participants (the printed CI of a mixed model over many visits
      is not a per-time-point paired variance).
    """
    if not n_pairs:
        return None
    rr = h["crossover_r"]
    if r["effect"] == "md":
        sd_between = se * np.sqrt(n_pairs) / np.sqrt(2 * (1 - rr))
        yi, vi = paired_smd(r["estimate"], sd_between, n_pairs, rr)
        text = f"paired MD / SD_between, SD_between = SE sqrt(N) / sqrt(2(1-r)), N = {n_pairs:g}, r = {rr:g}"
    else:
        yi = float(r["estimate"]) * np.sqrt(2 * (1 - rr))
        _, vi = paired_smd(yi, 1.0, n_pairs, rr)
        text = f"within-person d x sqrt(2(1-r)), variance (1/N + g^2/2N) 2(1-r), N = {n_pairs:g}, r = {rr:g}"
    flags += ["paired_to_between", "paired_variance"]
    return {"yi": float(yi), "vi": float(vi), "derivation": text}


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


#: Which SMD bases each ``handling.smd_measure`` rule admits (Cochrane Handbook 10.5.2: SMDs of
#: change and of endpoint scores are not combined; adjusted contrasts may join either; a printed SMD
#: whose basis the page does not state is kept and flagged ``basis_unknown``).
MEASURE_RULES = {
    "change": ("change", "adjusted", "unknown"),
    "endpoint": ("endpoint", "adjusted", "unknown"),
    "mixed": BASES,
}


def measure_allowed(es: pd.DataFrame, rule: str) -> pd.Series:
    """Rows the ``smd_measure`` rule keeps (non-SMD rows always)."""
    return (es["effect"] != "smd") | es["basis"].isin(MEASURE_RULES[rule])


def _bin_and_pick(df: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """Assign time bins and keep one row per study x comparison x outcome x effect x bin: the
    measure rule first, then the preferred scale, then the preferred measure, then the time point
    closest to the bin's nominal hour (ties: the earlier one)."""
    if df.empty:
        return df
    h = cfg["handling"]
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
    if "basis" in df:
        df = df[measure_allowed(df, h["smd_measure"])]
    nominal = {k: v["nominal_h"] for k, v in bins.items()}
    scales, measures = h["scale_preference"], h["measure_preference"]
    df["_scale"] = [scales.index(x) if x in scales else len(scales) for x in df["scale"].fillna("")]
    df["_measure"] = [measures.index(x) if x in measures else len(measures) for x in df["measure"].fillna("")]
    df["_dist"] = [abs(t - nominal[b]) if b in nominal else -t for t, b in zip(df["time_h"], df["time_bin"])]
    keys = ["study_id", "comparison", "outcome", "group", "effect", "time_bin"]
    df = df.sort_values([*keys, "_scale", "_measure", "_dist", "time_h"])
    df = df.drop_duplicates(keys, keep="first")
    return df.drop(columns=["_dist", "_scale", "_measure"])


def effect_sizes_by_time(ds: Dataset, cfg: dict, crossover: bool | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Arm-level and contrast-level effect sizes at every printed time point, before binning.

    Depends on the ``handling`` rules that shape comparisons (multi-arm, doses, scales, measures,
    binary effects) but not on the time bins, so the multiverse builds it once per arm rule and
    re-bins it cheaply (:func:`bin_effect_sizes`). ``crossover`` True / False builds only the
    crossover / the other trials (the crossover rules move only the former); None builds all.
    """
    arms_all = ds["arms"]
    arm_level, contrast_level = [], []
    studies = ds["studies"].sort_values("study_id")
    if crossover is not None:
        studies = studies[(studies["design"] == "crossover") == crossover]
    for _, st in studies.iterrows():
        sid = st["study_id"]
        study = _Study(st, arms_all[arms_all["study_id"] == sid], cfg)
        cont = ds["outcomes_continuous"]
        arm_level += _continuous(study, cont[cont["study_id"] == sid], cfg) if study.comparative else []
        binr = ds["outcomes_binary"]
        arm_level += _binary(study, binr[binr["study_id"] == sid], cfg)
        con = ds["contrasts"]
        contrast_level += _contrast_rows(study, con[con["study_id"] == sid], cfg) if study.comparative else []
    return pd.DataFrame(arm_level), pd.DataFrame(contrast_level)


def _one_contrast_per_cell(con: pd.DataFrame) -> pd.DataFrame:
    """One contrast per study x outcome x effect x bin. Contrasts of disjoint arm pairs (independent
    strata or cohorts, each with its own control, e.g. SUSTAIN-1's remitters and responders) are
    combined by inverse-variance weighting, as one trial's estimate (flag ``strata_combined``);
    otherwise the largest treatment arm's contrast is kept (then the first)."""
    keys = ["study_id", "outcome", "effect", "time_bin"]
    out = []
    for _, cell in con.sort_values([*keys, "n_treatment"], ascending=[True] * 4 + [False]).groupby(keys, sort=False):
        arms = [c.split(" vs ") for c in cell["comparison"]]
        treat, ctl = [a[0] for a in arms], [a[1] for a in arms]
        if len(cell) > 1 and len(set(treat)) == len(treat) and len(set(ctl)) == len(ctl) and not set(treat) & set(ctl):
            w = 1 / cell["vi"].to_numpy(float)
            row = cell.iloc[0].copy()
            row["yi"] = float((w * cell["yi"].to_numpy(float)).sum() / w.sum())
            row["vi"] = float(1 / w.sum())
            for col in ("n_treatment", "n_control", "n_participants"):
                row[col] = cell[col].sum(min_count=1)
            row["comparison"] = " + ".join(cell["comparison"])
            row["source_rows"] = ";".join(cell["source_rows"])
            flags = set(";".join(cell["conversions"].fillna("")).split(";")) - {""}
            row["conversions"] = ";".join(sorted(flags | {"strata_combined"}))
            row["derivation"] = "strata combined by inverse-variance weighting: " + " | ".join(cell["derivation"])
            out.append(row.to_frame().T)
        else:
            out.append(cell.iloc[[0]])
    return pd.concat(out, ignore_index=True).astype({c: con[c].dtype for c in con.columns if c in ("yi", "vi")})


def bin_effect_sizes(arm_level: pd.DataFrame, contrast_level: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """Bin, keep one time point per bin, let arm-level data win over contrasts, flag the primary set."""
    arm_df = _bin_and_pick(arm_level, cfg)
    con_df = _bin_and_pick(contrast_level, cfg)
    if not con_df.empty:
        con_df = _one_contrast_per_cell(con_df)
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
    return es, _unused_rows(ds, es, cfg)


def in_primary(es: pd.DataFrame, cfg: dict) -> pd.Series:
    """Which effect sizes the primary analyses use (control types, populations; the crossover and
    measure rules act earlier, when the effect sizes are built and binned)."""
    h = cfg["handling"]
    ok = es["population"].isin(h["populations"]) & es["drug"].isin(h["drugs"])
    ok &= es["control"].isin(h["controls"]) | (es["group"] == "single_arm")
    return ok


def _unused_rows(ds: Dataset, es: pd.DataFrame, cfg: dict) -> pd.DataFrame:
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
                        "reason": _why_unused(ds, table, r, cfg),
                    }
                )
    return pd.DataFrame(out, columns=["table", "row", "study_id", "reason"])


def _why_unused(ds: Dataset, table: str, r: pd.Series, cfg: dict) -> str:
    h = cfg["handling"]
    st = ds["studies"].set_index("study_id").loc[r["study_id"]]
    if table != "outcomes_binary" and (not st["randomized"] or st["design"] == "single_arm"):
        return "study is not a randomized controlled comparison"
    if st["design"] == "crossover":
        period = r.get("crossover_period") if isinstance(r.get("crossover_period"), str) else "both"
        if h["crossover"] == "exclude":
            return "crossover trial (handling.crossover = exclude)"
        if h["crossover"] == "first_period" and period != "first":
            return "both-period crossover data (handling.crossover = first_period)"
    if table == "contrasts" and h["multi_arm"] == "combine":
        arms = ds["arms"]
        mine = arms[arms["study_id"] == r["study_id"]]
        ket = mine[mine["role"] == "ketamine"]
        n_doses = len(ket[["dose_mg_per_kg", "dose_mg"]].astype(float).fillna(-1).drop_duplicates())
        if n_doses > max((mine["role"] == "control").sum(), 1):
            return "contrast of one of several ketamine arms (handling.multi_arm = combine needs the combined arm)"
    if table == "outcomes_continuous" and r.get("measure") not in MEASURE_RULES[h["smd_measure"]]:
        if not (isinstance(r.get("adjusted"), str) and r.get("adjusted")):
            return f"{r.get('measure')} score: not mixed with other SMDs (handling.smd_measure = {h['smd_measure']})"
    if table == "outcomes_continuous" and (pd.isna(r["n"]) or (pd.isna(r["sd"]) and pd.isna(r.get("se")))):
        return "no SD/SE or no n printed: cannot enter an SMD"
    if r.get("time_anchor") == "baseline" or r.get("time_h") == 0:
        return "baseline value"
    if table == "contrasts" and r["effect"] == "md":
        return "mean difference without both group sizes (cannot be turned into g) or superseded"
    return "superseded by another row (other scale/measure/time point in the same bin, or arm-level data)"
