"""``claims.md``: the verdict table per document in Markdown (numbers become text here)."""

from __future__ import annotations

import pandas as pd

from ketamine_meta.claims.registry import VERDICTS
from ketamine_meta.claims.verdicts import fmt, robustness_text
from ketamine_meta.core.settings import Config


def claims_markdown(table: pd.DataFrame, cfg: Config, documents: dict | None = None, preface: str = "") -> str:
    """A reviewer's Markdown summary: counts by verdict, then one section per document.

    ``documents``: file -> :class:`ketamine_meta.data.documents.Document` (sections headed by title and
    URL); ``preface``: Markdown put after the introduction (the summary of findings)."""
    from ketamine_meta.data.documents import document

    model = cfg.model
    lines = [
        "# Claims checked against the regenerated numbers",
        "",
        f"Model: random effects, τ² by {model.method}, {model.test} intervals, level {model.level}. "
        "Verdicts are interval-aware (`config/README.md`, Verdict rules): reproduced only when the whole interval "
        "supports the claim, contradicted when it excludes it, inconclusive when it straddles it or one study "
        "carries a general claim. Certainty: GRADE-style (risk of bias, inconsistency, imprecision, "
        "indirectness). Cited source: does the document report its source's own number faithfully. "
        "Robustness: share of distinct multiverse analyses that reproduce the claim (`tables/multiverse.csv`).",
        "",
        "| verdict | claims |",
        "|---|---|",
    ]
    counts = table["verdict"].value_counts()
    lines += [f"| {v} | {int(counts.get(v, 0))} |" for v in VERDICTS]
    if preface:
        lines += ["", preface.rstrip("\n")]
    for doc, cell in table.groupby("document", sort=True):
        d = document(doc, documents or {})
        head = f"## {d.title}" + (f" (`{d.file}`)" if d.has_title else "")
        lines += [
            "",
            head,
            *(["", f"<{d.url}>"] if d.url else []),
            "",
            "| claim | quote | claimed | regenerated | verdict | certainty | cited source | robustness | reason |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for _, r in cell.iterrows():
            regen = fmt(r["regenerated"])
            if r["interval"] in ("ci", "range"):
                regen += f" [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]"
            quote = str(r["quote"]).replace("|", "\\|").replace("\n", " ")
            reason = str(r["reason"]).replace("|", "\\|")
            robust = robustness_text(r)
            verdict = f"**{r['verdict']}**" + (" (one study)" if r.get("basis") == "one study" else "")
            source = str(r.get("source_verdict") or "-")
            lines.append(f"| `{r['claim_id']}` | {quote} | {r['claimed']} | {regen} | {verdict} | {r['certainty']} | "
                         f"{source} | {robust} | {reason} |")  # fmt: skip
    return "\n".join(lines) + "\n"
