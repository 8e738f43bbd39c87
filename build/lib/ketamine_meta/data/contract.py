"""The contract: every input table, column by column, with its type, enum and cross-row rules.

Each table is described once, in :data:`TABLES`, as a list of :class:`Column` rules (read by
:mod:`ketamine_meta.data.load`). Every column a file may have is declared here: a header cell that names
no declared column is an error with a "did you mean", never ignored. Free-form columns are those of kind
``str`` (labels, citations, definitions, provenance text); ``notes`` (:data:`NOTES`) is the free-text
column every table may carry, and the pipeline never reads it. A new column is added to its table here
(``required=False`` when old extractions lack it) and to docs/contract.md."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ketamine_meta.data.row_rules import (
    ae_value,
    events_le_total,
    median_ci,
    relapse_counts,
    se_needs_n,
    se_or_ci,
    time_unless,
)

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
    row_checks=(events_le_total, time_unless("window", bool)),
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
    row_checks=(se_needs_n,),
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
    row_checks=(se_or_ci, time_unless("outcome", lambda o: o == "relapse")),
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
    row_checks=(relapse_counts, median_ci),
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
    row_checks=(events_le_total, ae_value),
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
