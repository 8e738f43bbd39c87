"""What the end of a run prints (the Snakefile's ``onsuccess``).

It runs inside the Snakemake process after every job, on a no-op run too, so it reads
``claims.csv`` with the standard library: importing pandas there would add ~0.5 s to each run."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from ketamine_meta.claims.registry import VERDICTS


def _counts(verdicts: list[str]) -> str:
    n = Counter(verdicts)
    order = [v for v in VERDICTS if v in n] + sorted(v for v in n if v not in VERDICTS)
    return ", ".join(f"{n[v]} {v}" for v in order)


def run_summary(results_dir) -> str:
    """Where the report is and how many claims (and headline claims) got each verdict."""
    results_dir = Path(results_dir)
    lines = [f"ketamine-meta: results in {results_dir}/", f"  report: {results_dir / 'report.html'}"]
    claims_csv = results_dir / "claims.csv"
    if claims_csv.is_file():
        with claims_csv.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        lines.append(f"  claims: {len(rows)} ({_counts([r['verdict'] for r in rows])})")
        central = [r["verdict"] for r in rows if str(r.get("central", "")).strip().lower() == "true"]
        if central:
            lines.append(f"  headline claims: {len(central)} ({_counts(central)})")
        lines.append(f"  summary of findings: {results_dir / 'claims.md'}")
    return "\n".join(lines)
