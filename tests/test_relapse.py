"""Relapse: windows, Wilson intervals (0/n and n/n included), GLMM pooling equal to metafor's
rma.glmm(measure="PLO"), exact pooling with Clopper-Pearson, single-dose vs course, medians."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers import ROOT, make_settings
from statsmodels.stats.proportion import proportion_confint

from ketamine_meta.evidence.relapse import glmm_plo, median_times, pool_relapse, relapse_by_study

#: rma.glmm goes through lme4's optimiser, which stops a little short of the likelihood's maximum
#: (our solutions have the larger likelihood in every reference case); seen differences are
#: <= 4e-5 in mu, 2e-4 in SE(mu) and 1.6e-3 in tau^2 (case k5_heterogeneous, tau^2 = 2.84).
GLMM_BETA_ATOL = 1e-4
GLMM_SE_ATOL = 5e-4
GLMM_TAU2_ATOL = 3e-3
MH_ATOL = 1e-8

REF = json.loads((ROOT / "tests" / "reference" / "metafor_methods.json").read_text())


def _table():
    rows = [
        ("s2001", "none", "single", 11, 6, 28, None),
        ("s2002", "none", "course", 5, 3, 28, 16.0),
        ("s2003", "none", "course", 20, 12, 30, 21.0),
        ("s2004", "none", "single", 10, 0, 14, None),
        ("s2005", "cbt", "course", 8, 8, 56, 84.0),
    ]
    return pd.DataFrame(
        [
            {
                "study_id": s,
                "condition": c,
                "induction": ind,
                "n_responders": n,
                "n_relapsed": k,
                "followup_days": d,
                "median_days_to_relapse": m,
                "median_ci_low": None,
                "median_ci_high": None,
                "relapse_definition": "",
                "_row": i + 2,
            }  # fmt: skip
            for i, (s, c, ind, n, k, d, m) in enumerate(rows)
        ]
    )


@pytest.mark.parametrize("case", sorted(REF["glmm"]))
def test_glmm_equals_metafor_rma_glmm(case):
    ref = REF["glmm"][case]
    fit = glmm_plo(ref["x"], ref["n"])
    assert fit["beta"] == pytest.approx(ref["beta"], abs=GLMM_BETA_ATOL)
    assert fit["se"] == pytest.approx(ref["se"], abs=GLMM_SE_ATOL)
    assert fit["tau2"] == pytest.approx(ref["tau2"], abs=GLMM_TAU2_ATOL)


def test_windows_inductions_and_k2_glmm():
    cfg = make_settings()
    by = relapse_by_study(_table(), cfg)
    assert dict(zip(by["study_id"], by["window"])) == {"s2001": "w4", "s2002": "w4", "s2003": "w4", "s2004": "w2",
                                                       "s2005": ""}  # fmt: skip
    pooled = pool_relapse(by, cfg).set_index("analysis_id")
    # course, k = 2: the GLMM of 3/5 and 12/20 (equal proportions: tau^2 = 0, mu = logit(15/25))
    row = pooled.loc["relapse.none.course.w4"]
    assert row["k"] == 2 and row["method"].startswith("GLMM")
    assert row["estimate"] == pytest.approx(0.6, abs=1e-6)
    assert row["tau2"] == pytest.approx(0.0, abs=1e-8)
    # single, k = 1: the study's own Wilson interval, never a pooled one
    one = pooled.loc["relapse.none.single.w4"]
    lo, hi = proportion_confint(6, 11, method="wilson")
    assert (one["k"], one["method"]) == (1, "single study")
    assert (one["ci_low"], one["ci_high"]) == pytest.approx((lo, hi), abs=1e-12)
    assert pooled.loc["relapse.none.any.w4", "k"] == 3


def test_zero_and_all_relapsed_rows_get_intervals_that_contain_them():
    by = relapse_by_study(_table(), make_settings()).set_index("study_id")
    assert by.loc["s2004", "proportion"] == 0 and by.loc["s2004", "ci_low"] == 0 and by.loc["s2004", "ci_high"] > 0
    assert by.loc["s2005", "proportion"] == 1 and by.loc["s2005", "ci_high"] == pytest.approx(1.0)
    assert by.loc["s2005", "ci_low"] == pytest.approx(proportion_confint(8, 8, method="wilson")[0], abs=1e-12)


def test_exact_pooling_is_clopper_pearson_of_summed_counts():
    by = relapse_by_study(_table(), make_settings())
    pooled = pool_relapse(by, make_settings(), method="exact").set_index("analysis_id")
    row = pooled.loc["relapse.none.any.w4"]
    lo, hi = proportion_confint(21, 36, method="beta")
    assert row["estimate"] == pytest.approx(21 / 36)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi), abs=1e-12)


def test_medians_are_per_study_with_their_own_interval():
    med = median_times(_table())
    assert med["study_id"].tolist() == ["s2005", "s2002", "s2003"]
    assert med["ci_low"].isna().all()  # none printed: no interval is invented


@pytest.mark.parametrize("case", sorted(REF["mh"]))
@pytest.mark.parametrize("measure", ["OR", "RR"])
def test_mantel_haenszel_equals_metafor_rma_mh(case, measure):
    from ketamine_meta.stats.mantel_haenszel import mh_pool

    ref = REF["mh"][case]
    fit = mh_pool(ref["a"], ref["n1"], ref["c"], ref["n2"], {"OR": "log_or", "RR": "log_rr"}[measure])
    assert fit["beta"] == pytest.approx(ref[measure]["beta"], abs=MH_ATOL)
    assert fit["se"] == pytest.approx(ref[measure]["se"], abs=MH_ATOL)


def test_remitters_apart_and_printed_shares_only_in_the_descriptive_range():
    from ketamine_meta.evidence.relapse import share_summary

    t = _table()
    extra = pd.DataFrame(
        [
            {"study_id": "s2006", "condition": "placebo", "induction": "single", "n_responders": None,
             "n_relapsed": None, "proportion_relapsed": 0.5, "followup_days": 32, "median_days_to_relapse": None,
             "relapse_definition": "", "_row": 8},
            {"study_id": "s2007", "condition": "none", "induction": "course", "n_responders": 5, "n_relapsed": 3,
             "followup_days": 28, "median_days_to_relapse": None, "responder_definition": "REMITTERS after six",
             "relapse_definition": "", "_row": 9},
        ]
    )  # fmt: skip
    cfg = make_settings()
    by = relapse_by_study(pd.concat([t, extra], ignore_index=True), cfg)
    pooled = pool_relapse(by, cfg).set_index("analysis_id")
    assert pooled.loc["relapse.none.any.w4.remitters", "studies"] == "s2007"  # not pooled with responders
    assert "s2007" not in pooled.loc["relapse.none.any.w4", "studies"]
    assert "s2006" not in ";".join(pooled["studies"])  # a printed percentage never enters a pooled proportion
    shares = share_summary(by, cfg).set_index("analysis_id")
    row = shares.loc["relapse_share.no_maintenance.any.w4"]  # none + placebo: s2001 6/11, s2002 3/5, s2003 12/20, s2006
    assert row["k"] == 4 and row["min"] == pytest.approx(0.5) and row["max"] == pytest.approx(0.6)
