"""Read the bytes of one CSV file as spreadsheets write them, and say what to change when they are not.

What is read: UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8 (Comma delimited)"
writes one), Windows or Unix line ends, blank lines. What is refused, with the exact menu to use
in Excel or LibreOffice Calc: another delimiter than ``,`` (Excel writes ``;`` where the decimal
symbol is ``,``), decimal commas, UTF-16 (Excel's "Unicode Text"), Windows-1252 and other
non-UTF-8 text (Excel's plain "CSV (Comma delimited)").

A problem here is one :class:`~ketamine_meta.core.errors.Problem` per file (or per bad line); the cells
are checked by :mod:`ketamine_meta.data.load`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from ketamine_meta.core.errors import Problem

#: How to make Excel and LibreOffice write ',' between cells and '.' in numbers.
SEPARATOR_FIX = (
    "save it again with ',' between cells and '.' in numbers. "
    "Excel writes ';' when the computer's decimal symbol is ',': on Windows open Control Panel > "
    "Region > Additional settings and set 'Decimal symbol' to '.' and 'List separator' to ',' "
    "(macOS: System Settings > General > Language & Region > Number format '1,234,567.89'), then "
    "File > Save As > 'CSV UTF-8 (Comma delimited) (*.csv)'. LibreOffice Calc: Tools > Options > "
    "Language Settings > Languages > Locale setting 'English (USA)', then File > Save As > "
    "'Text CSV (.csv)', tick 'Edit filter settings', Field delimiter ',', Character set 'Unicode (UTF-8)'"
)
#: How to make Excel and LibreOffice write UTF-8.
ENCODING_FIX = (
    "save it as UTF-8: Excel: File > Save As > 'CSV UTF-8 (Comma delimited) (*.csv)' (not "
    "'CSV (Comma delimited)' or 'Unicode Text'); LibreOffice Calc: File > Save As > 'Text CSV (.csv)', "
    "tick 'Edit filter settings', Character set 'Unicode (UTF-8)', Field delimiter ','"
)
#: A number with a decimal comma, as a European-locale spreadsheet writes it ("18,5", "-0,25").
DECIMAL_COMMA_RE = re.compile(r"^[+-]?[0-9]+,[0-9]+$")
_DELIMITERS = {";": "';' (semicolons)", "\t": "tabs", "|": "'|'"}
_MAX_LINES_NAMED = 5


@dataclass
class RawTable:
    """A file as text rows: ``rows`` pairs each record with its spreadsheet row (header = 1)."""

    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        """True when the header was read, so that its columns and cells can be checked."""
        return bool(self.header)


def _decode(data: bytes, display: str) -> tuple[str | None, list[Problem]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [Problem(display, None, None, "file is UTF-16 (Excel's 'Unicode Text')", ENCODING_FIX)]
    if data.startswith(b"\xef\xbb\xbf"):  # the byte-order mark Excel's "CSV UTF-8" writes: harmless
        data = data[3:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    bad = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad.append((number, line[max(0, exc.start - 15) : exc.end + 15].decode("utf-8", "replace")))
    lines = ", ".join(str(n) for n, _ in bad[:_MAX_LINES_NAMED]) + (" ..." if len(bad) > _MAX_LINES_NAMED else "")
    rule = f"not valid UTF-8 (on line(s) {lines}, e.g. '{bad[0][1].strip()}'; Excel's plain CSV writes Windows-1252)"
    # the rest of the file is still checked: a replaced character only ever lands in a text cell
    return data.decode("utf-8", "replace"), [Problem(display, bad[0][0], None, rule, ENCODING_FIX)]


def _separator_problem(first_line: str, text: str, display: str) -> Problem | None:
    """The file's cells are split by something else than ',' (seen on the header line)."""
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    delim = max(counts, key=counts.get)
    if counts[delim] <= first_line.count(",") or counts[delim] == 0:
        return None
    rule = f"cells are separated by {_DELIMITERS[delim]}, not by commas"
    try:
        cells = [(n, c) for n, row in enumerate(csv.reader(io.StringIO(text), delimiter=delim), 1) for c in row]
    except csv.Error:
        cells = []
    commas = [(n, c.strip()) for n, c in cells if DECIMAL_COMMA_RE.match(c.strip())]
    if commas:
        rule += f", and numbers have decimal commas (e.g. '{commas[0][1]}' on row {commas[0][0]})"
    return Problem(display, 1, None, rule, SEPARATOR_FIX)


def read_raw(data: bytes, display: str) -> RawTable:
    """Split ``data`` into a header and numbered rows; file-level problems say how to fix them."""
    out = RawTable()
    if not data.strip():
        out.problems.append(Problem(display, None, None, "file is empty", "write at least the header row"))
        return out
    text, out.problems = _decode(data, display)
    if text is None:
        return out
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    if text.split("\n", 1)[0].strip() == "":
        # otherwise every column would be reported missing, which hides the real mistake
        out.problems.append(Problem(display, 1, None, "first line is blank", "put the header row on line 1"))
        return out
    sep = _separator_problem(first_line, text, display)
    if sep:
        out.problems.append(sep)
        return out
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        out.problems.append(Problem(display, None, None, f"not parseable as CSV: {exc}", "check quoting"))
        return out
    out.header = [h.strip() for h in records[0]]  # spaces around a name are harmless
    out.rows = [(i, r) for i, r in enumerate(records[1:], start=2)]
    return out
