"""Claim verdicts: each rule's boundaries, arithmetic, absent data, registry validation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers import make_config

from ketamine_meta.claims import Claim, evaluate, load_claims, safe_eval
from ketamine_meta.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def _metrics(value, lo, hi, metric="rate.response.ketamine.all.h24", interval="ci"):
    return pd.DataFrame(
        [
            {
                "metric": metric,
                "value": value,
                "ci_low": lo,
                "ci_high": hi,
                "interval": interval,
                "k": 3,
                "studies": "a2001;b2002;c2003",
                "analysis_id": "x",
                "unit": "proportion",
                "description": "pooled response rate",
                "figure": "figures/x.png",
            }
        ]
    )


def _claim(rule, claimed, metric="rate.response.ketamine.all.h24", **kw):
    return Claim(
        claim_id="c", document="d.txt", section="s", quote="q", metric=metric, claimed=claimed, rule=rule, **kw
    )


@pytest.mark.parametrize(
    "rule,claimed,value,lo,hi,verdict",
    [
        ("within", (0.4, 0.6), 0.52, 0.37, 0.67, "reproduced"),
        ("within", (0.4, 0.6), 0.65, 0.55, 0.75, "partly"),
        ("within", (0.4, 0.6), 0.80, 0.70, 0.90, "contradicted"),
        ("within", (0.4, 0.6), 0.40, 0.30, 0.50, "reproduced"),  # boundary counts as inside
        ("at_least", 0.5, 0.50, 0.4, 0.6, "reproduced"),
        ("at_least", 0.5, 0.45, 0.3, 0.55, "partly"),
        ("at_least", 0.5, 0.30, 0.2, 0.45, "contradicted"),
        ("at_most", 0.1, 0.08, 0.05, 0.12, "reproduced"),
        ("at_most", 0.1, 0.20, 0.04, 0.58, "partly"),
        ("at_most", 0.1, 0.30, 0.20, 0.40, "contradicted"),
        ("ratio", (2.0, 3.0), 1.9, 1.2, 2.6, "partly"),
    ],
)
def test_rules(rule, claimed, value, lo, hi, verdict):
    row = evaluate(_claim(rule, claimed), _metrics(value, lo, hi), make_config())
    assert row["verdict"] == verdict
    assert row["regenerated"] == value and row["k"] == 3
    assert "a2001, b2002, c2003" in row["reason"]


def test_scalar_within_uses_default_tolerance_of_the_family():
    cfg = make_config()
    tol = cfg["claims"]["default_tolerance"]["rate"]
    inside = evaluate(_claim("within", 0.5), _metrics(0.5 + tol * 0.9, 0.4, 0.7), cfg)
    outside = evaluate(_claim("within", 0.5), _metrics(0.5 + tol * 1.1, 0.52, 0.7), cfg)
    assert (inside["verdict"], outside["verdict"]) == ("reproduced", "partly")


def test_arithmetic_claims_are_checked_as_arithmetic():
    cfg = make_config()
    bad = evaluate(_claim("arithmetic", 3.0, metric="arithmetic", expression="8 * 35 / 1000"), _metrics(0, 0, 0), cfg)
    good = evaluate(_claim("arithmetic", 4800.0, metric="arithmetic", expression="6 * 800"), _metrics(0, 0, 0), cfg)
    assert (bad["verdict"], bad["regenerated"]) == ("contradicted", pytest.approx(0.28))
    assert (good["verdict"], good["regenerated"]) == ("reproduced", 4800.0)


def test_absent_metric_is_not_testable_and_points_to_neighbours():
    m = _metrics(0.6, 0.5, 0.7, metric="study.zarate2006.response.ketamine.any_time")
    row = evaluate(_claim("within", (0.66, 0.76), metric="study.zarate2006.response.ketamine.h24"), m, make_config())
    assert row["verdict"] == "not_testable"
    assert "study.zarate2006.response.ketamine.any_time" in row["reason"]


def test_safe_eval_refuses_names_and_calls():
    assert safe_eval("(6 * 800) / 2 ** 2") == 1200
    with pytest.raises(ValueError):
        safe_eval("__import__('os').system('true')")


def test_registry_rejects_unknown_metric_and_rule(tmp_path):
    p = tmp_path / "claims.yaml"
    p.write_text(
        "claims:\n"
        "  - {claim_id: a, document: d, section: s, quote: q, metric: pooled.depression.smd.all,"
        " claimed: 1, rule: within}\n"
        "  - {claim_id: b, document: d, section: s, quote: q, metric: none, claimed: 1, rule: roughly}\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_claims(p)
    msg = str(exc.value)
    assert "claim #1 (a), field 'metric': unknown metric" in msg
    assert "claim #2 (b), field 'rule': unknown rule 'roughly'" in msg


def test_shipped_registry_is_valid_and_quotes_are_verbatim():
    seeds = ROOT.parent / "shared" / "seeds"
    claims = load_claims(ROOT / "config" / "claims.yaml", seeds_dir=seeds if seeds.is_dir() else None)
    ids = [c.claim_id for c in claims]
    assert len(ids) == len(set(ids)) >= 30
    central = {c.metric for c in claims if c.central}
    assert {
        "rate.response.ketamine.all.h24",
        "rate.response.control.all.h24",
        "pooled.depression.smd.all.h24",
        "ratio.smd_vs_ssri.all.h24",
        "relapse.proportion.none.w4",
        "relapse.median_days.none",
        "study.zarate2006.response.ketamine.h24",
    } <= central


@pytest.mark.parametrize(
    "value,lo,hi,verdict",
    [
        (0.0, -0.1, 0.1, "reproduced"),  # the whole CI inside the +-0.2 margin
        (-0.01, -0.53, 0.51, "partly"),  # estimate inside, CI far beyond: equivalence not shown
        (0.3, 0.1, 0.5, "partly"),  # estimate outside, CI overlaps the margin
        (0.6, 0.3, 0.9, "contradicted"),
    ],
)
def test_equivalence_needs_the_whole_interval_inside_the_margin(value, lo, hi, verdict):
    c = _claim("equivalence", 0.0, metric="route_diff.depression.smd.h24.intranasal_vs_iv", tolerance=0.2)
    m = _metrics(value, lo, hi, metric="route_diff.depression.smd.h24.intranasal_vs_iv")
    assert evaluate(c, m, make_config())["verdict"] == verdict
