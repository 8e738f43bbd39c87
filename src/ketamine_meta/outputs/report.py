"""``report.html``: the results folder as one page a reviewer can open offline and cite.

The page is rendered with Jinja2 from ``templates/report.html.j2``. It starts with the claims table
(filterable by document and verdict, plain JavaScript), and every claim links to the figure and the
analysis behind it; every analysis lists its studies and their effect sizes; every study has a
section with its rows of the contract tables (``source_url`` as a link, ``evidence`` as printed,
``locator``, ``derivation``), so a claim's evidence is two clicks away. Figures are linked relative
to the page (``figures/...``), so the page works straight from disk in the results folder. The
methods section is generated from the resolved config that was used.

Same inputs give a byte-identical page: no timestamps, no absolute paths, everything sorted."""

from __future__ import annotations

import inspect
import logging
import os
from pathlib import Path

import jinja2
import pandas as pd

from ketamine_meta.claims.registry import VERDICTS
from ketamine_meta.core.config import load_config
from ketamine_meta.data.documents import document, load_documents
from ketamine_meta.data.load import load_dataset
from ketamine_meta.outputs import findings
from ketamine_meta.outputs import writers as outputs
from ketamine_meta.outputs.captions import model_phrase, study_labels
from ketamine_meta.outputs.report_blocks import (
    build_analyses,
    build_claims,
    build_methods,
    build_pooled,
    build_studies,
)
from ketamine_meta.outputs.text import slug

#: Top-level figures, in reading order (others follow alphabetically, then the forest plots).
FIGURE_ORDER = ("claims_overview", "claims_estimates", "timecourse", "relapse", "prisma")


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


def collect_figures(
    figures_dir: Path, out_dir: Path, indexed: pd.DataFrame, pngs: list[Path] | None = None
) -> list[dict]:
    """The figures with their SVG and caption: top-level figures first, then the indexed ones
    (forest plots, specification curves).

    Top-level figures are ``pngs`` (the workflow passes the published ones), or every PNG directly in
    ``figures_dir``; the others are the rows of ``indexed`` (``figure``: the PNG relative to the
    results folder, ``figures_dir``'s parent). Only declared files are read, so the page never
    depends on which other jobs happened to have finished. A row with a PNG size (``png_width``,
    ``png_height``: the forest plan's) and a ``caption`` is a figure that may still be being drawn:
    nothing of it is read, and its SVG and caption file are the ones :func:`writers.save_figure`
    writes beside every PNG.
    """
    figures_dir = Path(figures_dir)
    rank = {name: i for i, name in enumerate(FIGURE_ORDER)}
    top = [Path(p) for p in pngs] if pngs is not None else list(figures_dir.glob("*.png"))
    top = sorted(top, key=lambda p: (rank.get(p.stem, len(rank)), p.name))
    planned = {}
    if {"png_width", "png_height", "caption"} <= set(indexed.columns):
        for r in indexed.dropna(subset=["png_width", "png_height"]).itertuples(index=False):
            planned[r.figure] = (str(r.caption).strip(), (int(r.png_width), int(r.png_height)))
    rest = [figures_dir.parent / f for f in indexed["figure"]] if not indexed.empty else []
    figures = []
    for png in [*top, *rest]:
        rel = Path("figures") / png.relative_to(figures_dir)
        caption_file = png.with_name(png.stem + ".caption.txt")
        svg = png.with_suffix(".svg")
        plan = planned.get(rel.as_posix())
        if plan is not None:
            caption, size = plan
            has_svg = has_caption = True
        else:
            caption = caption_file.read_text(encoding="utf-8").strip() if caption_file.exists() else ""
            size, has_svg, has_caption = png_size(png), svg.exists(), caption_file.exists()
        title, _, rest_of_caption = caption.partition(". ")
        # shown at 1/3 of the 300 dpi raster: the figure's size in print, at 100 CSS px per inch
        width, height = (round(size[0] / 3), round(size[1] / 3)) if size else (None, None)
        figures.append(
            {
                "anchor": figure_anchor(rel.as_posix()),
                "key": rel.as_posix(),
                "cite": rel.with_suffix(".svg").as_posix() if has_svg else rel.as_posix(),
                "src": _relative(png, out_dir),
                "svg": _relative(svg, out_dir) if has_svg else None,
                "caption_file": _relative(caption_file, out_dir) if has_caption else None,
                "title": title if rest_of_caption else png.stem.replace("_", " "),
                "caption": caption,
                "claims": [],
                "width": width,
                "height": height,
                "home": None,  # the analysis block that shows it first (its id lives there)
            }
        )
    return figures


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("ketamine_meta.outputs", "templates"),
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
    ds = load_dataset(cfg.data_dir)
    out_dir = Path(out_html).parent
    claims = pd.read_csv(claims_csv, dtype={"claimed": str})
    metrics, pooled, es = _read(metrics_csv), _read(pooled_csv), _read(effects_csv)
    indexed = _read(forest_index_csv)
    if spec_curve_index_csv:  # specification curves are listed after the forest plots, like them by index
        indexed = pd.concat([indexed, _read(spec_curve_index_csv)[["figure"]]], ignore_index=True)
    if isinstance(figures, str):
        figures = [figures]
    figures = collect_figures(Path(figures_dir), out_dir, indexed, figures)
    fig_by_key = {f["key"]: f for f in figures}
    labels = study_labels(ds["studies"])
    docs = load_documents(cfg.documents_file)
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
    sof = findings.summary_of_findings(claims, metrics, docs, cfg.model.level)
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


def build(*args, **kwargs) -> None:
    """Write ``out_html`` (arguments as :func:`context`): claims, analyses, figures, studies with their
    data rows, and methods.

    ``figures``: the top-level PNGs to show (default: every PNG directly in ``figures_dir``); the forest
    plots are those of ``forest_index_csv``. Figures are linked relative to ``out_html``'s folder
    (``figures/...``), so publish the page beside the ``figures`` folder.
    """
    out_html = inspect.signature(context).bind(*args, **kwargs).arguments["out_html"]
    ctx = context(*args, **kwargs)
    outputs.write_text(render(ctx), out_html)
    logging.info(
        "report: %d claims, %d analyses, %d figures, %d studies -> %s",
        len(ctx["claims"]),
        len(ctx["analyses"]),
        len(ctx["figures"]),
        len(ctx["studies"]),
        out_html,
    )
