"""The claims registry (``config/claims.yaml``) and the verdict of each claim.

Verdict rules (``rule`` in the registry; ``lo``/``hi`` is the claimed range, a scalar ``c`` with
tolerance ``t`` becomes ``[c - t, c + t]``; ``[L, U]`` is the regenerated interval):

* ``within`` / ``ratio``: reproduced if the estimate lies in ``[lo, hi]``; partly if it does not
  but ``[L, U]`` overlaps ``[lo, hi]``; contradicted if the two do not overlap.
* ``at_least c``: reproduced if estimate >= c; partly if U >= c; else contradicted.
* ``at_most c``: reproduced if estimate <= c; partly if L <= c; else contradicted.
* ``equivalence`` (claims that two things are "about equal"): reproduced only if the whole
  interval lies inside the margin ``[lo, hi]`` (two one-sided tests); partly if the estimate is
  inside but the interval is not, or the interval overlaps the margin; else contradicted.
* ``arithmetic``: the claim's ``expression`` is evaluated; reproduced if within the relative
  tolerance of ``claimed`` (or inside a claimed range), else contradicted.
* metric ``none``, or a metric this extraction has no value for: not_testable.
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

from .errors import ConfigError

RULES = ("within", "at_least", "at_most", "ratio", "arithmetic", "equivalence")
VERDICTS = ("reproduced", "partly", "contradicted", "not_testable")
REQUIRED = ("claim_id", "document", "section", "quote", "metric", "claimed", "rule")
OPTIONAL = ("tolerance", "expression", "needs", "central", "notes")

_T = r"[a-z0-9_]+"
METRIC_PATTERNS = {
    "pooled": re.compile(rf"^pooled\.{_T}\.{_T}\.{_T}\.{_T}$"),
    "rate": re.compile(rf"^rate\.{_T}\.(ketamine|control|single_arm)\.{_T}\.{_T}$"),
    "ratio": re.compile(rf"^ratio\.smd_vs_ssri\.{_T}\.{_T}$"),
    "route_diff": re.compile(rf"^route_diff\.{_T}\.{_T}\.{_T}\.{_T}_vs_{_T}$"),
    "route_test": re.compile(rf"^route_test\.{_T}\.{_T}\.{_T}$"),
    "relapse": re.compile(rf"^relapse\.proportion\.{_T}\.{_T}$"),
    "relapse_days": re.compile(rf"^relapse\.median_days\.{_T}$"),
    "reference": re.compile(rf"^reference\.{_T}$"),
    "nnt": re.compile(rf"^nnt\.{_T}\.{_T}\.{_T}$"),
    "moderator_diff": re.compile(rf"^moderator_diff\.{_T}\.{_T}\.{_T}\.{_T}\.{_T}_vs_{_T}$"),
    "moderator_test": re.compile(rf"^moderator_test\.{_T}\.{_T}\.{_T}\.{_T}$"),
    "dose_slope": re.compile(rf"^dose_slope\.{_T}\.{_T}\.{_T}$"),
    "timecourse_effect": re.compile(rf"^timecourse\.effect\.{_T}\.{_T}$"),
    "timecourse_hours": re.compile(rf"^timecourse\.(first_distinguishable|peak|last_distinguishable)\.{_T}$"),
    "study": re.compile(rf"^study\.[a-z]+[0-9]{{4}}[a-z]?\.{_T}\.(ketamine|control|single_arm)\.{_T}$"),
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
    "studies",
    "verdict",
    "reason",
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

    @property
    def family(self) -> str:
        return metric_family(self.metric) or ""

    def claimed_text(self) -> str:
        if isinstance(self.claimed, tuple):
            return f"[{self.claimed[0]:g}, {self.claimed[1]:g}]"
        return f"{self.claimed:g}"


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
            problems.append(f"{where}: unknown field(s) {unknown} (allowed: {list(REQUIRED + OPTIONAL)})")
        if missing:
            continue
        if entry["claim_id"] in seen:
            problems.append(f"{where}, field 'claim_id': duplicate id")
        seen.add(entry["claim_id"])
        if entry["rule"] not in RULES:
            problems.append(f"{where}, field 'rule': unknown rule '{entry['rule']}' (use one of {RULES})")
        if metric_family(str(entry["metric"])) is None:
            problems.append(
                f"{where}, field 'metric': unknown metric '{entry['metric']}'"
                " (see config/README.md for the key grammar)"
            )
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


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "NA"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def judge(c: Claim, est: float, lo_u: float, hi_u: float, cfg: dict, iv_word: str = "CI") -> tuple[str, str]:
    """Verdict of a non-arithmetic claim given the regenerated estimate and interval ``[lo_u, hi_u]``
    (pass ``lo_u = hi_u = est`` when there is no interval), and the clause that explains it."""
    if c.rule == "equivalence":
        # "about equal": the whole interval must sit inside the margin (two one-sided tests)
        lo, hi = _range(c, cfg)
        target = f"the equivalence margin {_fmt(lo)} to {_fmt(hi)}"
        if lo <= lo_u and hi_u <= hi:
            return "reproduced", f"and its {iv_word} lies inside {target}"
        if lo <= est <= hi:
            return "partly", f"inside {target}, but its {iv_word} extends beyond it (equivalence not shown)"
        if lo_u <= hi and hi_u >= lo:
            return "partly", f"outside {target}, but its {iv_word} overlaps it"
        return "contradicted", f"and its {iv_word} lies entirely outside {target}"
    if c.rule in ("within", "ratio"):
        lo, hi = _range(c, cfg)
        target = f"the claimed {_fmt(lo)}-{_fmt(hi)}"
        if lo <= est <= hi:
            return "reproduced", f"inside {target}"
        if lo_u <= hi and hi_u >= lo:
            return "partly", f"outside {target} but its {iv_word} overlaps it"
        return "contradicted", f"and its {iv_word} lies entirely outside {target}"
    if c.rule == "at_least":
        if est >= c.claimed:
            return "reproduced", f"at least the claimed {_fmt(c.claimed)}"
        if hi_u >= c.claimed:
            return "partly", f"below the claimed {_fmt(c.claimed)} but its {iv_word} reaches it"
        return "contradicted", f"and its {iv_word} lies below the claimed {_fmt(c.claimed)}"
    if est <= c.claimed:  # at_most
        return "reproduced", f"at most the claimed {_fmt(c.claimed)}"
    if lo_u <= c.claimed:
        return "partly", f"above the claimed {_fmt(c.claimed)} but its {iv_word} reaches it"
    return "contradicted", f"and its {iv_word} lies above the claimed {_fmt(c.claimed)}"


def evaluate(c: Claim, metrics: pd.DataFrame, cfg: dict) -> dict:
    """One row of ``claims.csv`` for claim ``c``."""
    row = {
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
        "interval": "",
        "k": np.nan,
        "studies": "",
        "figure": "",
        "central": c.central,
    }
    if c.rule == "arithmetic":
        value = safe_eval(c.expression)
        row.update(regenerated=value, interval="none")
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
        return {
            **row,
            "verdict": "not_testable",
            "reason": "No metric in this pipeline answers it; needs: "
            f"{(c.needs or 'data not specified').rstrip('. ')}.",
        }
    hit = metrics[metrics["metric"] == c.metric]
    if hit.empty:
        # point the reviewer at what the extraction does have for the same question
        stem = c.metric.rsplit(".", 1)[0] + "."
        near = sorted(m for m in metrics["metric"] if m.startswith(stem))[:4]
        also = f" Available nearby: {', '.join(near)}." if near else ""
        return {
            **row,
            "verdict": "not_testable",
            "reason": f"No data for {c.metric} in this extraction (k = 0); it needs studies reporting that "
            f"outcome, route and time.{also}",
        }
    m = hit.iloc[0]
    row.update(
        regenerated=m["value"],
        ci_low=m["ci_low"],
        ci_high=m["ci_high"],
        interval=m["interval"],
        k=m["k"],
        studies=m["studies"],
        figure=m["figure"],
    )
    est, lo_u, hi_u = m["value"], m["ci_low"], m["ci_high"]
    if pd.isna(lo_u) or pd.isna(hi_u):
        lo_u = hi_u = est
    if pd.notna(m["k"]):
        what = f"{m['description']} (k = {int(m['k'])}: {str(m['studies']).replace(';', ', ')})"
    else:  # a number read from a source rather than pooled from studies
        what = str(m["description"])
    interval = f" [{_fmt(lo_u)}, {_fmt(hi_u)}]" if m["interval"] in ("ci", "range") else ""
    iv_word = {"range": "range", "ci": "CI"}.get(m["interval"], "value")  # "value": no interval to speak of
    got = f"{what} is {_fmt(est)}{interval}"
    verdict, tail = judge(c, est, lo_u, hi_u, cfg, iv_word)
    return {**row, "verdict": verdict, "reason": f"{got[0].upper()}{got[1:]}, {tail}."}


def add_robustness(table: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Join the multiverse summary: ``robustness`` is the share of specifications that reproduce
    the claim, ``spec_low``/``spec_high`` the range of their estimates, ``n_specs`` how many ran.
    Claims with no multiverse (arithmetic, single studies, metric none) keep empty cells."""
    cols = ["claim_id", "n_specs", "robustness", "spec_low", "spec_high"]
    out = table.drop(columns=[c for c in cols[1:] if c in table]).merge(summary[cols], on="claim_id", how="left")
    return out[[*CLAIM_COLUMNS, *cols[1:]]]


def evaluate_all(claims: list[Claim], metrics: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    return pd.DataFrame([evaluate(c, metrics, cfg) for c in claims], columns=CLAIM_COLUMNS)


def robustness_text(r) -> str:
    """ "62% of 432 (0.41-0.66)" or "-" when the claim has no multiverse."""
    if "robustness" not in r or pd.isna(r.get("robustness")):
        return "-"
    return f"{r['robustness']:.0%} of {int(r['n_specs'])} ({_fmt(r['spec_low'])} to {_fmt(r['spec_high'])})"


def claims_markdown(table: pd.DataFrame, cfg: dict) -> str:
    """A reviewer's Markdown summary: counts by verdict, then one section per document."""
    model = cfg["model"]
    lines = [
        "# Claims checked against the regenerated numbers",
        "",
        f"Model: random effects, τ² by {model['method']}, {model['test']} intervals, level {model['level']}. "
        "Verdict rules: see `config/README.md`. Robustness: share of multiverse specifications that reproduce "
        "the claim, and the range of their estimates (`tables/multiverse.csv`).",
        "",
        "| verdict | claims |",
        "|---|---|",
    ]
    counts = table["verdict"].value_counts()
    lines += [f"| {v} | {int(counts.get(v, 0))} |" for v in VERDICTS]
    for doc, cell in table.groupby("document", sort=True):
        lines += [
            "",
            f"## {doc}",
            "",
            "| claim | quote | claimed | regenerated | verdict | robustness | reason |",
            "|---|---|---|---|---|---|---|",
        ]
        for _, r in cell.iterrows():
            regen = _fmt(r["regenerated"])
            if r["interval"] in ("ci", "range"):
                regen += f" [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
            quote = str(r["quote"]).replace("|", "\\|").replace("\n", " ")
            reason = str(r["reason"]).replace("|", "\\|")
            robust = robustness_text(r)
            lines.append(
                f"| `{r['claim_id']}` | {quote} | {r['claimed']} | {regen} | **{r['verdict']}** | {robust} | {reason} |"
            )
    return "\n".join(lines) + "\n"
