"""Effect sizes, steps 2 and 3 (combine, compute): arms merged (Handbook 6.5.2.10) and each
comparison turned into ``yi``/``vi`` with its conversion flags.

Sign convention: a positive ``yi`` favours ketamine. For symptom scores (lower = better) the SMD is
control minus ketamine, for endpoint and change scores alike; for responders and remitters it is
ketamine versus control; for relapse it is control versus ketamine. Continuous arm data by
``escalc(SMD)`` or, for crossover trials, the paired analysis of Handbook 23.2.7 (:func:`paired_smd`);
binary counts by log RR / log OR / RD with the configured zero-cell correction; printed contrasts
converted as :data:`~ketamine_meta.evidence.select.CONVERSIONS` lists.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ketamine_meta.core.settings import Config
from ketamine_meta.evidence.select import Study, flag_text, period_rows, pick_rows, source_rows
from ketamine_meta.stats import effects


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
        return float((hi - lo) / (2 * special.stdtrit(df, 0.975))), "se_from_ci_t"
    return float(effects.se_from_ci(lo, hi)), "se_from_ci_z"


def continuous(study: Study, rows: pd.DataFrame, cfg: Config) -> list[dict]:
    """SMDs from arm-level means: every scale/measure candidate per time point (the bin step picks),
    parallel groups by ``escalc(SMD)``, crossover trials by the paired formula of :func:`paired_smd`."""
    h = cfg.handling
    out = []
    rows, first_period = period_rows(study, rows.copy(), h)
    if rows.empty or (study.crossover and h.crossover == "exclude"):
        return out
    n = rows["n"].astype(float)
    rows["sd_used"] = rows["sd"].where(rows["sd"].notna(), effects.sd_from_se(rows["se"].astype(float), n))
    baseline = rows[(rows["time_anchor"] == "baseline") | (rows["time_h"] == 0)]
    rows = rows[rows["sd_used"].notna() & n.notna()]  # means without SD/SE or n cannot enter an SMD
    paired = study.crossover and not first_period
    for (t, anchor, scale, measure), grp in rows.groupby(["time_h", "time_anchor", "scale", "measure"], sort=True):
        if anchor == "baseline" or t == 0:
            continue
        for ket, ctl, frac in study.comparisons(h.multi_arm):
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
                yi, vi = paired_smd(mc - mk, sd_between, n_pairs, h.crossover_r)
                flags.append("paired_variance")
                deriv = (f"paired SMD (crossover, Handbook 23.2.7): (control - ketamine) / sqrt((SD_k^2 + SD_c^2)/2),"
                         f" N = {n_pairs:g}, r = {h.crossover_r:g}")  # fmt: skip
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
                    "conversions": flag_text(*flags),
                    "baseline_diff_sd": _baseline_gap(baseline, scale, ket, ctl) if measure == "endpoint" else np.nan,
                    "derivation": deriv,
                    "source_rows": source_rows("outcomes_continuous", pd.concat([k_rows, c_rows])["_row"]),
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


def binary(study: Study, rows: pd.DataFrame, cfg: Config) -> list[dict]:
    """Comparative log RR / log OR / RD, plus per-group logit proportions (rates)."""
    h = cfg.handling
    add = cfg.model.add
    out = []
    if study.crossover and h.crossover == "exclude":
        return out
    rows, first_period = period_rows(study, rows, h)
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
        prefs = [("scale", h.scale_preference), ("definition", [])]
        if study.comparative:
            out += _binary_contrasts(study, grp, prefs, base, cfg, first_period)
        groups = [("ketamine", study.ket), ("control", study.ctl)] if study.comparative else [("single_arm", study.ket)]
        for group, arms in groups:
            sel = pick_rows(grp[grp["arm_id"].isin(arms)], prefs, [arms])
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
                    "conversions": flag_text(*(["arms_combined"] if len(sel) > 1 else [])),
                    "derivation": f"logit proportion {int(x)}/{int(n)}; {add} added if 0 or n",
                    "source_rows": source_rows("outcomes_binary", sel["_row"]),
                }
            )
    return out


def _binary_contrasts(study: Study, grp, prefs, base: dict, cfg: Config, first_period: bool) -> list[dict]:
    h, add = cfg.handling, cfg.model.add
    out = []
    for ket, ctl, frac in study.comparisons(h.multi_arm):
        sel = pick_rows(grp[grp["arm_id"].isin(ket + ctl)], prefs, [ket, ctl])
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
        for eff in h.binary_effects:
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
                    "conversions": flag_text(*flags),
                    "derivation": f"{eff}: ketamine vs control from counts; {add} added to zero-cell tables",
                    "source_rows": source_rows("outcomes_binary", sel["_row"]),
                }
            )
    return out


def _contrast_basis(r: pd.Series) -> str:
    adj = r.get("adjustment")
    if isinstance(adj, str) and adj in ("ancova", "mmrm", "lsmean"):
        return "adjusted"
    m = r.get("measure")
    return m if isinstance(m, str) and m in ("change", "endpoint") else "unknown"


def contrast_rows(study: Study, rows: pd.DataFrame, cfg: Config) -> list[dict]:
    """Study-level effects as printed. The ``multi_arm`` rule applies: under ``combine`` a contrast
    of one of several (kept) ketamine arms is not the trial's combined comparison and is not used."""
    h = cfg.handling
    out = []
    rows, first_period = period_rows(study, rows, h)
    if study.crossover and h.crossover == "exclude":
        return out
    for _, r in rows.iterrows():
        if r["treatment_arm"] not in study.ket:
            continue
        if h.multi_arm == "combine" and study.shared_control():
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
            se, se_flag = _se_from_ci(r["ci_low"], r["ci_high"], df, h.ci_to_se)
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
            "source_rows": source_rows("contrasts", [r["_row"]]),
        }
        if is_mean and paired:
            row = _paired_contrast(r, se, n_pairs, h, flags)
        elif r["effect"] == "md":
            if not (h.contrast_md_to_g and n1 and n2):
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
        out.append({**base, "effect": "smd" if is_mean else r["effect"], **row, "conversions": flag_text(*flags),
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
    rr = h.crossover_r
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
