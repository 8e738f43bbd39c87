"""The claims registry (``config/claims.yaml``), the verdict of each claim and its certainty.

Verdict rules (written in ``config/README.md`` before they were applied). ``[L, U]`` is the
regenerated interval, compared at the claim's own precision (``0.6`` is not ``0.600``: bounds and
estimate are rounded to the claim's decimals first):

* ``at_least c`` / ``at_most c``: reproduced only when the whole interval clears ``c``;
  contradicted when the whole interval lies on the other side; otherwise inconclusive.
* ``direction`` ("works", "better"): reproduced when the interval excludes the null (``claimed``)
  in the favourable direction; contradicted when it excludes it in the other; else inconclusive.
* ``within`` / ``ratio`` (a range, or a scalar with its family tolerance): reproduced when the
  interval lies inside the range; contradicted when it does not overlap it; else inconclusive.
* ``equivalence`` ("about equal"): two one-sided tests at ``equivalence_alpha``, i.e. reproduced
  when the ``1 - 2 alpha`` (90%) interval lies inside the margin; contradicted when that interval
  lies wholly outside it; otherwise inconclusive.
* ``arithmetic``: the expression against the claimed value and its relative tolerance.
* A general claim, or one about what a cited source found (``scope`` general or source), resting
  on fewer than ``min_k_general`` studies, or a
  time-course quantity whose Satterthwaite df are below 4, is inconclusive whatever its interval.
* metric ``none``, or no data for the metric: not_testable.

A claim that cites a source gets a second verdict (``source_verdict``): does the document report
the source's own printed number (``source_metric``, from ``reference_values.csv``) faithfully?"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from pathlib import Path

import yaml

from ketamine_meta.claims.keys import family_of
from ketamine_meta.core import yamltext
from ketamine_meta.core.errors import ConfigError
from ketamine_meta.core.settings import Config
from ketamine_meta.core.suggest import closest, did_you_mean

RULES = ("within", "at_least", "at_most", "ratio", "arithmetic", "equivalence", "direction")


VERDICTS = ("reproduced", "inconclusive", "contradicted", "not_testable")


REQUIRED = ("claim_id", "document", "section", "quote", "metric", "claimed", "rule")


OPTIONAL = (
    "tolerance", "expression", "needs", "central", "notes", "precision", "scope", "source_metric", "population",
    "route", "drug", "control", "dosing",
)  # fmt: skip


SCOPES = ("general", "study", "source")


#: Decimals a claim is compared at when it does not say (``precision``): proportions to whole
#: percents, days and mmHg to whole units; otherwise the decimals the claimed number is written with.
FAMILY_PRECISION = {"rate": 2, "relapse": 2, "study": 2, "relapse_days": 0, "timecourse_hours": 0}


CLAIM_COLUMNS = [
    "claim_id",
    "document",
    "section",
    "quote",
    "metric",
    "claimed",
    "claimed_low",
    "claimed_high",
    "rule",
    "regenerated",
    "ci_low",
    "ci_high",
    "interval",
    "k",
    "n_participants",
    "studies",
    "basis",
    "verdict",
    "certainty",
    "certainty_reasons",
    "reason",
    "source_metric",
    "source_value",
    "source_verdict",
    "source_reason",
    "figure",
    "central",
]


def metric_family(metric: str) -> str | None:
    """The family of a metric key (the grammar is :mod:`ketamine_meta.claims.keys`)."""
    return family_of(metric)


_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def safe_eval(expression: str) -> float:
    """Evaluate an arithmetic expression of plain numbers (+ - * / ** and parentheses only)."""

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.operand))
        raise ValueError(f"not allowed in an arithmetic expression: {ast.dump(node)[:60]}")

    return ev(ast.parse(expression, mode="eval"))


@dataclass(frozen=True)
class Claim:
    claim_id: str
    document: str
    section: str
    quote: str
    metric: str
    claimed: float | tuple[float, float]
    rule: str
    tolerance: float | None = None
    expression: str | None = None
    needs: str | None = None
    central: bool = False
    notes: str | None = None
    precision: int | None = None
    scope: str = "general"
    source_metric: str | None = None
    population: str | None = None
    route: str | None = None
    drug: str | None = None
    control: str | None = None
    dosing: str | None = None

    @property
    def family(self) -> str:
        return metric_family(self.metric) or ""

    def claimed_bounds(self) -> tuple[float, float]:
        """The claimed range, or the claimed number twice: what figures draw (numbers, not text)."""
        if isinstance(self.claimed, tuple):
            return float(self.claimed[0]), float(self.claimed[1])
        return float(self.claimed), float(self.claimed)

    def claimed_text(self) -> str:
        if isinstance(self.claimed, tuple):
            return f"[{self.claimed[0]:g}, {self.claimed[1]:g}]"
        return f"{self.claimed:g}"

    def decimals(self) -> int:
        """Decimals the claim is compared at (see :data:`FAMILY_PRECISION`)."""
        if self.precision is not None:
            return int(self.precision)
        if self.family in FAMILY_PRECISION:
            return FAMILY_PRECISION[self.family]
        values = self.claimed if isinstance(self.claimed, tuple) else (self.claimed,)
        return max(_written_decimals(v) for v in values)


def _written_decimals(x: float) -> int:
    text = f"{x:.10g}"
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


#: Claim fields naming the scope of the evidence a claim is about (for indirectness), and the
#: studies.csv values each accepts ("any" = all). ``control``: inert_placebo (saline, placebo
#: spray/tablet), active_placebo (midazolam), any_placebo (both).
SCOPE_FIELDS = {
    "population": {"mdd": ("mdd",), "trd": ("trd",), "unipolar": ("mdd", "trd"), "bipolar": ("bipolar",)},
    "route": {"iv": ("iv",), "intranasal": ("intranasal",), "oral": ("oral", "sublingual"), "im_sc": ("im", "sc")},
    "drug": {"racemic": ("racemic",), "esketamine": ("esketamine",)},
    "control": {
        "inert_placebo": ("saline", "placebo"),
        "active_placebo": ("midazolam",),
        "any_placebo": ("saline", "placebo", "midazolam"),
    },  # fmt: skip
    "dosing": {"single": ("single",), "course": ("repeated",), "repeated": ("repeated",)},
}


def load_claims(path: str | Path, seeds_dir: str | Path | None = None) -> list[Claim]:
    """Read and validate the registry; every problem is reported together as a ConfigError."""
    path = Path(path)
    try:
        doc = yamltext.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the claims registry: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list):
        raise ConfigError(f"{path}: expected a top-level 'claims:' list")
    problems, claims, seen = [], [], set()
    for i, entry in enumerate(doc["claims"], start=1):
        where = f"{path}, claim #{i}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: not a mapping")
            continue
        where += f" ({entry.get('claim_id', '?')})"
        missing = [f for f in REQUIRED if f not in entry]
        unknown = [f for f in entry if f not in REQUIRED + OPTIONAL]
        if missing:
            problems.append(f"{where}: missing field(s) {missing}")
        if unknown:
            near = "".join(
                f"; '{f}': {did_you_mean(f, REQUIRED + OPTIONAL)}" for f in unknown if closest(f, REQUIRED + OPTIONAL)
            )
            problems.append(f"{where}: unknown field(s) {unknown}{near} (allowed: {list(REQUIRED + OPTIONAL)})")
        if missing:
            continue
        if entry["claim_id"] in seen:
            problems.append(f"{where}, field 'claim_id': duplicate id")
        seen.add(entry["claim_id"])
        if entry["rule"] not in RULES:
            near = did_you_mean(str(entry["rule"]), RULES)
            near = f"{near} " if near else ""
            problems.append(f"{where}, field 'rule': unknown rule '{entry['rule']}' ({near}use one of {RULES})")
        for fld in ("metric", "source_metric"):
            if fld in entry and entry[fld] is not None and metric_family(str(entry[fld])) is None:
                problems.append(f"{where}, field '{fld}': unknown metric '{entry[fld]}' (see config/README.md)")
        if entry.get("scope", "general") not in SCOPES:
            problems.append(f"{where}, field 'scope': use one of {SCOPES}")
        for fld, allowed in SCOPE_FIELDS.items():
            if entry.get(fld) not in (None, "any", *allowed):
                problems.append(f"{where}, field '{fld}': '{entry[fld]}' is not any or one of {sorted(allowed)}")
        claimed = entry["claimed"]
        if isinstance(claimed, list):
            if len(claimed) != 2 or not all(isinstance(x, (int, float)) for x in claimed) or claimed[0] > claimed[1]:
                problems.append(f"{where}, field 'claimed': a range must be [low, high] numbers with low <= high")
                continue
            claimed = (float(claimed[0]), float(claimed[1]))
        elif isinstance(claimed, (int, float)) and not isinstance(claimed, bool):
            claimed = float(claimed)
        else:
            problems.append(f"{where}, field 'claimed': '{claimed}' is not a number or [low, high]")
            continue
        if entry["rule"] == "arithmetic":
            try:
                safe_eval(str(entry.get("expression", "")))
            except (ValueError, SyntaxError, ZeroDivisionError) as exc:
                problems.append(f"{where}, field 'expression': {exc}")
        if seeds_dir:
            seed = Path(seeds_dir) / entry["document"]
            if not seed.exists():
                problems.append(f"{where}, field 'document': no such seed document {seed}")
            elif _norm(entry["quote"]) not in _norm(seed.read_text(encoding="utf-8")):
                problems.append(f"{where}, field 'quote': not found verbatim in {entry['document']}")
        claims.append(
            Claim(
                **{
                    **{k: entry.get(k) for k in REQUIRED + OPTIONAL},
                    "claimed": claimed,
                    "central": bool(entry.get("central", False)),
                    "scope": entry.get("scope") or "general",
                }
            )
        )
    if problems:
        raise ConfigError("problems in the claims registry:\n  - " + "\n  - ".join(problems))
    return claims


def _norm(text: str) -> str:
    return " ".join(str(text).split())


def claimed_range(c: Claim, cfg: Config) -> tuple[float, float]:
    if isinstance(c.claimed, tuple):
        return c.claimed
    tol = c.tolerance if c.tolerance is not None else cfg.claims.default_tolerance.get(c.family, 0.0)
    return c.claimed - tol, c.claimed + tol
