"""Safety and tolerability: adverse events by arm (``adverse_events.csv``), pooled per event.

For events counted as proportions of participants, each trial's ketamine arms are combined and
compared with its control arms (controls of ``handling.controls``; active comparators such as ECT
are reported apart): the log risk ratio as ``escalc(measure="RR", add=1/2, to="only0")`` pooled by
``rma.uni`` as configured, and the Mantel-Haenszel risk ratio beside it; the proportion with the
event in each group is pooled on the logit scale. Mean changes (e.g. systolic blood pressure in
mmHg) are pooled per group by inverse variance of each arm's mean (SE = SD / sqrt(n)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketamine_meta.core.settings import Config
from ketamine_meta.evidence.analyses import pool_one
from ketamine_meta.stats import effects
from ketamine_meta.stats.mantel_haenszel import mh_pool

POOLED_COLUMNS = [
    "analysis_id", "event", "effect", "group", "control_types", "k", "n_participants", "estimate", "ci_low",
    "ci_high", "tau2", "i2", "method", "ci_method", "studies", "note",
]  # fmt: skip


def per_study(ae: pd.DataFrame, arms: pd.DataFrame, studies: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """One row per study x event: ketamine-arm and control-arm counts (arms combined)."""
    if ae is None or ae.empty:
        return pd.DataFrame()
    prop = ae[ae["measure"] == "proportion"].merge(arms[["study_id", "arm_id", "role"]], on=["study_id", "arm_id"])
    st = studies.set_index("study_id")
    rows = []
    for (sid, event), g in prop.groupby(["study_id", "event"], sort=True):
        k, c = g[g["role"] == "ketamine"], g[g["role"] == "control"]
        rows.append({"study_id": sid, "event": event, "control": st.loc[sid, "control"], "route": st.loc[sid, "route"],
                     "events_treatment": float(k["events"].sum()), "n_treatment": float(k["total"].sum()),
                     "events_control": float(c["events"].sum()) if len(c) else np.nan,
                     "n_control": float(c["total"].sum()) if len(c) else np.nan,
                     "source_rows": ";".join(f"adverse_events.csv:{int(r)}" for r in sorted(g["_row"]))})  # fmt: skip
    return pd.DataFrame(rows)


def pool_adverse(ae: pd.DataFrame, arms: pd.DataFrame, studies: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Pooled risk ratios (random effects and Mantel-Haenszel) and group proportions per event."""
    s = per_study(ae, arms, studies, cfg)
    out = []
    if s.empty:
        return pd.DataFrame(columns=POOLED_COLUMNS)
    add, model = cfg.model.add, cfg.model
    controls = cfg.handling.controls
    for event, cell in s.groupby("event", sort=True):
        comp = cell[cell["n_control"].notna() & cell["control"].isin(controls)]
        base = {"event": event, "control_types": ";".join(sorted(set(comp["control"])))}
        if len(comp):
            yi, vi = effects.log_rr(comp["events_treatment"], comp["n_treatment"], comp["events_control"],
                                    comp["n_control"], add)  # fmt: skip
            rows = comp.assign(yi=yi, vi=vi, effect="log_rr", n_participants=comp["n_treatment"] + comp["n_control"])
            res = pool_one(rows, model)
            out.append({**base, "analysis_id": f"ae.{event}.log_rr.all", "effect": "log_rr", "group": "contrast",
                        **{k: res[k] for k in POOLED_COLUMNS if k in res}})  # fmt: skip
            mh = mh_pool(comp["events_treatment"], comp["n_treatment"], comp["events_control"], comp["n_control"],
                         "log_rr", model.level)  # fmt: skip
            out.append({**base, "analysis_id": f"ae.{event}.mh_rr.all", "effect": "mh_rr", "group": "contrast",
                        "k": mh["k"], "n_participants": res["n_participants"], "estimate": np.exp(mh["beta"]),
                        "ci_low": np.exp(mh["ci_low"]), "ci_high": np.exp(mh["ci_high"]), "method": "MH",
                        "ci_method": "z", "studies": res["studies"], "note": "Mantel-Haenszel"})  # fmt: skip
        for group, ev, n in (
            ("ketamine", "events_treatment", "n_treatment"),
            ("control", "events_control", "n_control"),
        ):
            g = (comp if group == "control" else cell[cell["n_treatment"].notna()]).dropna(subset=[n])
            if g.empty:
                continue
            yi, vi = effects.logit_p(g[ev], g[n], add)
            res = pool_one(g.assign(yi=yi, vi=vi, effect="logit_p", n_participants=g[n]), model)
            out.append({**base, "analysis_id": f"ae_rate.{event}.{group}.all", "effect": "logit_p", "group": group,
                        **{k: res[k] for k in POOLED_COLUMNS if k in res}})  # fmt: skip
    return pd.DataFrame(out, columns=POOLED_COLUMNS)
