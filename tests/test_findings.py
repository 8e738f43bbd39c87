"""Summary of findings: numbers for people, one plain sentence per verdict, the Markdown table."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import ROOT

from ketamine_meta.data.documents import Document
from ketamine_meta.outputs import findings

RESULTS = ROOT / "results"


@pytest.mark.parametrize(
    ("x", "unit", "text"),
    [(0.5206636967, "proportion", "52%"), (0.0158, "proportion", "2%"), (1.903088818, "ratio", "1.90"),
     (-0.0316785321, "smd", "−0.03"), (0.004, "smd", "0.004"), (759.0, "patients", "759"), (12345.0, "", "12,345"),
     (float("nan"), "smd", ""), (float("inf"), "", "∞")],
)  # fmt: skip
def test_human_numbers(x, unit, text):
    assert findings.human(x, unit) == text


def test_claimed_text_as_the_document_meant_it():
    assert findings.claimed_text(0.4, 0.6, "within", "proportion") == "40% to 60%"
    assert findings.claimed_text(2, 3, "ratio", "ratio") == "2 to 3"
    assert findings.claimed_text(0.1, 0.1, "at_most", "proportion") == "at most 10%"
    assert findings.claimed_text(0.2, 0.2, "at_least", "smd") == "at least 0.2"
    assert findings.claimed_text(0, 0, "equivalence", "smd") == "about equal"


def row(**kw):
    base = {"claim_id": "c", "document": "d.txt", "quote": "q", "metric": "pooled.depression.smd.all.h24",
            "claimed": "[0.6, 1]", "claimed_low": 0.6, "claimed_high": 1.0,
            "rule": "within", "regenerated": 0.59, "ci_low": 0.34, "ci_high": 0.84,
            "interval": "ci", "k": 7, "n_participants": 759, "basis": "pooled, k = 7", "verdict": "inconclusive",
            "certainty": "low", "central": True}  # fmt: skip
    return pd.Series({**base, **kw})


def test_plain_sentence_per_verdict():
    s = findings.plain_sentence(row(), "smd")
    assert s == (
        "Neither confirmed nor ruled out: the trials give 0.59 (95% CI 0.34 to 0.84) from 7 studies "
        "(759 participants); the interval reaches both values that fit and values that do not fit the claimed 0.6 to 1."
    )
    assert findings.plain_sentence(row(verdict="reproduced"), "smd").startswith("Supported: the trials give 0.59")
    assert "excludes the claimed 0.6 to 1" in findings.plain_sentence(row(verdict="contradicted"), "smd")
    one = findings.plain_sentence(row(k=1, n_participants=40, basis="one study"), "smd")
    assert "from 1 study (40 participants)" in one and "a single study cannot establish it" in one
    none = findings.plain_sentence(row(verdict="not_testable", regenerated=float("nan")), "smd")
    assert none == (
        "Not testable with the extracted trials: none of them reports the number this claim needs "
        "(pooled.depression.smd.all.h24)."
    )
    assert "90% CI" in findings.plain_sentence(row(), "smd", level=0.9)


def test_summary_of_findings_from_the_committed_claims():
    claims = pd.read_csv(RESULTS / "claims.csv", dtype={"claimed": str})
    metrics = pd.read_csv(RESULTS / "tables" / "metrics.csv")
    url = "https://www.astralcodexten.com/p/peer-review-request-ketamine"
    docs = {"001_f5702f10357af7c1.txt": Document("001_f5702f10357af7c1.txt", "Peer Review Request: Ketamine", url=url)}
    rows = findings.summary_of_findings(claims, metrics, docs)
    assert [r["claim_id"] for r in rows] == list(claims.loc[claims["central"], "claim_id"])
    by_id = {r["claim_id"]: r for r in rows}
    g = by_id["d001_effect_size_0_6_to_1_0"]
    c = claims.set_index("claim_id").loc["d001_effect_size_0_6_to_1_0"]
    assert g["regenerated"] == f"{c['regenerated']:.2f} (95% CI {c['ci_low']:.2f} to {c['ci_high']:.2f})"
    assert (g["k"], g["participants"], g["verdict"]) == (str(int(c["k"])), f"{int(c['n_participants'])}", c["verdict"])
    assert g["document"].title == "Peer Review Request: Ketamine"
    zarate = by_id["d004_zarate2006_response_71pct"]  # one study's proportion, 12/17 at 24 h
    assert zarate["claimed"] == "71%" and zarate["regenerated"].startswith("71% (95% CI 47% to 87%)")
    assert zarate["document"].title == "004_5ed91d09eb81fc41.txt"  # no entry in this mapping: the file name
    md = findings.findings_markdown(rows)
    assert "[Peer Review Request: Ketamine](https://www.astralcodexten.com/p/peer-review-request-ketamine)" in md
    assert md.count("\n| ") == len(rows) + 1 and "`d001_effect_size_0_6_to_1_0`" in md
