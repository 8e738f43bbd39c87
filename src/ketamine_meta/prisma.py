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


def _short(label: str, width: int = 44) -> str:
    """A reason group's label for the figure: up to its first colon or parenthesis, at most ``width``."""
    head = label.split(":")[0].split(" (")[0].strip()
    return head if len(head) <= width else head[: width - 1].rstrip() + "…"


def prisma_figure(counts: pd.DataFrame):
    """Boxes and arrows: identification -> screening -> included, exclusions to the side."""
    import matplotlib.pyplot as plt

    from .plots import PAGE_WIDTH, style

    style()
    n = dict(zip(counts["stage"], counts["n"]))
    excl = [(s.removeprefix("excluded: "), v) for s, v in n.items() if s.startswith("excluded: ")]
    incl = [(s.removeprefix("included: "), v) for s, v in n.items() if s.startswith("included: ")]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 4.2))
    ax.set_axis_off()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)

    def box(x, y, text, w=4.2, h=1.2):
        # explicit colours: the seaborn house style draws patch edges white
        ax.add_patch(plt.Rectangle((x - w / 2, y - h / 2), w, h, fill=False, lw=0.8, ec="#333333"))
        ax.text(x, y, text, ha="center", va="center", fontsize=6.5, wrap=True)

    def arrow(x0, y0, x1, y1):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops={"arrowstyle": "->", "lw": 0.7, "color": "#333333"})

    if "queries run" in n:
        box(2.6, 9.0, f"Identification: {n['queries run']} logged queries\n"
                      f"{n['records returned (unique pages)']} unique pages returned")  # fmt: skip
        arrow(2.6, 8.4, 2.6, 7.2)
    box(2.6, 6.6, f"Candidate studies screened\nn = {n.get('candidate studies screened', len(incl))}")
    arrow(2.6, 6.0, 2.6, 4.2)
    # group labels cut at their first colon: the full wording is in search/exclusion_categories.csv
    lines = "\n".join(f"{_short(g)}: {v}" for g, v in excl)
    box(7.6, 6.2, f"Excluded, n = {n.get('excluded', 0)}\n{lines}", w=4.6, h=0.45 * (len(excl) + 1) + 0.3)
    arrow(4.7, 6.6, 5.4, 6.6)
    box(2.6, 3.4, f"Included, n = {n.get('included', '')}\n" + "\n".join(f"{g}: {v}" for g, v in incl), h=1.6)
    arrow(2.6, 2.6, 2.6, 1.6)
    box(2.6, 1.0, f"In a primary pooled analysis\nn = {n['in at least one primary pooled analysis']}")
    return fig
