"""The loader's rules that look beyond one cell: the header, keys, references between tables, and
the hints that say how to write a number the contract accepts.

Nothing here imports :mod:`ketamine_meta.data.load`; it receives the contract's ``Column`` and
``TableSpec`` objects and the rows read so far, and returns :class:`~ketamine_meta.core.errors.Problem` s.
Every check runs on whatever parsed, so one message lists the problems of every table together:
a reference check skips only the cells that failed their own rule and the tables that could not
be read at all (a table without its header cannot define the ids others use).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ketamine_meta.core.errors import Problem
from ketamine_meta.core.suggest import closest, did_you_mean
from ketamine_meta.data.csvfile import DECIMAL_COMMA_RE, SEPARATOR_FIX

#: Column the loader adds to every record (the spreadsheet row); a header may not use it.
ROW_COLUMN = "_row"
#: What spreadsheets put in a cell whose formula failed.
EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#####"})
_NUMBER_UNIT_RE = re.compile(r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))\s*([A-Za-zµ][A-Za-z/µ]*)\.?$")
_PERCENT_RE = re.compile(r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))\s*%$")
_THOUSANDS_RE = re.compile(r"^[0-9]{1,3}(?:,[0-9]{3})+$")
#: Units a time cell is written in, as hours per unit (for ``time_h``) and days per unit (``*_days``).
_HOURS = {"min": 1 / 60, "mins": 1 / 60, "minute": 1 / 60, "minutes": 1 / 60, "h": 1, "hr": 1, "hrs": 1,
          "hour": 1, "hours": 1, "d": 24, "day": 24, "days": 24, "w": 168, "wk": 168, "wks": 168,
          "week": 168, "weeks": 168}  # fmt: skip
_DAYS = {unit: hours / 24 for unit, hours in _HOURS.items() if hours >= 1}


def number_hint(column: str, text: str, nullable: bool) -> tuple[str, str] | None:
    """(rule, fix) for a cell that is not a plain number but says which number was meant."""
    if text.upper() in EXCEL_ERRORS:
        fix = "type the number as printed" + (", or leave the cell empty if none is printed" if nullable else "")
        return f"'{text}' is a spreadsheet error value, not a number", f"a formula failed: {fix}"
    if _THOUSANDS_RE.match(text):
        plain = text.replace(",", "")
        return (
            f"'{text}' has a comma in it",
            f"write {plain} if the comma separates thousands, or {text.replace(',', '.')} if it is a decimal "
            "comma: numbers are written without separators and with a decimal point",
        )
    if DECIMAL_COMMA_RE.match(text):
        return (
            f"'{text}' has a decimal comma",
            f"write {text.replace(',', '.')}; to make the spreadsheet do it, {SEPARATOR_FIX}",
        )
    m = _PERCENT_RE.match(text)
    if m:
        value = float(m.group(1))
        if column.startswith("proportion"):
            return f"'{text}' is a percentage", f"write the share between 0 and 1: {value / 100:g}"
        return (
            f"'{text}' is a percentage",
            f"write the number the column holds without '%' (here: the count, not {text})",
        )
    m = _NUMBER_UNIT_RE.match(text)
    if m:
        value, unit = float(m.group(1)), m.group(2)
        if column == "time_h":
            factor = _HOURS.get(unit.lower())
            if factor is None:
                return f"'{text}' has a unit", "write the number of hours after the dose, without a unit"
            return f"'{text}' has a unit", f"write {value * factor:g}: time_h is in hours, without a unit"
        if column.endswith("_days") or column.startswith("median_ci"):
            factor = _DAYS.get(unit.lower())
            if factor is None:  # months and years differ in length: the user converts them
                return f"'{text}' has a unit", "write the number of days, without a unit"
            return f"'{text}' has a unit", f"write {value * factor:g}: {column} is in days, without a unit"
        if column == "dose_mg" and unit.lower() == "mg/kg":
            return f"'{text}' is a per-kg dose", f"put {value:g} in dose_mg_per_kg and leave dose_mg empty"
        if column == "dose_mg_per_kg" and unit.lower() == "mg":
            return f"'{text}' is a fixed dose", f"put {value:g} in dose_mg and leave dose_mg_per_kg empty"
        return f"'{text}' has a unit", f"write {value:g} alone: the column's name fixes the unit"
    return None


def token_hint(text: str, pattern: re.Pattern) -> str:
    """'did you mean ...?' for an id written with capitals or spaces ('Ket 0.5' -> 'ket_0.5')."""
    guess = re.sub(r"\s+", "_", text.strip().lower())
    return f"did you mean '{guess}'? " if guess != text and pattern.match(guess) else ""


def value_hint(text: str, choices: Sequence[str]) -> str:
    """'did you mean ...?' for a value of a fixed list ('Ketamine' -> 'ketamine')."""
    hint = did_you_mean(text, choices)
    return f"{hint} " if hint else ""


def header_problems(header: Sequence[str], columns: Sequence, display: str) -> tuple[list[Problem], set[str]]:
    """Problems of the header row, and the required columns it lacks.

    Every column must be one the contract declares (``columns``); a free-text column for anything
    else is ``notes``. Unknown names get the nearest declared one ("did you mean").
    """
    problems: list[Problem] = []
    known = [c.name for c in columns]
    seen: set[str] = set()
    for i, name in enumerate(header, start=1):
        if name == "":
            continue  # checked with the cells: an unnamed column that holds nothing is harmless
        if name in seen:
            problems.append(Problem(display, 1, name, "column appears twice", "delete one of them"))
        seen.add(name)
        if name == ROW_COLUMN:  # it would overwrite the row numbers every message relies on
            problems.append(Problem(display, 1, name, "column name is reserved by the loader", "rename the column"))
        elif name not in known:
            guess = closest(name, known)
            if guess and guess in header:
                fix = f"'{guess}' is already a column: delete '{name}' or merge it into '{guess}'"
            elif guess:
                fix = f"did you mean '{guess}'? rename the column to '{guess}' (names are lowercase, '_' between words)"
            else:
                fix = (
                    "rename it to a column of the contract (config/README.md, Input tables), "
                    "put free text in 'notes', or delete it"
                )
            problems.append(Problem(display, 1, name, f"unknown column '{name}' (column {i})", fix))
    missing = {c.name for c in columns if c.required and c.name not in seen}
    unknown = [h for h in header if h and h not in known]
    for col in columns:
        if col.name in missing:
            near = closest(col.name, unknown)
            fix = f"rename the header's '{near}' to '{col.name}'" if near else "add it to the header"
            problems.append(Problem(display, 1, col.name, "required column is missing", fix))
    return problems, missing


def unnamed_column_problems(
    header: Sequence[str], rows: Iterable[tuple[int, list[str]]], display: str
) -> list[Problem]:
    """A column without a header name is harmless while empty (spreadsheets add them), not when it holds values."""
    blanks = [i for i, h in enumerate(header) if h == ""]
    if not blanks:
        return []
    used: dict[int, list[int]] = {}
    for row, cells in rows:
        for i in blanks:
            if i < len(cells) and cells[i].strip():
                used.setdefault(i, []).append(row)
    return [
        Problem(
            display,
            1,
            None,
            f"column {i + 1} has no name in the header but holds values (rows {_rows_text(r)})",
            "give it the contract's name for what it holds, or delete the column",
        )
        for i, r in sorted(used.items())
    ]


def key_problems(records: list[dict], key: Sequence[str], failed: dict[int, set[str]], display: str) -> list[Problem]:
    """A second row with the same key; rows whose key cells failed their own rule are left out."""
    problems = []
    first: dict[tuple, int] = {}
    for rec in records:
        if failed.get(rec[ROW_COLUMN], set()) & set(key):
            continue
        k = tuple(rec.get(c) for c in key)
        if k in first:
            problems.append(
                Problem(
                    display,
                    rec[ROW_COLUMN],
                    key[0],
                    f"duplicate key {dict(zip(key, k))} (first at row {first[k]})",
                    "delete or merge the duplicate row",
                )
            )
        else:
            first[k] = rec[ROW_COLUMN]
    return problems


@dataclass
class ReadTable:
    """What the loader got from one table: every row with the cells that parsed (a cell that failed
    its rule is None and named in ``failed``), and whether the header could be read at all."""

    file: str
    records: list[dict] = field(default_factory=list)
    failed: dict[int, set[str]] = field(default_factory=dict)
    readable: bool = False

    def values(self, *columns: str) -> list[tuple[dict, tuple]]:
        """(record, values) of the rows where every one of ``columns`` parsed and is not empty."""
        out = []
        for r in self.records:
            vals = tuple(r.get(c) for c in columns)
            if not (self.failed.get(r[ROW_COLUMN], set()) & set(columns)) and all(v is not None for v in vals):
                out.append((r, vals))
        return out


#: Tables whose rows name a study, and (table, columns) whose cells name an arm of that study.
STUDY_REFS = (
    "arms",
    "outcomes_binary",
    "outcomes_continuous",
    "contrasts",
    "relapse",
    "risk_of_bias",
    "adverse_events",
)
ARM_REFS = (
    ("outcomes_binary", ("arm_id",)),
    ("outcomes_continuous", ("arm_id",)),
    ("contrasts", ("treatment_arm", "control_arm")),
    ("adverse_events", ("arm_id",)),
)
#: The arm role a contrast column must name (a swapped pair flips the sign of the effect).
CONTRAST_ROLES = {"treatment_arm": "ketamine", "control_arm": "control"}


def cross_problems(t: dict[str, ReadTable]) -> list[Problem]:
    """References between tables, checked on the rows that parsed."""
    problems: list[Problem] = []
    studies = t.get("studies")
    arms = t.get("arms")
    study_ids = {v[0] for _, v in studies.values("study_id")} if studies and studies.readable else None
    arm_role: dict[tuple[str, str], str | None] = {}
    arms_of: dict[str, list[str]] = {}
    if arms and arms.readable:
        for r, (sid, aid) in arms.values("study_id", "arm_id"):
            arm_role[(sid, aid)] = r.get("role")
            arms_of.setdefault(sid, []).append(aid)
    if study_ids is not None:
        for name in STUDY_REFS:
            if name not in t:
                continue
            for r, (sid,) in t[name].values("study_id"):
                if sid not in study_ids:
                    near = closest(sid, study_ids)
                    fix = f"did you mean '{near}'? " if near else ""
                    problems.append(
                        Problem(
                            t[name].file,
                            r[ROW_COLUMN],
                            "study_id",
                            f"study '{sid}' is not in studies.csv",
                            fix + "add the study to studies.csv or fix the id",
                        )
                    )
    if arms and arms.readable:
        for name, cols in ARM_REFS:
            if name not in t:
                continue
            for col in cols:
                for r, (sid, aid) in t[name].values("study_id", col):
                    if study_ids is not None and sid not in study_ids:
                        continue  # already reported as an unknown study
                    if (sid, aid) not in arm_role:
                        near = closest(aid, arms_of.get(sid, []))
                        known = ", ".join(arms_of.get(sid, [])) or "none"
                        fix = f"did you mean '{near}'? " if near else ""
                        problems.append(
                            Problem(
                                t[name].file,
                                r[ROW_COLUMN],
                                col,
                                f"arm '{aid}' of study '{sid}' is not in arms.csv",
                                f"{fix}add the arm to arms.csv or fix the id (arms of {sid}: {known})",
                            )
                        )
                    elif name == "contrasts" and arm_role[(sid, aid)] not in (None, CONTRAST_ROLES[col]):
                        problems.append(
                            Problem(
                                t[name].file,
                                r[ROW_COLUMN],
                                col,
                                f"arm '{aid}' has role '{arm_role[(sid, aid)]}' in arms.csv, but {col} must name a "
                                f"{CONTRAST_ROLES[col]} arm",
                                "put the ketamine arm in treatment_arm and the control in control_arm, and flip the "
                                "sign of estimate, ci_low and ci_high (they are ketamine minus control)",
                            )
                        )
        problems += _role_problems(t)
    screening = t.get("screening")
    if screening and screening.readable and studies and studies.readable:
        screened = {v[0] for _, v in screening.values("study_id")}
        for r, (sid,) in studies.values("study_id"):
            if sid not in screened:
                problems.append(
                    Problem(
                        studies.file,
                        r[ROW_COLUMN],
                        "study_id",
                        f"study '{sid}' is missing from screening.csv",
                        "log every included study in screening.csv",
                    )
                )
    return problems


def _role_problems(t: dict[str, ReadTable]) -> list[Problem]:
    """Every study's arms include a ketamine arm; a single-arm study has no control arm."""
    arms, studies = t["arms"], t.get("studies")
    roles: dict[str, list[tuple[int, str]]] = {}
    for r, (sid, role) in arms.values("study_id", "role"):
        roles.setdefault(sid, []).append((r[ROW_COLUMN], role))
    design = {}
    if studies and studies.readable:
        design = {sid: d for _, (sid, d) in studies.values("study_id", "design")}
    # a study whose role cells partly failed is judged on the rest only when none failed
    failed_role = {r["study_id"] for r in arms.records if "role" in arms.failed.get(r[ROW_COLUMN], set())}
    problems = []
    for sid, rows in roles.items():
        if sid in failed_role:
            continue
        if all(role != "ketamine" for _, role in rows):
            problems.append(
                Problem(
                    arms.file,
                    rows[0][0],
                    "role",
                    f"study '{sid}' has no arm with role 'ketamine' (rows {_rows_text([n for n, _ in rows])})",
                    "set role to ketamine on the arm that received ketamine or esketamine",
                )
            )
        if design.get(sid) == "single_arm":
            for n, role in rows:
                if role == "control":
                    problems.append(
                        Problem(
                            arms.file,
                            n,
                            "role",
                            f"study '{sid}' is single_arm in studies.csv but this arm has role 'control'",
                            "set role to ketamine, or the study's design to parallel or crossover",
                        )
                    )
    return problems


def _rows_text(rows: Sequence[int]) -> str:
    rows = list(rows)
    return ", ".join(map(str, rows[:5])) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
