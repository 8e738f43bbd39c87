"""Claim verdicts: each rule's boundaries, arithmetic, absent data, registry validation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers import make_settings

from ketamine_meta.claims.registry import Claim, load_claims, safe_eval
from ketamine_meta.claims.verdicts import evaluate
from ketamine_meta.core.errors import ConfigError

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
        # within: the whole interval inside the range (at the claim's precision: rates to 0.01)
        ("within", (0.4, 0.6), 0.52, 0.45, 0.58, "reproduced"),
        ("within", (0.4, 0.6), 0.52, 0.37, 0.67, "inconclusive"),  # estimate inside, CI straddles
        ("within", (0.4, 0.6), 0.65, 0.55, 0.75, "inconclusive"),
        ("within", (0.4, 0.6), 0.80, 0.70, 0.90, "contradicted"),
        ("within", (0.4, 0.6), 0.50, 0.40, 0.60, "reproduced"),  # boundaries count as inside
        ("within", (0.4, 0.6), 0.50, 0.396, 0.604, "reproduced"),  # 0.396 is 0.40 at the claim's precision
        ("within", (0.4, 0.6), 0.50, 0.394, 0.60, "inconclusive"),  # 0.394 is 0.39: just outside
        # at_least / at_most: the whole interval must clear the threshold
        ("at_least", 0.5, 0.60, 0.50, 0.70, "reproduced"),  # just inside
        ("at_least", 0.5, 0.60, 0.49, 0.70, "inconclusive"),  # just outside: straddles
        ("at_least", 0.5, 0.45, 0.30, 0.55, "inconclusive"),
        ("at_least", 0.5, 0.30, 0.20, 0.49, "contradicted"),
        ("at_most", 0.1, 0.08, 0.05, 0.10, "reproduced"),
        ("at_most", 0.1, 0.08, 0.05, 0.12, "inconclusive"),  # the interval includes values above 0.1
        ("at_most", 0.1, 0.20, 0.04, 0.58, "inconclusive"),
        ("at_most", 0.1, 0.30, 0.11, 0.40, "contradicted"),
        # direction ("works"): the interval must exclude the null
        ("direction", 0.0, 0.70, 0.10, 1.30, "reproduced"),
        ("direction", 0.0, 0.70, -1.65, 3.05, "inconclusive"),  # d002_onset_40min_iv in session 1
        ("direction", 0.0, -0.50, -0.90, -0.10, "contradicted"),
        ("ratio", (2.0, 3.0), 1.9, 1.2, 2.6, "inconclusive"),
        ("ratio", (2.0, 3.0), 2.4, 2.1, 2.9, "reproduced"),
    ],
)
def test_rules(rule, claimed, value, lo, hi, verdict):
    metric = "rate.response.ketamine.all.h24" if rule in ("within", "at_least", "at_most") else "pooled.x.smd.all.h24"
    if rule == "ratio":
        metric = "ratio.smd_vs_ssri.all.h24"
    row = evaluate(_claim(rule, claimed, metric=metric), _metrics(value, lo, hi, metric=metric), make_settings())
    assert row["verdict"] == verdict
    assert row["regenerated"] == value and row["k"] == 3
    assert "a2001, b2002, c2003" in row["reason"]


def test_claim_precision_rounds_before_comparing():
    cfg = make_settings()
    c = _claim("within", (0.6, 1.0), metric="pooled.x.smd.all.h24")
    assert c.decimals() == 1
    # 0.595 is "0.6" at the claim's precision; 0.64-0.96 rounds inside, 0.54 rounds to 0.5 outside
    assert evaluate(c, _metrics(0.595, 0.64, 0.96, metric=c.metric), cfg)["verdict"] == "reproduced"
    assert evaluate(c, _metrics(0.595, 0.54, 0.96, metric=c.metric), cfg)["verdict"] == "inconclusive"


def test_one_study_cannot_reproduce_a_general_claim():
    cfg = make_settings()
    m = _metrics(0.6, 0.5, 0.7, metric="pooled.x.smd.all.h24").assign(k=1, studies="a2001")
    general = evaluate(_claim("direction", 0.0, metric="pooled.x.smd.all.h24"), m, cfg)
    study = evaluate(_claim("direction", 0.0, metric="pooled.x.smd.all.h24", scope="study"), m, cfg)
    assert (general["verdict"], study["verdict"]) == ("inconclusive", "reproduced")
    assert general["basis"] == "one study" and "one study" in general["reason"].lower()


def test_scalar_within_uses_default_tolerance_of_the_family():
    cfg = make_settings()
    tol = cfg.claims.default_tolerance["rate"]
    inside = evaluate(_claim("within", 0.5), _metrics(0.5, 0.5 - tol * 0.8, 0.5 + tol * 0.8), cfg)
    outside = evaluate(_claim("within", 0.5), _metrics(0.5, 0.5 - tol * 1.5, 0.5 + tol * 0.8), cfg)
    assert (inside["verdict"], outside["verdict"]) == ("reproduced", "inconclusive")


def test_arithmetic_claims_are_checked_as_arithmetic():
    cfg = make_settings()
    bad = evaluate(_claim("arithmetic", 3.0, metric="arithmetic", expression="8 * 35 / 1000"), _metrics(0, 0, 0), cfg)
    good = evaluate(_claim("arithmetic", 4800.0, metric="arithmetic", expression="6 * 800"), _metrics(0, 0, 0), cfg)
    assert (bad["verdict"], bad["regenerated"]) == ("contradicted", pytest.approx(0.28))
    assert (good["verdict"], good["regenerated"]) == ("reproduced", 4800.0)


def test_absent_metric_is_not_testable_and_points_to_neighbours():
    m = _metrics(0.6, 0.5, 0.7, metric="study.zarate2006.response.ketamine.any_time")
    row = evaluate(_claim("within", (0.66, 0.76), metric="study.zarate2006.response.ketamine.h24"), m, make_settings())
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
        "rate.response.ketamine.iv.h24.single_dose",  # the cited meta-analysis: single IV infusions
        "rate.response.control.iv.h24.single_dose",
        "pooled.depression.smd.all.h24",
        "ratio.smd_vs_ssri.all.h24",
        "relapse.share.no_maintenance.any.w4",  # one study prints counts: every printed share
        "relapse.median_days.murrough2013b.none",  # the only median without maintenance
        "study.zarate2006.response.ketamine.h24",
    } <= central


def _route_metric(beta, se, df):
    from scipy import stats

    crit = stats.t.ppf(0.975, df)
    return _metrics(beta, beta - crit * se, beta + crit * se, metric="route_diff.depression.smd.h24.intranasal_vs_iv"
                    ).assign(beta=beta, se=se, df=df, scale="identity")  # fmt: skip


@pytest.mark.parametrize(
    "beta,se,df,verdict",
    [
        # hand-computed TOST at alpha = 0.05, margin +-0.2: equivalence when the 90% CI
        # beta +- t(0.95, df) se lies inside the margin. t(0.95, 8) = 1.8595:
        (0.0, 0.10, 8, "reproduced"),  # 90% CI -0.186 to 0.186: both one-sided tests reject
        (0.0, 0.11, 8, "inconclusive"),  # 90% CI -0.2045 to 0.2045 (the 95% CI is -0.25 to 0.25)
        (0.05, 0.08, 8, "reproduced"),  # 90% CI -0.099 to 0.199
        (0.5, 0.10, 8, "contradicted"),  # 90% CI 0.314 to 0.686: wholly outside
        (-0.01, 0.23, 8, "inconclusive"),  # session 1's IV vs intranasal: -0.01 [-0.53, 0.51]
    ],
)
def test_equivalence_is_tost_at_the_90_percent_level(beta, se, df, verdict):
    c = _claim("equivalence", 0.0, metric="route_diff.depression.smd.h24.intranasal_vs_iv")
    row = evaluate(c, _route_metric(beta, se, df), make_settings())
    assert row["verdict"] == verdict
    assert "90% CI" in row["reason"]
