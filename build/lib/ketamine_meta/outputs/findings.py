"""Summary of findings: the headline (``central``) claims in the table an author would paste.

One row per central claim of ``claims.csv``: the document (by title, with its URL), its words, the
regenerated number with its interval, k and participants, the verdict with its certainty, and one
plain sentence. :func:`findings_markdown` writes it for ``claims.md``; the report renders the same
rows (:func:`summary_of_findings`), so the two never disagree.
"""

from __future__ import annotations

import math

import pandas as pd

from ketamine_meta.claims.keys import unit_of
from ketamine_meta.data.documents import Document, document

VERDICT_WORDS = {
    "reproduced": "Supported",
    "contradicted": "Contradicted",
    "inconclusive": "Neither confirmed nor ruled out",
    "not_testable": "Not testable with the extracted trials",
}


def _missing(x) -> bool:
    try:
        return x is None or bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def human(x, unit: str = "") -> str:
    """A number for people: proportions as whole percentages, counts with separators, else 2 decimals
    (2 significant digits below 0.01); '' when missing."""
    if _missing(x):
        return ""
    x = float(x)
    if not math.isfinite(x):
        return "∞" if x > 0 else "−∞"
    if unit in ("proportion", "fraction"):
        return f"{100 * x:.0f}%"
    if unit in ("patients", "days", "hours") or abs(x) >= 100:
        return f"{x:,.0f}"
    text = f"{x:.2f}" if abs(x) >= 0.01 or x == 0 else f"{x:.2g}"
    return text.replace("-", "−")


def claimed_text(low: float, high: float, rule: str, unit: str = "") -> str:
    """The claimed value (``claimed_low``/``claimed_high`` of claims.csv) as the document meant it:
    a range, a bound, or equality."""

    def short(x: float) -> str:  # a claimed number as the document wrote it: 2, not 2.00
        return human(x, unit) if unit in ("proportion", "fraction") else f"{x:g}".replace("-", "−")

    if low != high:
        return f"{short(low)} to {short(high)}"
    v = short(float(low))
    return {"at_least": f"at least {v}", "at_most": f"at most {v}", "equivalence": "about equal"}.get(rule, v)


def regenerated_text(r, unit: str = "", level: float = 0.95) -> str:
    if _missing(r.get("regenerated")):
        return "no data"
    text = human(r["regenerated"], unit)
    if r.get("interval") in ("ci", "range") and not _missing(r.get("ci_low")):
        kind = "range" if r["interval"] == "range" else f"{level:.0%} CI"
        text += f" ({kind} {human(r['ci_low'], unit)} to {human(r['ci_high'], unit)})"
    return text


def plain_sentence(r, unit: str = "", level: float = 0.95) -> str:
    """One sentence a reader without statistics can check against the numbers in the same row."""
    verdict = str(r["verdict"])
    head = VERDICT_WORDS.get(verdict, verdict)
    claimed = claimed_text(r["claimed_low"], r["claimed_high"], str(r["rule"]), unit)
    if verdict == "not_testable":
        return f"{head}: none of them reports the number this claim needs ({r['metric']})."
    value = regenerated_text(r, unit, level)
    k = int(r["k"]) if not _missing(r.get("k")) else None
    n = r.get("n_participants")
    source = "" if k is None else f" from {k} {'study' if k == 1 else 'studies'}"
    if source and not _missing(n):
        source += f" ({int(n):,} participants)"
    if verdict == "reproduced":
        why = f"the whole interval agrees with the claimed {claimed}"
    elif verdict == "contradicted":
        why = f"the interval excludes the claimed {claimed}"
    elif str(r.get("basis")) == "one study":
        why = f"a single study cannot establish it (claimed: {claimed})"
    else:
        why = f"the interval reaches both values that fit and values that do not fit the claimed {claimed}"
    return f"{head}: the trials give {value}{source}; {why}."


def summary_of_findings(
    claims: pd.DataFrame, metrics: pd.DataFrame | None, documents: dict[str, Document], level: float = 0.95
) -> list[dict]:
    """The rows of the summary-of-findings table, central claims in registry order."""
    central = claims[claims["central"].astype(str).str.lower() == "true"]
    info = metrics.set_index("metric") if metrics is not None and not metrics.empty else pd.DataFrame()
    rows = []
    for _, r in central.iterrows():
        m = info.loc[r["metric"]] if r["metric"] in info.index else None
        unit = str(m["unit"]) if m is not None and not _missing(m.get("unit")) else _unit_of(str(r["metric"]))
        doc = document(r["document"], documents)
        n = r.get("n_participants")
        rows.append(
            {
                "claim_id": r["claim_id"],
                "document": doc,
                "quote": str(r["quote"]).strip(),
                "claimed": claimed_text(r["claimed_low"], r["claimed_high"], str(r["rule"]), unit),
                "regenerated": regenerated_text(r, unit, level),
                "k": "" if _missing(r.get("k")) else str(int(r["k"])),
                "participants": "" if _missing(n) else f"{int(n):,}",
                "verdict": str(r["verdict"]),
                "certainty": "" if _missing(r.get("certainty")) else str(r["certainty"]),
                "sentence": plain_sentence(r, unit, level),
            }
        )
    return rows


def _unit_of(metric: str) -> str:
    """The unit of a metric that has no row in metrics.csv (a claim without data): its family's."""
    return "proportion" if unit_of(metric) == "proportion" else ""


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def findings_markdown(rows: list[dict]) -> str:
    """The summary of findings as a Markdown table (the top of ``claims.md``)."""
    lines = [
        "## Summary of findings (headline claims)",
        "",
        "| document | claim (the document's words) | claimed | regenerated | k (participants) | verdict (certainty) "
        "| in plain words |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        d = r["document"]
        name = f"[{_cell(d.title)}]({d.url})" if d.url else _cell(d.title)
        if d.has_title:
            name += f" (`{d.file}`)"
        k = f"{r['k']} ({r['participants']})" if r["participants"] else r["k"] or "-"
        verdict = f"**{r['verdict']}**" + (f" ({r['certainty']})" if r["certainty"] else "")
        lines.append(
            f"| {name} | “{_cell(r['quote'])}” <br>`{r['claim_id']}` | {_cell(r['claimed'])} | "
            f"{_cell(r['regenerated'])} | {k} | {verdict} | {_cell(r['sentence'])} |"
        )
    if not rows:
        lines.append("| - | no claim is marked central in the registry | | | | | |")
    return "\n".join(lines) + "\n"
