"""Load and validate the contract tables in ``data/extracted/``.

Each table is described once, in :data:`TABLES`, as a list of :class:`Column` rules; the loader
checks every cell against them and collects *all* problems of a data set before raising one
:class:`~ketamine_meta.core.errors.InputError`. Cross-table rules (an arm that names an unknown study,
an outcome row that names an unknown arm, a contrast whose arms have the wrong roles) are checked
in :func:`load_dataset` on the rows that parsed, whatever else failed (:mod:`.checks`).

Every column a file may have is declared here: a header cell that names no declared column is an
error with a "did you mean" (:mod:`.suggest`), never ignored. Free-form columns are those of kind
``str`` (any text is accepted: labels, citations, definitions, provenance text); ``notes``
(:data:`NOTES`) is the free-text column every table may carry for anything else, and the pipeline
never reads it. A new column is added to its table here (``required=False`` when old extractions
lack it) and to the table in config/README.md, Input tables.

The bytes of a file are read by :mod:`.csvfile` (UTF-8 with or without a byte-order mark; other
delimiters, decimal commas and encodings are refused with the Excel/LibreOffice setting to change).

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ketamine_meta.core.errors import InputError, Problem
from ketamine_meta.data.checks import (
    ROW_COLUMN,
    ReadTable,
    cross_problems,
    header_problems,
    key_problems,
    number_hint,
    token_hint,
    unnamed_column_problems,
    value_hint,
)
from ketamine_meta.data.contract import _DERIVATION_RE, DERIVATION_CODES, MAX_INT, NUMBER_RE, TABLES, Column, TableSpec
from ketamine_meta.data.csvfile import read_raw

_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def _parse_cell(col: Column, raw: str):
    """Return (value, problem_text, hint). ``value`` is None for an empty nullable cell."""
    text = raw.strip()
    if text == "":
        if col.nullable:
            return None, None, None
        return None, "is empty but required", col.hint or "fill it in"
    if col.kind == "str":
        return text, None, None
    if col.kind == "regex":
        if not col.pattern.match(text):
            # every problem says how to fix it (README); most token columns had no hint of their own
            hint = col.hint or "lowercase letters, digits and _ . + - only, starting with a letter or digit"
            return None, f"value '{text}' does not match {col.pattern.pattern}", token_hint(text, col.pattern) + hint
        return text, None, None
    if col.kind == "enum":
        if text not in col.choices:
            allowed = ", ".join(col.choices)
            return None, f"unknown value '{text}'", f"{value_hint(text, col.choices)}use one of: {allowed}"
        return text, None, None
    if col.kind == "bool":
        low = text.lower()
        if low in _TRUE:
            return True, None, None
        if low in _FALSE:
            return False, None, None
        return None, f"'{text}' is not true/false", "write true or false"
    if col.kind == "derivation":
        # leading code(s) joined by '+', then free text after ':', ';', '(' or a space
        m = _DERIVATION_RE.match(text)
        codes = [c.strip() for c in m.group(1).split("+")] if m else [text.split()[0]]
        bad = [c for c in codes if c not in DERIVATION_CODES]
        if bad:
            allowed = ", ".join(sorted(DERIVATION_CODES))
            near = "".join(value_hint(c, sorted(DERIVATION_CODES)) for c in bad)
            return None, f"unknown derivation code(s) {bad}", f"{near}start with one of: {allowed}"
        return text, None, None
    if col.kind in ("int", "float"):
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or (math.isfinite(value) and not NUMBER_RE.match(text)):
            known = number_hint(col.name, text, col.nullable)
            if known:
                return None, *known
            return None, f"'{text}' is not a number", "write a plain number such as 12 or 0.5, one number per cell"
        if not math.isfinite(value):
            return None, f"'{text}' is not a finite number", "NaN and inf are not allowed; leave empty"
        if col.kind == "int":
            if value != int(value):
                return None, f"'{text}' is not a whole number", "counts must be integers"
            if abs(value) > MAX_INT:
                return None, f"'{text}' is too large for a count", "check the number"
            value = int(value)
        if col.min is not None and (value < col.min or (col.min_exclusive and value == col.min)):
            op = ">" if col.min_exclusive else ">="
            return None, f"value {text} must be {op} {col.min:g}", col.hint or "check the sign"
        if col.max is not None and value > col.max:
            return None, f"value {text} must be <= {col.max:g}", col.hint or "check the number"
        return value, None, None
    raise ValueError(f"unknown column kind {col.kind}")  # programming error, not user input


def _read(path: Path, spec: TableSpec, display: str) -> tuple[ReadTable, list[Problem], list[str]]:
    """Every row of one table with the cells that parsed, and every problem found in it."""
    table = ReadTable(display)
    if not path.exists():
        return table, [Problem(display, None, None, "file is missing", f"create {spec.filename}")], []
    try:
        data = path.read_bytes()
    except OSError as exc:  # a folder named like the table, no permission, ...: a problem, not a crash
        return table, [Problem(display, None, None, f"cannot be read ({exc.strerror})", "make it a readable file")], []
    raw = read_raw(data, display)
    problems = list(raw.problems)
    if not raw.readable:
        return table, problems, []
    header = raw.header
    head_problems, missing = header_problems(header, spec.columns, display)
    problems += head_problems + unnamed_column_problems(header, raw.rows, display)
    table.readable = True
    cols = {c.name: c for c in spec.columns}
    for i, cells in raw.rows:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are harmless; rows keep their spreadsheet numbers
        if len(cells) != len(header):
            problems.append(
                Problem(
                    display,
                    i,
                    None,
                    f"row has {len(cells)} fields but the header has {len(header)}",
                    "a cell holds an unquoted comma (a decimal comma such as 18,5, or text): write decimals with a "
                    "point and put text with commas in double quotes (spreadsheets do this when they save as CSV)",
                )
            )
            continue
        rec: dict = {ROW_COLUMN: i}
        failed = set(missing)
        for name, cell in zip(header, cells):
            col = cols.get(name)
            if col is None:
                continue  # an unknown or unnamed column: reported with the header
            value, err, hint = _parse_cell(col, cell)
            if err:
                problems.append(Problem(display, i, name, err, hint or ""))
                failed.add(name)
            rec[name] = value
        for check in spec.row_checks:
            if failed & getattr(check, "reads", frozenset()):
                continue  # the cell it needs is already reported
            for column, err, hint in check(rec):
                problems.append(Problem(display, i, column, err, hint))
        table.records.append(rec)
        if failed:
            table.failed[i] = failed
    if len(table.records) < spec.min_rows and not problems:
        problems.append(Problem(display, None, None, "table has no data rows", "add at least one row"))
    problems += key_problems(table.records, spec.key, table.failed, display)
    return table, problems, [h for h in header if h in cols]


def _frame(table: ReadTable, spec: TableSpec, header: list[str]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(table.records, columns=[ROW_COLUMN, *header])
    for c in spec.columns:
        if c.name in df and c.kind == "int":
            df[c.name] = df[c.name].astype("Int64")
        elif c.name in df and c.kind == "float":
            df[c.name] = pd.to_numeric(df[c.name]).astype(float)
    for c in spec.columns:  # optional columns absent from the file become empty columns
        if c.name not in df:
            df[c.name] = pd.Series([None] * len(df), dtype=float if c.kind == "float" else object)
    return df


def read_table(path: str | Path, spec: TableSpec, display: str | None = None) -> pd.DataFrame:
    """Read one contract table and validate every cell, raising all problems at once.

    Returns a DataFrame with typed columns (numbers as floats or nullable integers, empty cells
    as missing) and an extra column ``_row`` holding the spreadsheet row of each record.
    """
    path = Path(path)
    table, problems, header = _read(path, spec, display or str(path))
    if problems:
        raise InputError(problems)
    return _frame(table, spec, header)


@dataclass(frozen=True)
class Dataset:
    """The validated contract tables of one extraction."""

    data_dir: Path
    tables: dict[str, pd.DataFrame]

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def load_dataset(data_dir: str | Path) -> Dataset:
    """Load and validate all contract tables of ``data_dir``.

    Every table is read and checked, and the references between tables are checked on the rows
    that parsed, whatever else failed; all problems are raised together in one
    :class:`~ketamine_meta.core.errors.InputError` (sorted by file and row).
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError([Problem(str(data_dir), None, None, "data directory does not exist", "")])
    problems: list[Problem] = []
    read: dict[str, tuple[ReadTable, list[str]]] = {}
    for name, spec in TABLES.items():
        path = data_dir / spec.filename
        if not path.exists() and not spec.required_file:
            continue
        table, found, header = _read(path, spec, str(path))
        problems += found
        read[name] = (table, header)
    problems += cross_problems({name: table for name, (table, _) in read.items()})
    if problems:
        raise InputError(problems)
    tables = {name: _frame(table, TABLES[name], header) for name, (table, header) in read.items()}
    return Dataset(data_dir, tables)
