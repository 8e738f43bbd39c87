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
the source's own printed number (``source_metric``, from ``reference_values.csv``) faithfully?
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from .certainty import Evidence, grade
from .errors import ConfigError
from .suggest import closest, did_you_mean

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

_T = r"[a-z0-9_]+"
METRIC_PATTERNS = {
    "pooled": re.compile(rf"^pooled\.{_T}\.{_T}\.{_T}\.{_T}(\.{_T})?$"),
    "rate": re.compile(rf"^rate\.{_T}\.(ketamine|control|single_arm)\.{_T}\.{_T}(\.{_T})?$"),
    "ratio": re.compile(rf"^ratio\.smd_vs_ssri\.{_T}\.{_T}$"),
    "route_diff": re.compile(rf"^route_diff\.{_T}\.{_T}\.{_T}\.{_T}_vs_{_T}$"),
    "route_test": re.compile(rf"^route_test\.{_T}\.{_T}\.{_T}$"),
    "relapse": re.compile(rf"^relapse\.(proportion|share)\.{_T}\.(single|course|any)\.{_T}(\.remitters)?$"),
    "relapse_days": re.compile(rf"^relapse\.median_days\.{_T}\.{_T}$"),
    "reference": re.compile(r"^reference\.[a-z0-9][a-z0-9_.+-]*$"),  # quantity names as reference_values.csv allows
    "ae": re.compile(rf"^ae\.{_T}\.(log_rr|mh_rr)\.{_T}$"),
    "ae_rate": re.compile(rf"^ae_rate\.{_T}\.(ketamine|control)\.{_T}$"),
    "nnt": re.compile(rf"^nnt\.{_T}\.{_T}\.{_T}$"),
    "moderator_diff": re.compile(rf"^moderator_diff\.{_T}\.{_T}\.{_T}\.{_T}\.{_T}_vs_{_T}$"),
    "moderator_test": re.compile(rf"^moderator_test\.{_T}\.{_T}\.{_T}\.{_T}$"),
    "dose_slope": re.compile(rf"^dose_slope\.{_T}\.{_T}\.{_T}$"),
    "timecourse_effect": re.compile(rf"^timecourse\.effect\.{_T}\.(single|repeated)\.{_T}$"),
    "timecourse_hours": re.compile(
        rf"^timecourse\.(first_distinguishable|peak|last_distinguishable)\.{_T}\.(single|repeated)$"
    ),
    "study": re.compile(rf"^study\.[a-z]+[0-9]{{4}}[a-z]?\.{_T}\.(ketamine|control|single_arm)\.{_T}$"),
    "study_effect": re.compile(rf"^study_effect\.[a-z]+[0-9]{{4}}[a-z]?\.{_T}\.{_T}\.{_T}$"),
    "arithmetic": re.compile(r"^arithmetic$"),
    "none": re.compile(r"^none$"),
}
CLAIM_COLUMNS = [
    "claim_id",
    "document",
    "section",
    "quote",
    "metric",
    "claimed",
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
    for fam, pat in METRIC_PATTERNS.items():
        if pat.match(metric):
            return fam
    return None


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
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
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


def _range(c: Claim, cfg: dict) -> tuple[float, float]:
    if isinstance(c.claimed, tuple):
        return c.claimed
    tol = c.tolerance if c.tolerance is not None else cfg["claims"]["default_tolerance"].get(c.family, 0.0)
    return c.claimed - tol, c.claimed + tol


def _fmt(x: float, decimals: int | None = None) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "NA"
    if decimals is not None and abs(x) < 1000:
        return f"{x:.{max(decimals, 0)}f}"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def judge(c: Claim, est: float, lo_u: float, hi_u: float, cfg: dict, iv_word: str = "CI") -> tuple[str, str]:
    """Verdict of a non-arithmetic claim from the regenerated estimate and interval ``[lo_u, hi_u]``
    (pass ``lo_u = hi_u = est`` when there is no interval), compared at the claim's precision, and
    the clause that explains it. For ``equivalence`` pass the (1 - 2 alpha) interval."""
    d = c.decimals()
    # precision is the claim's wording; a test against the null or a TOST margin is not rounded
    exact = c.rule in ("direction", "equivalence")
    r = float if exact else (lambda x: round(float(x), d))
    if exact:
        d = max(d, 2)
    e, lo, hi = r(est), r(lo_u), r(hi_u)
    f = lambda x: _fmt(x, d)  # noqa: E731
    # a single value (no interval printed) is "the value", an interval "its 95% CI"
    whole = "the value" if iv_word == "value" else f"its whole {iv_word}"
    its = "the value" if iv_word == "value" else f"its {iv_word}"
    if c.rule == "direction":
        null = float(c.claimed)
        if lo > null:
            return "reproduced", f"{its} excludes no effect ({f(null)}) in the claimed direction"
        if hi < null:
            return "contradicted", f"{its} excludes no effect ({f(null)}) in the opposite direction"
        return "inconclusive", f"{its} includes no effect ({f(null)}), so the data cannot show it"
    if c.rule == "equivalence":
        a, b = _range(c, cfg)
        target = f"the equivalence margin {f(a)} to {f(b)}"
        if a <= lo and hi <= b:
            return "reproduced", f"{its} lies inside {target} (two one-sided tests)"
        if hi < a or lo > b:
            return "contradicted", f"{its} lies wholly outside {target}"
        return "inconclusive", f"{its} extends beyond {target}, so equivalence is not shown"
    if c.rule in ("within", "ratio"):
        a, b = _range(c, cfg)
        target = f"the claimed {f(a)} to {f(b)}"
        where = "inside" if a <= e <= b else "outside"
        if a <= lo and hi <= b:
            return "reproduced", f"{whole} lies inside {target}"
        if hi < a or lo > b:
            return "contradicted", f"{its} lies wholly outside {target}"
        return "inconclusive", f"the estimate is {where} {target} but {its} straddles it"
    cl = float(c.claimed)
    if c.rule == "at_least":
        if lo >= cl:
            return "reproduced", f"{whole} is at or above the claimed {f(cl)}"
        if hi < cl:
            return "contradicted", f"{whole} is below the claimed {f(cl)}"
        return "inconclusive", f"{its} straddles the claimed {f(cl)}"
    if hi <= cl:  # at_most
        return "reproduced", f"{whole} is at or below the claimed {f(cl)}"
    if lo > cl:
        return "contradicted", f"{whole} is above the claimed {f(cl)}"
    return "inconclusive", f"{its} straddles the claimed {f(cl)}"


def interval_at(m: pd.Series, level: float) -> tuple[float, float]:
    """The metric's interval at another coverage ``level`` (for TOST), from its analysis-scale
    ``beta``/``se`` and ``df`` (t with df under Knapp-Hartung, else z); the printed CI otherwise."""
    beta, se = m.get("beta"), m.get("se")
    if beta is None or se is None or pd.isna(beta) or pd.isna(se):
        return m["ci_low"], m["ci_high"]
    df = m.get("df")
    q = 0.5 + level / 2
    crit = stats.t.ppf(q, df) if df is not None and pd.notna(df) and df > 0 else stats.norm.ppf(q)
    lo, hi = beta - crit * se, beta + crit * se
    scale = m.get("scale")
    if scale == "log":
        return float(np.exp(lo)), float(np.exp(hi))
    if scale == "logit":
        return float(1 / (1 + np.exp(-lo))), float(1 / (1 + np.exp(-hi)))
    return float(lo), float(hi)


def _what(m: pd.Series, ev: Evidence | None) -> str:
    """Plain words for what a metric rests on: its k, participants, and the studies' routes,
    drugs, populations and controls."""
    raw = m.get("studies")
    studies = [s for s in ("" if raw is None or pd.isna(raw) else str(raw)).split(";") if s]
    if not studies:
        return str(m["description"])
    k = int(m["k"]) if pd.notna(m.get("k")) else len(studies)
    head = "one study" if k == 1 else f"{k} studies"
    npart = m.get("n_participants")
    if npart is not None and pd.notna(npart) and npart > 0:
        head += f", {npart:.0f} participants"
    names = ", ".join(studies)
    scope = ""
    if ev is not None:
        known = [s for s in studies if s in ev.studies.index]
        if known:
            parts = []
            for col in ("route", "drug", "population", "control"):
                vals = sorted({str(ev.studies.loc[s, col]) for s in known})
                parts.append("/".join(vals))
            scope = f"; {', '.join(parts)}"
    return f"{m['description']} ({head}: {names}{scope})"


def evaluate(c: Claim, metrics: pd.DataFrame, cfg: dict, ev: Evidence | None = None) -> dict:
    """One row of ``claims.csv`` for claim ``c``."""
    row = {col: "" for col in CLAIM_COLUMNS} | {
        "claim_id": c.claim_id,
        "document": c.document,
        "section": c.section,
        "quote": c.quote,
        "metric": c.metric,
        "claimed": c.claimed_text(),
        "rule": c.rule,
        "regenerated": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "k": np.nan,
        "n_participants": np.nan,
        "source_value": np.nan,
        "source_metric": c.source_metric or "",
        "central": c.central,
    }
    row.update(_source_verdict(c, metrics, cfg))
    if c.rule == "arithmetic":
        value = safe_eval(c.expression)
        row.update(regenerated=value, interval="none", basis="arithmetic", certainty="not applicable")
        if isinstance(c.claimed, tuple):
            ok = c.claimed[0] <= value <= c.claimed[1]
            bound = f"the claimed range {c.claimed_text()}"
        else:
            tol = c.tolerance if c.tolerance is not None else cfg["claims"]["arithmetic_rel_tolerance"]
            ok = abs(value - c.claimed) <= tol * abs(c.claimed)
            bound = f"{_fmt(c.claimed)} (relative tolerance {tol:g})"
        verdict = "reproduced" if ok else "contradicted"
        fit = "consistent with" if ok else "not consistent with"
        reason = f"Arithmetic {c.expression} = {_fmt(value)}, {fit} the claimed {bound}."
        return {**row, "verdict": verdict, "reason": reason}
    if c.metric == "none":
        needs = (c.needs or "data not specified").rstrip(". ")
        return {**row, "verdict": "not_testable", "basis": "no data", "certainty": "not graded",
                "reason": f"No metric in this pipeline answers it; needs: {needs}."}  # fmt: skip
    hit = metrics[metrics["metric"] == c.metric]
    if hit.empty:
        # point the reviewer at what the extraction does have for the same question
        stem = c.metric.rsplit(".", 1)[0] + "."
        near = sorted(m for m in metrics["metric"] if m.startswith(stem))[:4]
        also = f" Available nearby: {', '.join(near)}." if near else ""
        return {**row, "verdict": "not_testable", "basis": "no data", "certainty": "not graded",
                "reason": f"No data for {c.metric} in this extraction (k = 0); it needs studies reporting that "
                f"outcome, route and time.{also}"}  # fmt: skip
    m = hit.iloc[0]
    row.update(regenerated=m["value"], ci_low=m["ci_low"], ci_high=m["ci_high"], interval=m["interval"], k=m["k"],
               n_participants=m.get("n_participants", np.nan), studies=m["studies"], figure=m["figure"])  # fmt: skip
    est, lo_u, hi_u = m["value"], m["ci_low"], m["ci_high"]
    if pd.isna(lo_u) or pd.isna(hi_u):
        lo_u = hi_u = est
    iv_word = {"range": "range", "ci": "95% CI"}.get(m["interval"], "value")
    if c.rule == "equivalence":
        level = 1 - 2 * cfg["claims"]["equivalence_alpha"]
        lo_u, hi_u = interval_at(m, level)
        iv_word = f"{level:.0%} CI"
    k = int(m["k"]) if pd.notna(m["k"]) else None
    basis = "source value" if k is None else ("one study" if k == 1 else f"pooled, k = {k}")
    verdict, tail = judge(c, est, lo_u, hi_u, cfg, iv_word)
    d = max(c.decimals() + 1, 2)  # shown one decimal finer than the claim is compared at
    interval = f" ({iv_word} {_fmt(lo_u, d)} to {_fmt(hi_u, d)})" if m["interval"] in ("ci", "range") else ""
    got = f"{_what(m, ev)}: {_fmt(est, d)}{interval}"
    caveat = ""
    if c.scope != "study" and k is not None and k < cfg["claims"]["min_k_general"] and verdict != "not_testable":
        caveat = (f" One study cannot establish a claim about ketamine in general (fewer than "
                  f"{cfg['claims']['min_k_general']} studies), so the verdict is inconclusive.")  # fmt: skip
        verdict = "inconclusive"
    df = m.get("df")
    if c.family.startswith("timecourse") and df is not None and pd.notna(df) and df < 4:
        caveat += (
            f" The model's Satterthwaite df ({df:.1f}) are below 4, so its interval cannot be trusted (Tipton 2015)."
        )
        verdict = "inconclusive"
    certainty, why = ("not graded", "")
    if ev is not None:
        certainty, why = grade(c, m, verdict, ev, cfg, SCOPE_FIELDS)
    sure = f" Certainty: {certainty}." if certainty not in ("not graded",) else ""
    reason = f"{got[0].upper()}{got[1:]}; {tail}.{caveat}{sure}"
    return {**row, "basis": basis, "verdict": verdict, "certainty": certainty, "certainty_reasons": why,
            "reason": reason}  # fmt: skip


def _source_verdict(c: Claim, metrics: pd.DataFrame, cfg: dict) -> dict:
    """Does the document report its cited source's own number faithfully? The source's printed
    value (``source_metric``) against the claimed value at the claim's precision; ``within``-type
    rules ask whether the value lies in the claimed range, directional rules whether it clears it."""
    if not c.source_metric:
        return {"source_verdict": "", "source_reason": ""}
    hit = metrics[metrics["metric"] == c.source_metric]
    if hit.empty:
        return {"source_verdict": "not_testable",
                "source_reason": f"the cited source's number ({c.source_metric}) was not read"}  # fmt: skip
    m = hit.iloc[0]
    v = float(m["value"])
    point = Claim(**{**c.__dict__, "rule": "within" if c.rule in ("ratio", "equivalence") else c.rule})
    verdict, tail = judge(point, v, v, v, cfg, "value")
    verdict = {"inconclusive": "contradicted"}.get(verdict, verdict)  # a single printed value cannot straddle
    return {"source_value": v, "source_verdict": verdict,
            "source_reason": f"The cited source prints {_fmt(v)} ({m['description']}); {tail}."}  # fmt: skip


def evaluate_all(claims: list[Claim], metrics: pd.DataFrame, cfg: dict, ev: Evidence | None = None) -> pd.DataFrame:
    return pd.DataFrame([evaluate(c, metrics, cfg, ev) for c in claims], columns=CLAIM_COLUMNS)


def add_robustness(table: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Join the multiverse summary: ``robustness`` is the share of specifications that reproduce
    the claim, ``spec_low``/``spec_high`` the range of their estimates, ``n_specs`` how many ran.
    Claims with no multiverse (arithmetic, single studies, metric none) keep empty cells."""
    cols = ["claim_id", "n_specs", "n_distinct", "n_untestable", "robustness", "spec_low", "spec_high"]
    out = table.drop(columns=[c for c in cols[1:] if c in table]).merge(summary[cols], on="claim_id", how="left")
    return out[[*CLAIM_COLUMNS, *cols[1:]]]


def robustness_text(r) -> str:
    """ "62% of 13 distinct analyses (0.41 to 0.66; 2 untestable)" or "-" without a multiverse."""
    if "robustness" not in r or pd.isna(r.get("robustness")):
        return "-"
    untest = f"; {int(r['n_untestable'])} untestable" if r.get("n_untestable") else ""
    return (f"{r['robustness']:.0%} of {int(r['n_distinct'])} distinct analyses ({_fmt(r['spec_low'])} to "
            f"{_fmt(r['spec_high'])}{untest})")  # fmt: skip


def claims_markdown(table: pd.DataFrame, cfg: dict, documents: dict | None = None, preface: str = "") -> str:
    """A reviewer's Markdown summary: counts by verdict, then one section per document.

    ``documents``: file -> :class:`ketamine_meta.documents.Document` (sections headed by title and
    URL); ``preface``: Markdown put after the introduction (the summary of findings)."""
    from .documents import document

    model = cfg["model"]
    lines = [
        "# Claims checked against the regenerated numbers",
        "",
        f"Model: random effects, τ² by {model['method']}, {model['test']} intervals, level {model['level']}. "
        "Verdicts are interval-aware (`config/README.md`, Verdict rules): reproduced only when the whole interval "
        "supports the claim, contradicted when it excludes it, inconclusive when it straddles it or one study "
        "carries a general claim. Certainty: GRADE-style (risk of bias, inconsistency, imprecision, "
        "indirectness). Cited source: does the document report its source's own number faithfully. "
        "Robustness: share of distinct multiverse analyses that reproduce the claim (`tables/multiverse.csv`).",
        "",
        "| verdict | claims |",
        "|---|---|",
    ]
    counts = table["verdict"].value_counts()
    lines += [f"| {v} | {int(counts.get(v, 0))} |" for v in VERDICTS]
    if preface:
        lines += ["", preface.rstrip("\n")]
    for doc, cell in table.groupby("document", sort=True):
        d = document(doc, documents or {})
        head = f"## {d.title}" + (f" (`{d.file}`)" if d.has_title else "")
        lines += [
            "",
            head,
            *(["", f"<{d.url}>"] if d.url else []),
            "",
            "| claim | quote | claimed | regenerated | verdict | certainty | cited source | robustness | reason |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for _, r in cell.iterrows():
            regen = _fmt(r["regenerated"])
            if r["interval"] in ("ci", "range"):
                regen += f" [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
            quote = str(r["quote"]).replace("|", "\\|").replace("\n", " ")
            reason = str(r["reason"]).replace("|", "\\|")
            robust = robustness_text(r)
            verdict = f"**{r['verdict']}**" + (" (one study)" if r.get("basis") == "one study" else "")
            source = str(r.get("source_verdict") or "-")
            lines.append(f"| `{r['claim_id']}` | {quote} | {r['claimed']} | {regen} | {verdict} | {r['certainty']} | "
                         f"{source} | {robust} | {reason} |")  # fmt: skip
    return "\n".join(lines) + "\n"
