"""The sections of the HTML report as plain data for the template: analyses with their study rows,
claims, studies with their data rows, methods and the pooled table.
"""

from __future__ import annotations

import hashlib
import json
import math

import pandas as pd

from ketamine_meta.claims.verdicts import robustness_text
from ketamine_meta.core.settings import Config
from ketamine_meta.data.contract import TABLES
from ketamine_meta.data.documents import document
from ketamine_meta.evidence import analyses
from ketamine_meta.outputs.text import (
    fmt,
    fmt2,
    interval_text,
    is_missing,
    p_value,
    row_anchor,
    slug,
    source_refs,
    split_ids,
    value_text,
    z_value,
)

#: Config keys that name where this run wrote its files: never printed (the page must not depend on them).
PATH_KEYS = ("results_dir", "work_dir")
#: Contract tables whose rows belong to one study and carry source_url / locator / evidence.
STUDY_TABLES = ("studies", "arms", "outcomes_continuous", "outcomes_binary", "contrasts", "relapse")


#: Columns shown as the provenance of a data row rather than among its values.
PROVENANCE_COLUMNS = ("source_url", "locator", "evidence", "derivation")


ESTIMATORS = {
    "REML": "restricted maximum likelihood (REML)",
    "DL": "DerSimonian-Laird (DL)",
    "PM": "Paule-Mandel (PM)",
    "ML": "maximum likelihood (ML)",
    "SJ": "Sidik-Jonkman (SJ)",
    "HE": "Hedges (HE)",
}


CI_METHODS = {
    "knha": "Knapp-Hartung: t distribution with k-1 degrees of freedom and a rescaled variance, not truncated",
    "z": "normal (z) intervals",
}


MULTI_ARM = {
    "combine": "the ketamine arms of a trial are merged into one arm (Cochrane Handbook 6.5.2.10), so the "
    "shared control counts once",
    "split_control": "one comparison per ketamine arm, the control's n divided among them",
}


CROSSOVER = {
    "include": "analysed as if parallel (each condition an independent group) and flagged; printed "
    "within-person effects enter as printed",
    "exclude": "left out of the primary analyses",
}


#: Effects whose estimates are shown exponentiated (ratios) or back-transformed (proportions).
NATURAL = {"log_rr": "ratio", "log_or": "ratio", "log_hr": "ratio", "logit_p": "proportion"}


def _natural(effect: str, x: float) -> float:
    if NATURAL.get(effect) == "ratio":
        return math.exp(x)
    if NATURAL.get(effect) == "proportion":
        return 1 / (1 + math.exp(-x))
    return x


def _effect_rows(es: pd.DataFrame, p: pd.Series, cfg: Config, labels: dict | None = None) -> list[dict]:
    """The effect sizes that entered pooled analysis ``p`` (its subset, cell and route), each with its
    z interval on the reporting scale and its random-effects weight 1/(vi + τ²) as % of the total."""
    labels = labels or {}
    try:
        sel = analyses.subset_frames(es, cfg).get(p["subset"], es.iloc[0:0])
    except KeyError:  # a subset filtering on a column this effect-size table lacks: select by study below
        sel = es[es["primary"].astype(bool)]
    sel = sel[
        (sel["outcome"] == p["outcome"])
        & (sel["effect"] == p["effect"])
        & (sel["group"] == p["group"])
        & (sel["time_bin"] == p["time_bin"])
    ]
    if p["route"] != "all":
        sel = sel[sel["route"] == p["route"]]
    sel = sel[sel["study_id"].isin(split_ids(p["studies"]))]
    sel = sel.sort_values(["study_id", "comparison"], kind="stable")
    z = z_value(cfg.model.level)
    tau2 = 0.0 if is_missing(p.get("tau2")) else float(p["tau2"])
    w = 1 / (sel["vi"].astype(float) + tau2) if len(sel) else pd.Series(dtype=float)
    share = 100 * w / w.sum() if len(sel) else w
    rows = []
    for (_, r), weight in zip(sel.iterrows(), share):
        se = math.sqrt(float(r["vi"]))
        est, lo, hi = (_natural(r["effect"], float(r["yi"]) + d) for d in (0.0, -z * se, z * se))
        rows.append(
            {
                "study": r["study_id"],
                "label": labels.get(r["study_id"], r["study_id"]),
                "study_anchor": f"study-{slug(r['study_id'])}",
                "comparison": value_text(r.get("comparison")),
                "route": value_text(r.get("route")),
                "time_h": value_text(r.get("time_h")),
                "yi": fmt(r["yi"], 4),
                "vi": fmt(r["vi"], 4),
                "estimate": f"{fmt2(est)} [{fmt2(lo)}, {fmt2(hi)}]",
                "weight": f"{weight:.1f}%",
                "n": " / ".join(value_text(r.get(c)) or "-" for c in ("n_treatment", "n_control")),
                "events": " / ".join(value_text(r.get(c)) or "-" for c in ("events_treatment", "events_control"))
                if not (is_missing(r.get("events_treatment")) and is_missing(r.get("events_control")))
                else "",
                "scale": " ".join(x for x in (value_text(r.get("scale")), value_text(r.get("measure"))) if x),
                "flags": "crossover" if str(r.get("crossover")).lower() == "true" else "",
                "derivation": value_text(r.get("derivation")),
                "sources": source_refs(r.get("source_rows")),
            }
        )
    return rows


def _pooled_stats(p: pd.Series) -> list[tuple[str, str]]:
    stats = [
        ("estimate [CI]", interval_text(p["estimate"], p["ci_low"], p["ci_high"])),
        (
            "prediction interval",
            f"[{fmt(p['pi_low'])}, {fmt(p['pi_high'])}]" if not is_missing(p["pi_low"]) else "none (k = 1)",
        ),
        ("k", value_text(p["k"])),
        ("participants", value_text(p["n_participants"])),
        ("τ²", fmt(p["tau2"])),
        ("I² (%)", fmt(p["i2"])),
        ("Q (p)", f"{fmt(p['q'])} (p = {p_value(p['q_p'])})" if not is_missing(p["q"]) else ""),
        ("method / CI method", f"{value_text(p['method'])} / {value_text(p['ci_method'])}"),
    ]
    if not is_missing(p.get("note")):
        stats.append(("note", value_text(p["note"])))
    return stats


def build_analyses(
    claims: pd.DataFrame,
    metrics: pd.DataFrame,
    pooled: pd.DataFrame,
    es: pd.DataFrame,
    cfg: Config,
    fig_by_key: dict,
    labels: dict | None = None,
) -> tuple[list[dict], dict[str, str]]:
    """One block per analysis a claim rests on (a pooled.csv row, else the metric itself).

    Returns the blocks and, per metric, the anchor of its block.
    """
    by_metric = metrics.set_index("metric", drop=False)
    pooled_by_id = pooled.set_index("analysis_id", drop=False)
    blocks: dict[str, dict] = {}
    metric_anchor: dict[str, str] = {}
    for _, c in claims.iterrows():
        metric = c["metric"]
        if is_missing(metric) or metric not in by_metric.index:
            continue
        m = by_metric.loc[metric]
        aid = m.get("analysis_id")
        in_pooled = not is_missing(aid) and aid in pooled_by_id.index
        key = aid if in_pooled else metric
        anchor = f"analysis-{slug(key)}"
        metric_anchor[metric] = anchor
        if key not in blocks:
            fig = m.get("figure")
            fig_key = None if is_missing(fig) else str(fig)
            block = {
                "anchor": anchor,
                "key": key,
                "kind": "pooled analysis" if in_pooled else "metric",
                "metrics": [],
                "claims": [],
                "figure": fig_by_key.get(fig_key) if fig_key else None,
                "pooled_anchor": f"pooled-{slug(aid)}" if in_pooled else None,
                "studies": [],
                "effects": [],
                "stats": [],
            }
            if in_pooled:
                p = pooled_by_id.loc[aid]
                block["stats"] = _pooled_stats(p)
                block["studies"] = split_ids(p["studies"])
                block["effects"] = _effect_rows(es, p, cfg, labels)
            else:
                block["stats"] = [
                    ("value [interval]", interval_text(m["value"], m["ci_low"], m["ci_high"], m.get("interval"))),
                    ("interval", value_text(m.get("interval"))),
                    ("k", value_text(m.get("k"))),
                ]
                block["studies"] = split_ids(m.get("studies"))
            blocks[key] = block
        block = blocks[key]
        if metric not in [x["metric"] for x in block["metrics"]]:
            block["metrics"].append(
                {
                    "metric": metric,
                    "value": interval_text(m["value"], m["ci_low"], m["ci_high"], m.get("interval")),
                    "unit": value_text(m.get("unit")),
                    "description": value_text(m.get("description")),
                }
            )
        block["claims"].append({"id": c["claim_id"], "anchor": f"claim-{slug(c['claim_id'])}"})
    labels = labels or {}
    for block in blocks.values():
        block["studies"] = [
            {"id": s, "label": labels.get(s, s), "anchor": f"study-{slug(s)}"} for s in block["studies"]
        ]
    ordered = [blocks[k] for k in sorted(blocks)]
    for block in ordered:  # a figure's id lives in the first analysis that shows it
        fig = block["figure"]
        if fig is not None and fig["home"] is None:
            fig["home"] = block["anchor"]
        block["figure_home"] = fig is not None and fig["home"] == block["anchor"]
    return ordered, metric_anchor


def build_claims(
    claims: pd.DataFrame, metric_anchor: dict, fig_by_key: dict, documents: dict | None = None, labels=None
) -> list[dict]:
    has_robustness = "robustness" in claims.columns
    rows = []
    for _, c in claims.iterrows():
        fig = c.get("figure")
        figure = fig_by_key.get(str(fig)) if not is_missing(fig) else None
        anchor = f"claim-{slug(c['claim_id'])}"
        if figure is not None:
            figure["claims"].append({"id": c["claim_id"], "anchor": anchor})
        metric = c["metric"]
        doc = document(value_text(c["document"]), documents or {})
        rows.append(
            {
                "id": c["claim_id"],
                "anchor": anchor,
                "document": value_text(c["document"]),
                "doc": doc,
                "section": value_text(c.get("section")),
                "quote": value_text(c["quote"]),
                "metric": value_text(metric),
                "claimed": value_text(c["claimed"]),
                "rule": value_text(c["rule"]),
                "regenerated": interval_text(c["regenerated"], c["ci_low"], c["ci_high"], c.get("interval"))
                if not is_missing(c["regenerated"])
                else "NA",
                "interval": value_text(c.get("interval")) if c.get("interval") in ("ci", "range") else "",
                "k": value_text(c.get("k")),
                "studies": [
                    {"id": s, "label": (labels or {}).get(s, s), "anchor": f"study-{slug(s)}"}
                    for s in split_ids(c.get("studies"))
                ],
                "verdict": value_text(c["verdict"]),
                "one_study": c.get("basis") == "one study",
                "certainty": value_text(c.get("certainty")) if not is_missing(c.get("certainty")) else "",
                "certainty_reasons": value_text(c.get("certainty_reasons"))
                if not is_missing(c.get("certainty_reasons"))
                else "",
                "source_verdict": value_text(c.get("source_verdict"))
                if not is_missing(c.get("source_verdict"))
                else "",
                "source_reason": value_text(c.get("source_reason")) if not is_missing(c.get("source_reason")) else "",
                "reason": value_text(c["reason"]),
                "robustness": _robustness(c) if has_robustness else None,
                "central": str(c.get("central")).lower() == "true",
                "figure": figure,
                "analysis": metric_anchor.get(metric),
            }
        )
    return rows


def _robustness(c: pd.Series) -> str:
    """The multiverse share in words ("4% of 260 distinct analyses (…)"), never a raw fraction."""
    value = c.get("robustness")
    if is_missing(value):
        return ""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value  # already in words
        c = c.copy()
        c["robustness"] = value
    if is_missing(c.get("n_distinct")):
        return f"{float(value):.0%} of distinct analyses"
    return robustness_text(c)


def build_studies(ds, blocks: list[dict]) -> list[dict]:
    """A section per study of studies.csv: its header and its rows of every contract table."""
    used_in: dict[str, list[dict]] = {}
    for b in blocks:
        for s in b["studies"]:
            used_in.setdefault(s["id"], []).append({"key": b["key"], "anchor": b["anchor"]})
    studies = ds["studies"].sort_values("study_id", kind="stable")
    # each table split by study once, rows in file order (not one filter per study and table)
    by_study = {
        name: dict(tuple(ds[name].sort_values("_row", kind="stable").groupby("study_id", sort=False)))
        for name in STUDY_TABLES
        if name in ds.tables
    }
    out = []
    for _, s in studies.iterrows():
        sid = s["study_id"]
        rows = []
        for name, groups in by_study.items():
            t = ds[name]
            if sid not in groups:
                continue
            for _, r in groups[sid].iterrows():
                fields = [
                    (col, value_text(r[col]))
                    for col in t.columns
                    if col not in ("_row", "study_id", *PROVENANCE_COLUMNS) and not is_missing(r[col])
                ]
                url = value_text(r.get("source_url"))
                rows.append(
                    {
                        "anchor": row_anchor(name, r["_row"]),
                        "ref": f"{TABLES[name].filename}:{int(r['_row'])}",
                        "fields": fields,
                        "url": url if url.startswith(("http://", "https://")) else "",
                        "url_text": url,
                        "locator": value_text(r.get("locator")),
                        "evidence": value_text(r.get("evidence")),
                        "derivation": value_text(r.get("derivation")),
                    }
                )
        doi = value_text(s.get("doi"))
        out.append(
            {
                "id": sid,
                "anchor": f"study-{slug(sid)}",
                "label": value_text(s.get("label")) or sid,
                "citation": value_text(s.get("citation")),
                "doi": doi,
                "meta": [
                    (col, value_text(s.get(col)))
                    for col in ("design", "population", "drug", "route", "dosing", "control", "n_randomized")
                    if not is_missing(s.get(col))
                ],
                "rows": rows,
                "used_in": used_in.get(sid, []),
            }
        )
    return out


def _subset_text(filters: dict) -> str:
    return "; ".join(f"{col} in [{', '.join(value_text(v) for v in vals)}]" for col, vals in sorted(filters.items()))


def build_methods(cfg: Config, ds) -> dict:
    """The methods actually used, from the resolved config (paths of this run left out)."""
    model, handling = cfg.model, cfg.handling
    bins = sorted(cfg.time_bins.items(), key=lambda kv: (kv[1].low_h, kv[0]))
    shown = {k: v for k, v in cfg.as_dict().items() if k not in PATH_KEYS}
    data_files = []
    for name in sorted(ds.tables):
        path = ds.data_dir / TABLES[name].filename
        data_files.append(
            {
                "path": f"{cfg.data_dir.rstrip('/')}/{TABLES[name].filename}",
                "rows": len(ds[name]),
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            }
        )
    return {
        "estimator": ESTIMATORS.get(model.method, model.method),
        "method": model.method,
        "test": model.test,
        "ci_method": CI_METHODS.get(model.test, model.test),
        "level": f"{100 * float(model.level):g}%",
        "add": value_text(model.add),
        "min_k_forest": value_text(model.min_k_forest),
        "forest_effects": ", ".join(model.forest_effects),
        "bins": [
            {
                "name": k,
                "label": b.label,
                "low": value_text(b.low_h),
                "high": value_text(b.high_h),
                "nominal": value_text(b.nominal_h),
            }
            for k, b in bins
        ],
        "window_bin": cfg.window_bin or "",
        "route_groups": sorted(cfg.route_groups.items()),
        "multi_arm": handling.multi_arm,
        "multi_arm_text": MULTI_ARM.get(handling.multi_arm, ""),
        "crossover": handling.crossover,
        "crossover_text": CROSSOVER.get(handling.crossover, ""),
        "ketamine_doses": handling.ketamine_doses
        if isinstance(handling.ketamine_doses, str)
        else ", ".join(f"{value_text(d)} mg/kg" for d in handling.ketamine_doses),
        "handling": [
            (k, ", ".join(value_text(x) for x in v) if isinstance(v, list) else value_text(v))
            for k, v in sorted(cfg.as_dict()["handling"].items())
        ],
        "subsets": [(name, _subset_text(f)) for name, f in cfg.subsets.items()],
        "relapse_windows": [
            (k, value_text(w.low_days), value_text(w.high_days), value_text(w.nominal_days))
            for k, w in cfg.relapse.windows.items()
        ],
        "reference": value_text(cfg.reference.antidepressant_smd_quantity),
        "tolerances": sorted((k, value_text(v)) for k, v in cfg.claims.default_tolerance.items()),
        "arithmetic_rel_tolerance": value_text(cfg.claims.arithmetic_rel_tolerance),
        "data_dir": cfg.data_dir,
        "claims_file": cfg.claims_file,
        "data_files": data_files,
        "config_json": json.dumps(shown, indent=2, sort_keys=True),
    }


def build_pooled(pooled: pd.DataFrame) -> list[dict]:
    rows = []
    for _, p in pooled.iterrows():
        rows.append(
            {
                "id": p["analysis_id"],
                "anchor": f"pooled-{slug(p['analysis_id'])}",
                "k": value_text(p["k"]),
                "estimate": interval_text(p["estimate"], p["ci_low"], p["ci_high"]),
                "pi": f"[{fmt(p['pi_low'])}, {fmt(p['pi_high'])}]" if not is_missing(p["pi_low"]) else "",
                "tau2": fmt(p["tau2"]),
                "i2": fmt(p["i2"]),
                "method": f"{value_text(p['method'])} / {value_text(p['ci_method'])}",
                "studies": [{"id": s, "anchor": f"study-{slug(s)}"} for s in split_ids(p["studies"])],
            }
        )
    return rows
