"""Verdicts: each claim's regenerated number, interval, basis and certainty, judged by the rules
written in config/README.md ('Verdict rules') before they were applied.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ketamine_meta.claims.certainty import Evidence, grade
from ketamine_meta.claims.registry import CLAIM_COLUMNS, SCOPE_FIELDS, Claim, claimed_range, safe_eval
from ketamine_meta.core.settings import Config


def fmt(x: float, decimals: int | None = None) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "NA"
    if decimals is not None and abs(x) < 1000:
        return f"{x:.{max(decimals, 0)}f}"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def judge(c: Claim, est: float, lo_u: float, hi_u: float, cfg: Config, iv_word: str = "CI") -> tuple[str, str]:
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
    f = lambda x: fmt(x, d)  # noqa: E731
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
        a, b = claimed_range(c, cfg)
        target = f"the equivalence margin {f(a)} to {f(b)}"
        if a <= lo and hi <= b:
            return "reproduced", f"{its} lies inside {target} (two one-sided tests)"
        if hi < a or lo > b:
            return "contradicted", f"{its} lies wholly outside {target}"
        return "inconclusive", f"{its} extends beyond {target}, so equivalence is not shown"
    if c.rule in ("within", "ratio"):
        a, b = claimed_range(c, cfg)
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
    crit = special.stdtrit(df, q) if df is not None and pd.notna(df) and df > 0 else special.ndtri(q)
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


def evaluate(c: Claim, metrics: pd.DataFrame, cfg: Config, ev: Evidence | None = None) -> dict:
    """One row of ``claims.csv`` for claim ``c``."""
    row = {col: "" for col in CLAIM_COLUMNS} | {
        "claim_id": c.claim_id,
        "document": c.document,
        "section": c.section,
        "quote": c.quote,
        "metric": c.metric,
        "claimed": c.claimed_text(),
        "claimed_low": c.claimed_bounds()[0],
        "claimed_high": c.claimed_bounds()[1],
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
            tol = c.tolerance if c.tolerance is not None else cfg.claims.arithmetic_rel_tolerance
            ok = abs(value - c.claimed) <= tol * abs(c.claimed)
            bound = f"{fmt(c.claimed)} (relative tolerance {tol:g})"
        verdict = "reproduced" if ok else "contradicted"
        fit = "consistent with" if ok else "not consistent with"
        reason = f"Arithmetic {c.expression} = {fmt(value)}, {fit} the claimed {bound}."
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
        level = 1 - 2 * cfg.claims.equivalence_alpha
        lo_u, hi_u = interval_at(m, level)
        iv_word = f"{level:.0%} CI"
    k = int(m["k"]) if pd.notna(m["k"]) else None
    basis = "source value" if k is None else ("one study" if k == 1 else f"pooled, k = {k}")
    verdict, tail = judge(c, est, lo_u, hi_u, cfg, iv_word)
    d = max(c.decimals() + 1, 2)  # shown one decimal finer than the claim is compared at
    interval = f" ({iv_word} {fmt(lo_u, d)} to {fmt(hi_u, d)})" if m["interval"] in ("ci", "range") else ""
    got = f"{_what(m, ev)}: {fmt(est, d)}{interval}"
    caveat = ""
    if c.scope != "study" and k is not None and k < cfg.claims.min_k_general and verdict != "not_testable":
        caveat = (f" One study cannot establish a claim about ketamine in general (fewer than "
                  f"{cfg.claims.min_k_general} studies), so the verdict is inconclusive.")  # fmt: skip
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


def _source_verdict(c: Claim, metrics: pd.DataFrame, cfg: Config) -> dict:
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
            "source_reason": f"The cited source prints {fmt(v)} ({m['description']}); {tail}."}  # fmt: skip


def evaluate_all(claims: list[Claim], metrics: pd.DataFrame, cfg: Config, ev: Evidence | None = None) -> pd.DataFrame:
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
    return (f"{r['robustness']:.0%} of {int(r['n_distinct'])} distinct analyses ({fmt(r['spec_low'])} to "
            f"{fmt(r['spec_high'])}{untest})")  # fmt: skip
