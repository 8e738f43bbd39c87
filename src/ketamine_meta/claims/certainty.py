"""Certainty of the evidence behind a verdict, in the spirit of GRADE as Cochrane summary-of-findings
tables use it (Guyatt et al. 2011, GRADE guidelines 4-8; Cochrane Handbook chapter 14).

Evidence from randomized trials starts at ``high``; evidence resting mainly on single-arm series or
observational follow-ups starts at ``low``. Each domain may downgrade it, with the reason recorded;
the thresholds are config values (``claims.certainty``) fixed before any result was seen:

* risk of bias: a study is at high risk when any of its key domains in ``risk_of_bias.csv``
  (sequence generation, allocation concealment, blinding of participants/personnel or of outcome
  assessment, incomplete outcome data, functional unblinding) is ``high``. One level down when at
  least ``rob_high_share`` of the studies are at high risk, or when most studies were never assessed.
* inconsistency: one level when I² >= ``i2_serious``, two when I² >= ``i2_very_serious`` (k >= 2).
* imprecision: one level when the interval crosses the claim's threshold (the verdict is
  inconclusive), one more when fewer than ``ois_participants`` took part (GRADE's optimal
  information size rule of thumb); at most two.
* indirectness: one level per scope dimension (population, route, drug, control, dosing) in which at
  least ``indirect_share`` of the studies fall outside what the claim is about; at most two.
* publication bias: not assessable below ``pubbias_min_k`` studies (said, not downgraded); from
  there one level when Egger's regression test (``tables/regtest.csv``) gives p < 0.10.

Studies count equally in the shares (their weights differ by analysis; the share of studies is
what a reader can check against the forest plot's study list).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd

from ketamine_meta.core.settings import Config

LEVELS = ("very low", "low", "moderate", "high")
KEY_ROB_DOMAINS = (
    "sequence_generation",
    "allocation_concealment",
    "blinding_participants_personnel",
    "blinding_outcome_assessment",
    "incomplete_outcome_data",
    "functional_unblinding",
)


@dataclass(frozen=True)
class Evidence:
    """What the certainty rules read besides the metric: the studies table (indexed by
    ``study_id``) and the risk-of-bias judgements (may be empty)."""

    studies: pd.DataFrame
    risk_of_bias: pd.DataFrame
    regtest: pd.DataFrame | None = None

    @classmethod
    def from_tables(cls, studies: pd.DataFrame, rob: pd.DataFrame | None, regtest: pd.DataFrame | None = None):
        rob = rob if rob is not None else pd.DataFrame(columns=["study_id", "domain", "judgement"])
        return cls(studies.set_index("study_id"), rob, regtest)

    def overall_rob(self, study: str) -> str:
        """``high`` if any key domain is high, ``unclear`` if any is unclear, ``low`` if all are
        low, ``not assessed`` when the study has no judgement at all."""
        return self._overall.get(study, "not assessed")

    @functools.cached_property
    def _overall(self) -> dict[str, str]:
        # every study's overall judgement at once: grade() asks for each study of each claim
        j = self.risk_of_bias[self.risk_of_bias["domain"].isin(KEY_ROB_DOMAINS)]
        if "assessor" in j:
            # one judgement per domain: a Cochrane review's over another review's over the project's
            rank = j["assessor"].map(lambda a: 0 if a.startswith("cochrane") or "cochrane" in a else
                                     (1 if a.startswith("other_review") else 2))  # fmt: skip
            j = j.assign(_r=rank).sort_values(["study_id", "domain", "_r"], kind="stable")
            j = j.drop_duplicates(["study_id", "domain"])
        out = {}
        for study, judged in j.groupby("study_id", sort=False)["judgement"]:
            values = set(judged)
            out[study] = "high" if "high" in values else ("unclear" if "unclear" in values else "low")
        return out


def _scope_mismatch(claim, studies: list[str], ev: Evidence, scope_fields: dict) -> list[tuple[str, float]]:
    out = []
    cols = {"population": "population", "route": "route", "drug": "drug", "control": "control", "dosing": "dosing"}
    known = [s for s in studies if s in ev.studies.index]
    if not known:
        return out
    for field, col in cols.items():
        want = getattr(claim, field, None)
        if want in (None, "any"):
            continue
        allowed = scope_fields[field][want]
        share = sum(ev.studies.loc[s, col] not in allowed for s in known) / len(known)
        if share > 0:
            out.append((f"{field} {want}", share))
    return out


def grade(claim, m: pd.Series, verdict: str, ev: Evidence, cfg: Config, scope_fields: dict) -> tuple[str, str]:
    """(level, reasons) for one tested claim; ``m`` is its metrics row."""
    t = cfg.claims.certainty
    raw = m.get("studies")
    studies = [s for s in ("" if raw is None or pd.isna(raw) else str(raw)).split(";") if s]
    if not studies:
        return "not graded", "a number read from a source, not pooled from trials"
    known = [s for s in studies if s in ev.studies.index]
    st = ev.studies
    randomized = [s for s in known if bool(st.loc[s, "randomized"]) and st.loc[s, "design"] != "single_arm"]
    start = 3 if known and len(randomized) >= len(known) / 2 else 1
    reasons = [f"starts {LEVELS[start]} ({'randomized trials' if start == 3 else 'mostly non-randomized series'})"]
    down = 0
    # risk of bias
    overall = {s: ev.overall_rob(s) for s in known}
    n = max(len(known), 1)
    high = sum(v == "high" for v in overall.values()) / n
    unassessed = sum(v == "not assessed" for v in overall.values()) / n
    if start == 3 and high >= t.rob_high_share:
        down += 1
        reasons.append(f"risk of bias -1: {high:.0%} of studies at high risk in a key domain")
    elif start == 3 and unassessed > 0.5:
        down += 1
        reasons.append(f"risk of bias -1: {unassessed:.0%} of studies not assessed")
    # inconsistency
    i2, k = m.get("i2"), m.get("k")
    if k is not None and pd.notna(k) and k >= 2 and i2 is not None and pd.notna(i2):
        if i2 >= t.i2_very_serious:
            down += 2
            reasons.append(f"inconsistency -2: I² {i2:.0f}%")
        elif i2 >= t.i2_serious:
            down += 1
            reasons.append(f"inconsistency -1: I² {i2:.0f}%")
    # imprecision
    imp = []
    if verdict == "inconclusive":
        imp.append("the interval crosses the claim's threshold")
    npart = m.get("n_participants")
    if npart is not None and pd.notna(npart) and npart < t.ois_participants:
        imp.append(f"{npart:.0f} participants < {t.ois_participants:.0f}")
    if imp:
        down += min(len(imp), 2)
        reasons.append(f"imprecision -{min(len(imp), 2)}: " + "; ".join(imp))
    # indirectness
    mism = [(f, sh) for f, sh in _scope_mismatch(claim, known, ev, scope_fields) if sh >= t.indirect_share]
    if mism:
        down += min(len(mism), 2)
        reasons.append(f"indirectness -{min(len(mism), 2)}: " + "; ".join(f"{sh:.0%} of studies outside {f}"
                                                                          for f, sh in mism))  # fmt: skip
    if k is not None and pd.notna(k) and k < t.pubbias_min_k:
        reasons.append(f"publication bias not assessable (k < {t.pubbias_min_k})")
    elif ev.regtest is not None and len(ev.regtest) and m.get("analysis_id"):
        hit = ev.regtest[ev.regtest["analysis_id"] == m["analysis_id"]]
        p = float(hit["pval"].iloc[0]) if len(hit) else float("nan")
        if p == p and p < 0.10:  # Egger's test at the 10% level (Sterne et al. 2011)
            down += 1
            reasons.append(f"publication bias -1: Egger's test p = {p:.3f}")
        elif p == p:
            reasons.append(f"publication bias not suspected (Egger's test p = {p:.2f})")
    level = LEVELS[max(start - down, 0)]
    return level, "; ".join(reasons)
