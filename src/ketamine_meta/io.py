"""Load and validate the contract tables in ``data/extracted/``.

Each table is described once, in :data:`TABLES`, as a list of :class:`Column` rules; the loader
checks every cell against them and collects *all* problems of a data set before raising one
:class:`~ketamine_meta.errors.InputError`. Cross-table rules (an arm that names an unknown study,
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
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .checks import (
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
from .csvfile import read_raw
from .errors import InputError, Problem

#: Codes allowed in ``derivation`` (several may be joined with ``+``; free text may follow ``:``).
DERIVATION_CODES = frozenset(
    {
        "reported",
        "from_percent",
        "from_se",
        "from_ci",
        "from_p",
        "digitized",
        "imputed",
        "computed",
        "sign_flipped",
    }
)
PROVENANCE = ("source_url", "locator", "evidence", "derivation")

_DERIVATION_RE = re.compile(r"^([a-z_]+(?:\s*\+\s*[a-z_]+)*)(?:$|[\s:;,(])")
STUDY_ID_RE = re.compile(r"^[a-z]+[0-9]{4}[a-z]?$")
TOKEN_RE = re.compile(r"^[a-z0-9][a-z0-9_.+-]*$")
#: A number as a spreadsheet writes it. ``float()`` alone also accepts ``1_5`` (= 15) and non-ASCII
#: digits such as full-width ``１５``, which would silently turn a typo into a different number.
NUMBER_RE = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
#: Largest magnitude of an integer cell: beyond 2**53 a float no longer holds every whole number,
#: and beyond 2**63 pandas' Int64 column cannot hold it at all (it raised OverflowError).
MAX_INT = 2**53
#: Largest magnitude of a score, SD or SE: no depression scale comes near it, and beyond ~1e154 the
#: squared SD in the pooled variance overflows to infinity.
MAX_SCORE = 1e12


@dataclass(frozen=True)
class Column:
    """One column's rules.

    ``kind`` is one of ``str``, ``int``, ``float``, ``bool``, ``enum``, ``regex``, ``derivation``.
    """

    name: str
    kind: str = "str"
    required: bool = True  # the column must exist in the header
    nullable: bool = False  # the cell may be empty
    choices: tuple[str, ...] = ()
    pattern: re.Pattern | None = None
    min: float | None = None
    min_exclusive: bool = False
    max: float | None = None
    hint: str = ""


def _prov(derivation: bool = True) -> list[Column]:
    cols = [
        Column("source_url", hint="the address of the page the number was read from"),
        Column("locator", hint='where on the page, e.g. "Abstract, Results" or "Table 2"'),
        Column("evidence", hint="the number(s) as printed on the page"),
    ]
    if derivation:
        cols.append(Column("derivation", "derivation"))
    return cols


def _time_cols(nullable: bool = False) -> list[Column]:
    return [
        Column("time_h", "float", nullable=nullable, min=0, hint="hours after the dose that time_anchor names"),
        Column("time_anchor", "enum", nullable=nullable, choices=("first_dose", "last_dose", "baseline")),
    ]


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required_file: bool = True
    min_rows: int = 0
    row_checks: tuple[Callable[[dict], list[tuple[str, str, str]]], ...] = field(default=())

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"


def _reads(*columns: str):
    """Declare the columns a row check reads: it is skipped on a row where one of them failed its
    own rule (or is missing from the header), so one bad cell is reported once, not again as a
    consequence ("neither se nor CI" after an se of "0,2")."""

    def mark(check):
        check.reads = frozenset(columns)
        return check

    return mark


@_reads("events", "total")
def _events_le_total(r: dict) -> list[tuple[str, str, str]]:
    if r.get("events") is not None and r.get("total") is not None and r["events"] > r["total"]:
        return [("events", f"events ({r['events']}) exceed total ({r['total']})", "events <= total")]
    return []


@_reads("se", "sd", "n")
def _se_needs_n(r: dict) -> list[tuple[str, str, str]]:
    # a mean without SD/SE or n is kept as printed (a gap is a gap) but cannot enter an SMD
    if r.get("se") is not None and r.get("sd") is None and r.get("n") is None:
        return [("n", "se is given without n, so the SD cannot be recovered", "give n, or the SD")]
    return []


def _time_unless(column: str, allowed) -> Callable[[dict], list[tuple[str, str, str]]]:
    """time_h / time_anchor may be empty only when ``column`` says the row is not tied to a time."""

    @_reads(column, "time_h", "time_anchor")
    def check(r: dict) -> list[tuple[str, str, str]]:
        if allowed(r.get(column)):
            return []
        return [
            (c, "is empty but required here", f"give it, or set {column}")
            for c in ("time_h", "time_anchor")
            if r.get(c) is None
        ]

    return check


@_reads("se", "ci_low", "ci_high")
def _se_or_ci(r: dict) -> list[tuple[str, str, str]]:
    out = []
    lo, hi = r.get("ci_low"), r.get("ci_high")
    if r.get("se") is None and (lo is None or hi is None):
        out.append(("se", "neither se nor both CI limits are given", "give se or ci_low and ci_high"))
    if lo is not None and hi is not None and lo > hi:
        out.append(("ci_low", f"ci_low ({lo}) is above ci_high ({hi})", "swap the limits"))
    return out


@_reads(
    "n_responders",
    "n_relapsed",
    "proportion_relapsed",
    "median_days_to_relapse",
    "mean_days_to_relapse",
    "followup_days",
    "relapse_definition",
)
def _relapse_counts(r: dict) -> list[tuple[str, str, str]]:
    out = []
    n, k = r.get("n_responders"), r.get("n_relapsed")
    if n is not None and k is not None and k > n:
        out.append(("n_relapsed", f"n_relapsed ({k}) exceeds n_responders ({n})", "n_relapsed <= n_responders"))
    if k is not None and n is None:
        out.append(("n_responders", "n_relapsed is given without n_responders", "give the denominator"))
    if (
        k is None
        and r.get("proportion_relapsed") is None
        and r.get("median_days_to_relapse") is None
        and r.get("mean_days_to_relapse") is None
    ):
        out.append(("n_relapsed", "row has no relapse count, proportion or median time", "give one"))
    if (
        (k is not None or r.get("proportion_relapsed") is not None)
        and r.get("followup_days") is None
        and not r.get("relapse_definition")
    ):
        out.append(
            (
                "followup_days",
                "relapses are given without followup_days or a definition saying over what time",
                "give one",
            )
        )
    return out


@_reads("measure", "events", "total", "mean")
def _ae_value(r: dict) -> list[tuple[str, str, str]]:
    if r.get("measure") == "proportion":
        need = [c for c in ("events", "total") if r.get(c) is None]
        return [(c, "a proportion needs events and total", "give both counts") for c in need]
    if r.get("measure") and r.get("mean") is None:
        return [("mean", f"measure '{r['measure']}' needs a mean", "give the mean (and its SD, SE or n)")]
    return []


#: Cochrane risk-of-bias tool 1 domains (as CD011612 uses them), plus the project's own
#: ``functional_unblinding`` (was the blind tested, and did it hold?).
ROB_DOMAINS = (
    "sequence_generation",
    "allocation_concealment",
    "blinding_participants_personnel",
    "blinding_outcome_assessment",
    "incomplete_outcome_data",
    "selective_reporting",
    "other_bias",
    "functional_unblinding",
)
AE_EVENTS = (
    "dissociation",
    "blood_pressure_systolic",
    "blood_pressure_diastolic",
    "blood_pressure_any",
    "mania_hypomania",
    "psychotomimetic",
    "dropout_adverse_event",
    "dropout_any",
    "serious_adverse_event",
    "nausea",
    "headache",
    "dizziness",
    "other",
)


@_reads("median_ci_low", "median_ci_high")
def _median_ci(r: dict) -> list[tuple[str, str, str]]:
    lo, hi = r.get("median_ci_low"), r.get("median_ci_high")
    if lo is not None and hi is not None and lo > hi:
        return [("median_ci_low", f"median_ci_low ({lo}) is above median_ci_high ({hi})", "swap")]
    return []


#: The free-text column every table may carry: anything an extractor wants a reader to know about
#: the row. The pipeline never reads it (studies.csv's ``notes`` is the same, and required).
NOTES = Column("notes", required=False, nullable=True, hint="free text; the pipeline does not read it")

#: Kinds of model-adjusted estimate (Cochrane Handbook 10.5.2: ANCOVA-type estimates are preferred
#: when baselines differ).
ADJUSTMENTS = ("ancova", "mmrm", "lsmean")
#: Crossover trials: which periods a row's numbers come from (empty = both periods, the usual case).
_PERIOD = Column(
    "crossover_period",
    "enum",
    required=False,
    nullable=True,
    choices=("first", "both"),
    hint="crossover trials only: 'first' for first-period-only numbers, 'both' (or empty) for both periods",
)

STUDIES = TableSpec(
    "studies",
    (
        Column("study_id", "regex", pattern=STUDY_ID_RE, hint="lowercase author + year, e.g. zarate2006"),
        Column("label"),
        Column("year", "int", nullable=True, min=1950, max=2100),
        Column("citation", nullable=True),
        Column("pmid", nullable=True),
        Column("doi", nullable=True),
        Column("trial_name", required=False, nullable=True),
        Column("design", "enum", choices=("parallel", "crossover", "single_arm")),
        Column("randomized", "bool"),
        Column("blinding", nullable=True),
        Column("population", "enum", choices=("mdd", "trd", "bipolar", "mixed")),
        Column("drug", "enum", choices=("racemic", "esketamine", "arketamine")),
        Column("route", "enum", choices=("iv", "intranasal", "oral", "sublingual", "im", "sc")),
        Column("dosing", "enum", choices=("single", "repeated")),
        Column("control", "enum", choices=("saline", "midazolam", "placebo", "active", "none")),
        Column("n_randomized", "int", nullable=True, min=1),
        Column("source_url"),
        Column("locator", required=False),
        Column("evidence", required=False),
        Column("notes", nullable=True),
    ),
    key=("study_id",),
    min_rows=1,
)

ARMS = TableSpec(
    "arms",
    (
        Column("study_id", "regex", pattern=STUDY_ID_RE),
        Column("arm_id", "regex", pattern=TOKEN_RE, hint="e.g. ket_0.5, esk_84, sal, mdz, pbo"),
        Column("role", "enum", choices=("ketamine", "control")),
        Column("dose", nullable=True),
        Column("dose_mg_per_kg", "float", nullable=True, min=0),
        Column("dose_mg", "float", nullable=True, min=0),
        Column("n_randomized", "int", nullable=True, min=1),
        *_prov(),
        NOTES,
    ),
    key=("study_id", "arm_id"),
    min_rows=1,
)

OUTCOMES_BINARY = TableSpec(
    "outcomes_binary",
    (
        Column("study_id", "regex", pattern=STUDY_ID_RE),
        Column("arm_id", "regex", pattern=TOKEN_RE),
        Column("outcome", "enum", choices=("response", "remission", "relapse")),
        *_time_cols(nullable=True),
        Column("window", nullable=True),
        Column("definition", nullable=True),
        Column("scale", "regex", pattern=TOKEN_RE, nullable=True),
        Column("events", "int", min=0),
        Column("total", "int", min=1),
        _PERIOD,
        *_prov(),
        NOTES,
    ),
    key=("study_id", "arm_id", "outcome", "time_h", "time_anchor", "window", "scale", "definition"),
    row_checks=(_events_le_total, _time_unless("window", bool)),
)

OUTCOMES_CONTINUOUS = TableSpec(
    "outcomes_continuous",
    (
        Column("study_id", "regex", pattern=STUDY_ID_RE),
        Column("arm_id", "regex", pattern=TOKEN_RE),
        *_time_cols(),
        Column("scale", "regex", pattern=TOKEN_RE, hint="e.g. madrs, hamd17, bdi"),
        Column("measure", "enum", choices=("endpoint", "change")),
        # symptom scores: 1e12 is far beyond any scale, and squaring larger SDs overflows the SMD
        Column("mean", "float", min=-MAX_SCORE, max=MAX_SCORE, hint="a symptom-scale score"),
        Column("sd", "float", nullable=True, min=0, min_exclusive=True, max=MAX_SCORE, hint="a symptom-scale SD"),
        Column("se", "float", required=False, nullable=True, min=0, min_exclusive=True, max=MAX_SCORE),
        Column("n", "int", nullable=True, min=1),
        Column(
            "adjusted",
            "enum",
            required=False,
            nullable=True,
            choices=ADJUSTMENTS,
            hint="empty for a raw mean; ancova / mmrm / lsmean for a model-adjusted mean",
        ),
        _PERIOD,
        *_prov(),
        NOTES,
    ),
    key=("study_id", "arm_id", "time_h", "time_anchor", "scale", "measure", "crossover_period"),
    row_checks=(_se_needs_n,),
)

CONTRASTS = TableSpec(
    "contrasts",
    (
        Column("study_id", "regex", pattern=STUDY_ID_RE),
        Column("treatment_arm", "regex", pattern=TOKEN_RE),
        Column("control_arm", "regex", pattern=TOKEN_RE),
        Column(
            "outcome",
            "enum",
            choices=("depression", "response", "remission", "relapse", "suicidal_ideation"),
        ),
        *_time_cols(nullable=True),
        Column("effect", "enum", choices=("smd", "md", "log_or", "log_rr", "log_hr")),
        Column("estimate", "float"),
        Column("se", "float", nullable=True, min=0, min_exclusive=True),
        Column("ci_low", "float", nullable=True),
        Column("ci_high", "float", nullable=True),
        Column("n_treatment", "int", nullable=True, min=1),
        Column("n_control", "int", nullable=True, min=1),
        Column("scale", "regex", pattern=TOKEN_RE, nullable=True),
        Column(
            "adjustment",
            "enum",
            required=False,
            nullable=True,
            choices=(*ADJUSTMENTS, "unadjusted"),
            hint="what kind of contrast was printed: ancova, mmrm, lsmean (baseline-adjusted) or unadjusted",
        ),
        Column(
            "measure",
            "enum",
            required=False,
            nullable=True,
            choices=("endpoint", "change"),
            hint="for an unadjusted contrast: a difference of endpoint scores or of changes from baseline",
        ),
        Column(
            "paired",
            "bool",
            required=False,
            nullable=True,
            hint="true when a crossover trial prints a within-person (paired) estimate, SE or CI",
        ),
        _PERIOD,
        *_prov(),
        NOTES,
    ),
    key=(
        "study_id",
        "treatment_arm",
        "control_arm",
        "outcome",
        "time_h",
        "time_anchor",
        "effect",
        "scale",
        "crossover_period",
    ),  # fmt: skip
    row_checks=(_se_or_ci, _time_unless("outcome", lambda o: o == "relapse")),
)

RELAPSE = TableSpec(
    "relapse",
    (
        Column("study_id", "regex", pattern=STUDY_ID_RE),
        Column("condition", "regex", pattern=TOKEN_RE, hint="none, ketamine_maintenance, lithium, ..."),
        Column(
            "induction",
            "enum",
            required=False,
            nullable=True,
            choices=("single", "course"),
            hint="what responders had before follow-up: one dose (single) or a course of doses (course)",
        ),
        Column("responder_definition", required=False, nullable=True),
        Column("n_responders", "int", nullable=True, min=1),
        Column("n_relapsed", "int", nullable=True, min=0),
        Column("followup_days", "float", nullable=True, min=0, min_exclusive=True),
        Column(
            "proportion_relapsed",
            "float",
            required=False,
            nullable=True,
            min=0,
            max=1,
            hint="the printed share relapsed (0..1) when counts are not printed",
        ),
        Column("median_days_to_relapse", "float", nullable=True, min=0),
        Column("median_ci_low", "float", nullable=True, min=0),
        Column("median_ci_high", "float", nullable=True, min=0),
        Column("mean_days_to_relapse", "float", required=False, nullable=True, min=0),
        Column("mean_days_sd", "float", required=False, nullable=True, min=0),
        Column("relapse_definition", nullable=True),
        *_prov(),
        NOTES,
    ),
    key=("study_id", "condition", "induction", "followup_days", "relapse_definition"),
    row_checks=(_relapse_counts, _median_ci),
)

SCREENING = TableSpec(
    "screening",
    (
        Column("study_id", "regex", pattern=STUDY_ID_RE),
        Column("label"),
        Column("route", nullable=True),
        Column("pages_looked_at", nullable=True),
        Column("decision", "enum", choices=("included", "excluded")),
        Column("reason"),
        Column("overlaps_with", nullable=True),
        NOTES,
    ),
    key=("study_id",),
    required_file=False,
)

REFERENCE_VALUES = TableSpec(
    "reference_values",
    (
        Column("quantity", "regex", pattern=TOKEN_RE),
        Column("value", "float"),
        Column("ci_low", "float", nullable=True),
        Column("ci_high", "float", nullable=True),
        Column("scale", nullable=True),
        Column("description", nullable=True),
        *_prov(),
        NOTES,
    ),
    key=("quantity",),
    required_file=False,
)

RISK_OF_BIAS = TableSpec(
    "risk_of_bias",
    (
        Column("study_id", "regex", pattern=STUDY_ID_RE),
        Column("domain", "enum", choices=ROB_DOMAINS),
        Column("judgement", "enum", choices=("low", "high", "unclear")),
        Column("support", hint="the reason for the judgement, as printed where it was read"),
        Column(
            "assessor",
            "regex",
            pattern=re.compile(r"^(cochrane_cd011612|cochrane_cd011611|project|other_review:[a-z0-9_]+)$"),
            hint="cochrane_cd011612, cochrane_cd011611, other_review:<name> or project",
        ),
        *_prov(derivation=False),
        NOTES,
    ),
    key=("study_id", "domain", "assessor"),
    required_file=False,
)

ADVERSE_EVENTS = TableSpec(
    "adverse_events",
    (
        Column("study_id", "regex", pattern=STUDY_ID_RE),
        Column("arm_id", "regex", pattern=TOKEN_RE),
        Column("event", "enum", choices=AE_EVENTS),
        Column("measure", "enum", choices=("proportion", "mean_change", "mean_peak", "mean")),
        *_time_cols(nullable=True),
        Column("scale", "regex", pattern=TOKEN_RE, nullable=True),
        Column("events", "int", nullable=True, min=0),
        Column("total", "int", nullable=True, min=1),
        Column("mean", "float", nullable=True, min=-MAX_SCORE, max=MAX_SCORE),
        Column("sd", "float", nullable=True, min=0, max=MAX_SCORE),
        Column("se", "float", nullable=True, min=0, max=MAX_SCORE),
        Column("n", "int", nullable=True, min=1),
        Column("unit", nullable=True),
        *_prov(),
        NOTES,
    ),
    key=("study_id", "arm_id", "event", "measure", "time_h", "time_anchor", "scale"),
    required_file=False,
    row_checks=(_events_le_total, _ae_value),
)

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        STUDIES,
        ARMS,
        OUTCOMES_BINARY,
        OUTCOMES_CONTINUOUS,
        CONTRASTS,
        RELAPSE,
        SCREENING,
        REFERENCE_VALUES,
        RISK_OF_BIAS,
        ADVERSE_EVENTS,
    )
}

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

    @property
    def files(self) -> list[Path]:
        return [self.data_dir / TABLES[n].filename for n in self.tables]


def load_dataset(data_dir: str | Path) -> Dataset:
    """Load and validate all contract tables of ``data_dir``.

    Every table is read and checked, and the references between tables are checked on the rows
    that parsed, whatever else failed; all problems are raised together in one
    :class:`~ketamine_meta.errors.InputError` (sorted by file and row).
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
