"""PRISMA 2020-style flow of the literature search (counts table and flow figure).

Counts come from the logged search (``<data_dir>/search/queries.csv`` and ``hits.csv``: every
query run against the stored collection and every record it returned), the screening log
(``screening.csv``: one row per candidate study, decision and reason) and the included studies
(``studies.csv``). The search folder is optional: a user's own extraction without one gets the
screening and inclusion counts only. The counts must add up (screened = included + excluded,
included = studies.csv); :func:`prisma_counts` raises if they do not.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

COLUMNS = ["stage", "n", "detail"]


def _read(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path, dtype=str, keep_default_na=False) if path.exists() else None


def prisma_counts(data_dir: str | Path, tables: dict, effect_sizes: pd.DataFrame) -> pd.DataFrame:
    """The flow's numbers, in order: queries, records, candidate studies, screened, excluded by
    reason group, included by design, and studies contributing to a primary pooled analysis."""
    data_dir = Path(data_dir)
    queries, hits = _read(data_dir / "search" / "queries.csv"), _read(data_dir / "search" / "hits.csv")
    studies, screening = tables["studies"], tables.get("screening")
    rows = []
    if queries is not None and hits is not None:
        rows.append({"stage": "queries run", "n": len(queries), "detail": "data/extracted/search/queries.csv"})
        rows.append({"stage": "records returned (unique pages)", "n": hits["url"].nunique(),
                     "detail": f"{len(hits)} hits in all"})  # fmt: skip
    if screening is not None:
        inc = screening[screening["decision"] == "included"]
        exc = screening[screening["decision"] == "excluded"]
        rows.append({"stage": "candidate studies screened", "n": len(screening), "detail": "screening.csv"})
        rows.append({"stage": "excluded", "n": len(exc), "detail": "reasons in screening.csv"})
        cats = _read(data_dir / "search" / "exclusion_categories.csv")
        for group, n in _reason_groups(exc, cats).items():
            rows.append({"stage": f"excluded: {group}", "n": n, "detail": ""})
        rows.append({"stage": "included", "n": len(inc), "detail": "studies.csv"})
        if len(inc) + len(exc) != len(screening) or set(inc["study_id"]) != set(studies["study_id"]):
            raise ValueError("PRISMA counts do not add up: screening.csv 'included' must be exactly studies.csv")
    design = studies.assign(kind=[
        "randomized controlled trials" if r and d != "single_arm" else "single-arm or open-label series"
        for r, d in zip(studies["randomized"], studies["design"])
    ])  # fmt: skip
    for kind, n in design["kind"].value_counts().sort_index().items():
        rows.append({"stage": f"included: {kind}", "n": int(n), "detail": ""})
    relapse = tables.get("relapse")
    if relapse is not None:
        rows.append({"stage": "included: with relapse/durability data", "n": relapse["study_id"].nunique(),
                     "detail": "relapse.csv"})  # fmt: skip
    prim = effect_sizes[effect_sizes["primary"].astype(str).str.lower() == "true"]
    rows.append({"stage": "in at least one primary pooled analysis", "n": prim["study_id"].nunique(),
                 "detail": "tables/effect_sizes.csv, primary"})  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


#: Reason groups for the flow figure (first match wins); the full reasons stay in screening.csv.
REASON_GROUPS = (
    ("not stored / not readable", ("not stored", "no page", "not found", "no readable", "not read")),
    ("review or meta-analysis", ("review", "meta-analysis", "pooled analysis")),
    ("duplicate or overlapping report", ("duplicate", "overlap", "same sample", "secondary report")),
    ("not randomized / uncontrolled", ("not randomized", "open-label", "uncontrolled", "single-arm", "case")),
    ("outside scope (population, drug, design)", ("anaesthesia", "anesthesia", "ect", "pain", "not depression",
                                                   "scope", "perioperative", "healthy", "protocol")),
)  # fmt: skip


def _reason_groups(excluded: pd.DataFrame, categories: pd.DataFrame | None) -> dict[str, int]:
    """Exclusions per reason group: the category the screener assigned
    (``search/exclusion_categories.csv``) where there is one, else the first keyword group of
    :data:`REASON_GROUPS` that the reason matches."""
    assigned = {} if categories is None else dict(zip(categories["study_id"], categories["category_label"]))
    out: dict[str, int] = {}
    for sid, text in zip(excluded["study_id"], excluded["reason"].astype(str).str.lower()):
        group = assigned.get(sid) or next((g for g, words in REASON_GROUPS if any(w in text for w in words)),
                                          "other reasons")  # fmt: skip
        out[group] = out.get(group, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))
