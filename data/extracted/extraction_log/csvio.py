"""CSV helpers shared by the merge scripts of this folder (Python's csv module only).

``read``/``write`` keep a table's header and row order as they are; ``split_urls`` splits a search
log's ``result_urls`` cell into records.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path


def read(path: Path) -> tuple[list[str], list[dict]]:
    """Header and rows (blank rows dropped)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    return header, [dict(zip(header, r)) for r in rows[1:] if any(c.strip() for c in r)]


def write(path: Path, header: list[str], rows: list[dict]) -> None:
    """The rows under ``header``; a key outside the header must be empty (nothing is dropped silently)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        extra = set(r) - set(header)
        assert not extra or all(r[k] == "" for k in extra), (path.name, extra, r)
        w.writerow([r.get(h, "") for h in header])
    path.write_text(buf.getvalue(), encoding="utf-8")


def split_urls(s: str) -> list[str]:
    """';'-separated URLs; a piece that does not start with http belongs to the previous URL (some
    stored URLs contain ';' themselves), except GitHub file ids ('github:id...') that a find_string
    call logs, each a record of its own (session 3; session 2's logs have none)."""
    out: list[str] = []
    for p in s.split(";"):
        p = p.strip()
        if not p:
            continue
        if p.startswith(("http", "github:")) or not out:
            out.append(p)
        else:
            out[-1] += ";" + p
    return out
