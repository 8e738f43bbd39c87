"""Numbers and references as the report prints them: rounding, intervals, p values, anchors."""

from __future__ import annotations

import math
import re

import pandas as pd


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


def z_value(level: float) -> float:
    from scipy import special

    return float(special.ndtri(0.5 + float(level) / 2))


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
