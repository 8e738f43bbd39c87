"""``report.html``: the results folder as one page a reviewer can open offline and cite.

The page is rendered with Jinja2 from ``templates/report.html.j2``. It starts with the claims table
(filterable by document and verdict, plain JavaScript), and every claim links to the figure and the
analysis behind it; every analysis lists its studies and their effect sizes; every study has a
section with its rows of the contract tables (``source_url`` as a link, ``evidence`` as printed,
``locator``, ``derivation``), so a claim's evidence is two clicks away. Figures are linked relative
to the page (``figures/...``), so the page works straight from disk in the results folder. The
methods section is generated from the resolved config that was used.

Same inputs give a byte-identical page: no timestamps, no absolute paths, everything sorted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
from pathlib import Path

import jinja2
import pandas as pd

from . import analyses, findings, outputs
from .claims import VERDICTS, robustness_text
from .config import load_config
from .documents import document, load_documents
from .io import TABLES, load_dataset
from .steps import model_phrase, study_labels

#: Contract tables whose rows belong to one study and carry source_url / locator / evidence.
STUDY_TABLES = ("studies", "arms", "outcomes_continuous", "outcomes_binary", "contrasts", "relapse")
#: Columns shown as the provenance of a data row rather than among its values.
PROVENANCE_COLUMNS = ("source_url", "locator", "evidence", "derivation")
#: Config keys that name where this run wrote its files: never printed (the page must not depend on them).
PATH_KEYS = ("results_dir", "work_dir")
#: Top-level figures, in reading order (others follow alphabetically, then the forest plots).
FIGURE_ORDER = ("claims_overview", "claims_estimates", "timecourse", "relapse", "prisma")

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


# --------------------------------------------------------------------------------------------- helpers


def slug(text: str) -> str:
    """A stable HTML id fragment: letters, digits, '.', '_' and '-' kept, anything else '-'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-")


def is_missing(x) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def fmt(x, digits: int = 3) -> str:
    """A number as the claims table prints it (3 significant digits, thousands with commas); '' if missing."""
    if is_missing(x):
        return ""
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, str):
        try:
            x = float(x)
        except ValueError:
            return x
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if 0 < abs(x) < 0.001:
        return "<0.001" if x > 0 else ">-0.001"  # e.g. a tau^2 of 0.000718: no long decimals for people
    return f"{x:.{digits}g}"


def value_text(x) -> str:
    """A data cell as entered (numbers without float noise, integers without '.0')."""
    if is_missing(x):
        return ""
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, float):
        return f"{x:.10g}"
    return str(x)


def interval_text(est, lo, hi, kind="ci") -> str:
    if is_missing(est):
        return "NA"
    text = fmt(est)
    if kind in ("ci", "range") and not (is_missing(lo) or is_missing(hi)):
        text += f" [{fmt(lo)}, {fmt(hi)}]"
    return text


def split_ids(text) -> list[str]:
    if is_missing(text):
        return []
    return [s for s in str(text).split(";") if s]


def row_anchor(table: str, row: int) -> str:
    return f"row-{slug(table)}-{int(row)}"


def source_refs(text) -> list[dict]:
    """``outcomes_binary.csv:12;contrasts.csv:4`` -> links to the data rows in the study sections."""
    refs = []
    for ref in split_ids(text):
        table, _, row = ref.rpartition(":")
        name = table[: -len(".csv")] if table.endswith(".csv") else table
        refs.append({"label": ref, "anchor": row_anchor(name, row) if row.isdigit() else None})
    return refs


def _read(path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=True)


def _relative(path: Path, start: Path) -> str:
    """``path`` relative to the page's folder, with forward slashes (works from disk and on a server)."""
    return Path(os.path.relpath(path, start)).as_posix()


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) in pixels from a PNG's header, so the page reserves the space of a lazy image."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def figure_anchor(rel: str) -> str:
    """``figures/forest/forest_x.png`` -> ``fig-forest-forest_x``."""
    p = Path(rel)
    parts = list(p.with_suffix("").parts)
    if parts and parts[0] == "figures":
        parts = parts[1:]
    return "fig-" + "-".join(slug(s) for s in parts)


# --------------------------------------------------------------------------------------------- figures


def collect_figures(
    figures_dir: Path, out_dir: Path, forest_index: pd.DataFrame, pngs: list[Path] | None = None
) -> list[dict]:
    """The figures with their SVG and caption: top-level figures first, then the forest plots.

    Top-level figures are ``pngs`` (the workflow passes the published ones), or every PNG directly in
    ``figures_dir``; forest plots are those of ``forest_index`` (its ``figure`` column is relative to
    the results folder, ``figures_dir``'s parent). Only declared files are read, so the page never
    depends on which other jobs happened to have finished.
    """
    figures_dir = Path(figures_dir)
    rank = {name: i for i, name in enumerate(FIGURE_ORDER)}
    top = [Path(p) for p in pngs] if pngs is not None else list(figures_dir.glob("*.png"))
    top = sorted(top, key=lambda p: (rank.get(p.stem, len(rank)), p.name))
    forest = [figures_dir.parent / f for f in forest_index["figure"]] if not forest_index.empty else []
    figures = []
    for png in [*top, *forest]:
        rel = Path("figures") / png.relative_to(figures_dir)
        caption_file = png.with_name(png.stem + ".caption.txt")
        svg = png.with_suffix(".svg")
        caption = caption_file.read_text(encoding="utf-8").strip() if caption_file.exists() else ""
        title, _, rest = caption.partition(". ")
        size = png_size(png)
        # shown at 1/3 of the 300 dpi raster: the figure's size in print, at 100 CSS px per inch
        width, height = (round(size[0] / 3), round(size[1] / 3)) if size else (None, None)
        figures.append(
            {
                "anchor": figure_anchor(rel.as_posix()),
                "key": rel.as_posix(),
                "cite": rel.with_suffix(".svg").as_posix() if svg.exists() else rel.as_posix(),
                "src": _relative(png, out_dir),
                "svg": _relative(svg, out_dir) if svg.exists() else None,
                "caption_file": _relative(caption_file, out_dir) if caption_file.exists() else None,
                "title": title if rest else png.stem.replace("_", " "),
                "caption": caption,
                "claims": [],
                "width": width,
                "height": height,
                "home": None,  # the analysis block that shows it first (its id lives there)
            }
        )
    return figures


# --------------------------------------------------------------------------------------------- analyses


#: Effects whose estimates are shown exponentiated (ratios) or back-transformed (proportions).
NATURAL = {"log_rr": "ratio", "log_or": "ratio", "log_hr": "ratio", "logit_p": "proportion"}


def _natural(effect: str, x: float) -> float:
    if NATURAL.get(effect) == "ratio":
        return math.exp(x)
    if NATURAL.get(effect) == "proportion":
        return 1 / (1 + math.exp(-x))
    return x


def _effect_rows(es: pd.DataFrame, p: pd.Series, cfg: dict, labels: dict | None = None) -> list[dict]:
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
    z = _z(cfg["model"]["level"])
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


def _z(level: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(0.5 + float(level) / 2))


def fmt2(x) -> str:
    """An estimate for people: 2 decimals (2 significant digits below 0.01), a true minus sign."""
    if is_missing(x):
        return ""
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    text = f"{x:,.0f}" if abs(x) >= 100 else f"{x:.2f}" if abs(x) >= 0.01 or x == 0 else f"{x:.2g}"
    return text.replace("-", "−")


def p_value(p) -> str:
    if is_missing(p):
        return ""
    return "< 0.001" if float(p) < 0.001 else f"{float(p):.3f}" if float(p) < 0.1 else f"{float(p):.2f}"


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
    cfg: dict,
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


# --------------------------------------------------------------------------------------------- claims


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


# --------------------------------------------------------------------------------------------- studies


def build_studies(ds, blocks: list[dict]) -> list[dict]:
    """A section per study of studies.csv: its header and its rows of every contract table."""
    used_in: dict[str, list[dict]] = {}
    for b in blocks:
        for s in b["studies"]:
            used_in.setdefault(s["id"], []).append({"key": b["key"], "anchor": b["anchor"]})
    studies = ds["studies"].sort_values("study_id", kind="stable")
    out = []
    for _, s in studies.iterrows():
        sid = s["study_id"]
        rows = []
        for name in STUDY_TABLES:
            if name not in ds.tables:
                continue
            t = ds[name]
            for _, r in t[t["study_id"] == sid].sort_values("_row", kind="stable").iterrows():
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


# --------------------------------------------------------------------------------------------- methods


def _subset_text(filters: dict) -> str:
    return "; ".join(f"{col} in [{', '.join(value_text(v) for v in vals)}]" for col, vals in sorted(filters.items()))


def build_methods(cfg: dict, ds) -> dict:
    """The methods actually used, from the resolved config (paths of this run left out)."""
    model, handling = cfg["model"], cfg["handling"]
    bins = sorted(cfg["time_bins"].items(), key=lambda kv: (kv[1]["low_h"], kv[0]))
    shown = {k: v for k, v in cfg.items() if k not in PATH_KEYS}
    data_files = []
    for name in sorted(ds.tables):
        path = ds.data_dir / TABLES[name].filename
        data_files.append(
            {
                "path": f"{cfg['data_dir'].rstrip('/')}/{TABLES[name].filename}",
                "rows": len(ds[name]),
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            }
        )
    return {
        "estimator": ESTIMATORS.get(model["method"], model["method"]),
        "method": model["method"],
        "test": model["test"],
        "ci_method": CI_METHODS.get(model["test"], model["test"]),
        "level": f"{100 * float(model['level']):g}%",
        "add": value_text(model["add"]),
        "min_k_forest": value_text(model["min_k_forest"]),
        "bins": [
            {
                "name": k,
                "label": b["label"],
                "low": value_text(b["low_h"]),
                "high": value_text(b["high_h"]),
                "nominal": value_text(b["nominal_h"]),
            }
            for k, b in bins
        ],
        "window_bin": cfg.get("window_bin") or "",
        "route_groups": sorted(cfg["route_groups"].items()),
        "multi_arm": handling["multi_arm"],
        "multi_arm_text": MULTI_ARM.get(handling["multi_arm"], ""),
        "crossover": handling["crossover"],
        "crossover_text": CROSSOVER.get(handling["crossover"], ""),
        "ketamine_doses": handling["ketamine_doses"]
        if isinstance(handling["ketamine_doses"], str)
        else ", ".join(f"{value_text(d)} mg/kg" for d in handling["ketamine_doses"]),
        "handling": [
            (k, ", ".join(value_text(x) for x in v) if isinstance(v, list) else value_text(v))
            for k, v in sorted(handling.items())
        ],
        "subsets": [(name, _subset_text(f)) for name, f in cfg["subsets"].items()],
        "relapse_windows": [
            (k, value_text(w["low_days"]), value_text(w["high_days"]), value_text(w["nominal_days"]))
            for k, w in cfg["relapse"]["windows"].items()
        ],
        "reference": value_text(cfg.get("reference", {}).get("antidepressant_smd_quantity")),
        "tolerances": sorted((k, value_text(v)) for k, v in cfg["claims"]["default_tolerance"].items()),
        "arithmetic_rel_tolerance": value_text(cfg["claims"]["arithmetic_rel_tolerance"]),
        "data_dir": cfg["data_dir"],
        "claims_file": cfg["claims_file"],
        "data_files": data_files,
        "config_json": json.dumps(shown, indent=2, sort_keys=True),
    }


# --------------------------------------------------------------------------------------------- pooled


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


# --------------------------------------------------------------------------------------------- page


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("ketamine_meta", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(context: dict) -> str:
    return environment().get_template("report.html.j2").render(**context)


def context(
    config_path,
    claims_csv,
    pooled_csv,
    metrics_csv,
    effects_csv,
    forest_index_csv,
    figures_dir,
    out_html,
    figures=None,
    spec_curve_index_csv=None,
):
    cfg = load_config(config_path)
    ds = load_dataset(cfg["data_dir"])
    out_dir = Path(out_html).parent
    claims = pd.read_csv(claims_csv, dtype={"claimed": str})
    metrics, pooled, es = _read(metrics_csv), _read(pooled_csv), _read(effects_csv)
    forest_index = _read(forest_index_csv)
    if spec_curve_index_csv:  # specification curves are listed after the forest plots, like them by index
        forest_index = pd.concat([forest_index[["figure"]], _read(spec_curve_index_csv)[["figure"]]], ignore_index=True)
    if isinstance(figures, str):
        figures = [figures]
    figures = collect_figures(Path(figures_dir), out_dir, forest_index, figures)
    fig_by_key = {f["key"]: f for f in figures}
    labels = study_labels(ds["studies"])
    docs = load_documents(cfg.get("documents_file"))
    blocks, metric_anchor = build_analyses(claims, metrics, pooled, es, cfg, fig_by_key, labels)
    claim_rows = build_claims(claims, metric_anchor, fig_by_key, docs, labels)
    for c in claim_rows:  # a central claim's specification curve names the claim too
        curve = fig_by_key.get(f"figures/spec_curve/{c['id']}.png")
        if curve is not None:
            curve["claims"].append({"id": c["id"], "anchor": c["anchor"]})
    missing = sorted({str(f) for f in claims["figure"].dropna() if str(f) not in fig_by_key})
    if missing:
        logging.warning("claims name figures that were not drawn (no link): %s", ", ".join(missing))
    documents = [document(d, docs) for d in sorted(claims["document"].astype(str).unique())]
    present = list(claims["verdict"].astype(str).unique())
    verdicts = [v for v in VERDICTS if v in present] + sorted(v for v in present if v not in VERDICTS)
    counts = claims.groupby(["document", "verdict"]).size()
    summary = [
        {
            "document": d,
            "counts": [int(counts.get((d.file, v), 0)) for v in verdicts],
            "total": int((claims["document"] == d.file).sum()),
        }
        for d in documents
    ]
    sof = findings.summary_of_findings(claims, metrics, docs, cfg["model"]["level"])
    claim_by_id = {c["id"]: c for c in claim_rows}
    for row in sof:
        row["anchor"] = f"claim-{slug(row['claim_id'])}"
        row["analysis"] = claim_by_id[row["claim_id"]]["analysis"]
    return {
        "claims": claim_rows,
        "sof": sof,
        "has_robustness": "robustness" in claims.columns,
        "documents": documents,
        "verdicts": verdicts,
        "verdict_totals": [int((claims["verdict"] == v).sum()) for v in verdicts],
        "summary": summary,
        "analyses": blocks,
        "figures": figures,
        "gallery": [f for f in figures if f["home"] is None],
        "studies": build_studies(ds, blocks),
        "methods": build_methods(cfg, ds),
        "pooled": build_pooled(pooled),
        "model_phrase": model_phrase(cfg),
    }


def build(
    config_path,
    claims_csv,
    pooled_csv,
    metrics_csv,
    effects_csv,
    forest_index_csv,
    figures_dir,
    out_html,
    figures=None,
    spec_curve_index_csv=None,
) -> None:
    """Write ``out_html``: claims, analyses, figures, studies with their data rows, and methods.

    ``figures``: the top-level PNGs to show (default: every PNG directly in ``figures_dir``); the forest
    plots are those of ``forest_index_csv``. Figures are linked relative to ``out_html``'s folder
    (``figures/...``), so publish the page beside the ``figures`` folder.
    """
    ctx = context(
        config_path,
        claims_csv,
        pooled_csv,
        metrics_csv,
        effects_csv,
        forest_index_csv,
        figures_dir,
        out_html,
        figures,
        spec_curve_index_csv,
    )
    outputs.write_text(render(ctx), out_html)
    logging.info(
        "report: %d claims, %d analyses, %d figures, %d studies -> %s",
        len(ctx["claims"]),
        len(ctx["analyses"]),
        len(ctx["figures"]),
        len(ctx["studies"]),
        out_html,
    )
