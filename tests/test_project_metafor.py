"""The project's own data against metafor (tests/reference/metafor_project.json, made by
validation/metafor/make_project_reference.R from the shipped extraction)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT
from tolerances import EFFECT_ATOL, TIGHT_ATOL

from ketamine_meta.stats import effects
from ketamine_meta.stats.pooling import rma

REF = json.loads((ROOT / "tests" / "reference" / "metafor_project.json").read_text())
KEY = ["study_id", "outcome", "time_bin", "effect", "group"]


def test_reference_covers_the_project():
    """Guard: the pinned set spans the effect types and the analyses the claims rest on."""
    assert {c["measure"] for c in REF["escalc"]} == {"SMD", "RR", "OR", "RD", "PLO"}
    assert {f["moderator"] for f in REF["moderators"]} >= {"route", "control", "drug", "dosing"}
    assert REF["robust"] and REF["robust"][0]["route"] == "all"
    assert len(REF["escalc"]) >= 50 and len(REF["rma"]) >= 30
    ids = {f["analysis_id"] for f in REF["rma"]}
    assert {"depression.smd.contrast.all.h24.primary", "response.logit_p.ketamine.all.h24.primary"} <= ids


@pytest.mark.parametrize(
    "case", REF["escalc"], ids=lambda c: f"{c['study_id']}-{c['effect']}-{c['group']}-{c['time_bin']}"
)
def test_effect_size_matches_escalc(case):
    a, m = case["args"], case["measure"]
    if m == "SMD":
        y, v = effects.smd(a["m1i"], a["sd1i"], a["n1i"], a["m2i"], a["sd2i"], a["n2i"])
    elif m == "PLO":
        y, v = effects.logit_p(a["xi"], a["ni"])
    elif m == "RD":
        y, v = effects.rd(a["ai"], a["n1i"], a["ci"], a["n2i"])
    else:
        fn = effects.log_rr if m == "RR" else effects.log_or
        y, v = fn(a["ai"], a["n1i"], a["ci"], a["n2i"])
    assert (float(y), float(v)) == pytest.approx((case["yi"], case["vi"]), abs=EFFECT_ATOL)


@pytest.mark.parametrize("fit", REF["rma"], ids=lambda f: f["analysis_id"])
def test_pooling_matches_rma(fit):
    ours = rma(fit["yi"], fit["vi"], method="REML", test="knha")
    got = [ours.beta, ours.se, ours.ci_low, ours.ci_high, ours.tau2, ours.i2, ours.q, ours.pi_low, ours.pi_high]
    want = [fit[k] for k in ("beta", "se", "ci_lb", "ci_ub", "tau2", "I2", "QE", "pi_lb", "pi_ub")]
    np.testing.assert_allclose(got, want, atol=TIGHT_ATOL, rtol=1e-9)


def test_committed_results_still_match_the_reference():
    """The published effect sizes are the ones metafor was run on (regenerate both together)."""
    es = pd.read_csv(ROOT / "results" / "tables" / "effect_sizes.csv").set_index(KEY)
    found = 0
    for case in REF["escalc"]:
        key = tuple(case[k] for k in KEY)
        if key in es.index:
            row = es.loc[key]
            row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
            assert (row["yi"], row["vi"]) == pytest.approx((case["yi"], case["vi"]), abs=EFFECT_ATOL), key
            found += 1
    assert found == len(REF["escalc"])


@pytest.mark.parametrize(
    "fit", REF["moderators"], ids=lambda f: f"{f['moderator']}-{f['outcome']}-{f['effect']}-{f['time_bin']}"
)
def test_moderator_model_matches_rma_with_mods(fit):
    levels = np.array(fit["level_of"])
    X = np.column_stack([(levels == lv).astype(float) for lv in fit["levels"][1:]])
    ours = rma(fit["yi"], fit["vi"], mods=X, method="REML", test=fit["test"])
    np.testing.assert_allclose(ours.betas, fit["beta"], atol=TIGHT_ATOL, rtol=1e-9)
    np.testing.assert_allclose(ours.ses, fit["se"], atol=TIGHT_ATOL, rtol=1e-9)
    assert (ours.qm, ours.qm_p, ours.tau2) == pytest.approx((fit["QM"], fit["QMp"], fit["tau2"]), abs=TIGHT_ATOL)


def test_published_moderator_tests_are_those_fits():
    mods = pd.read_csv(ROOT / "results" / "tables" / "moderators.csv")
    for fit in REF["moderators"]:
        row = mods[(mods["moderator"] == fit["moderator"]) & (mods["outcome"] == fit["outcome"])
                   & (mods["effect"] == fit["effect"]) & (mods["time_bin"] == fit["time_bin"])]  # fmt: skip
        assert row["qm_p"].iloc[0] == pytest.approx(fit["QMp"], abs=TIGHT_ATOL)


@pytest.mark.parametrize("fit", REF["robust"], ids=lambda f: f["route"])
def test_timecourse_cr2_matches_clubsandwich(fit):
    from ketamine_meta.evidence.timecourse import design, robust_cr2

    ours = robust_cr2(fit["yi"], fit["vi"], design(fit["time_h"]), np.array(fit["cluster"]))
    np.testing.assert_allclose(ours.beta, fit["beta"], atol=TIGHT_ATOL)
    for i in range(3):
        r = ours.contrast(np.eye(3)[i])
        assert (r["se"], r["df"], r["p"]) == pytest.approx((fit["se"][i], fit["df"][i], fit["pval"][i]), abs=1e-6)
    for h, est, se, df, lo, hi in zip(fit["contrast_h"], fit["contrast_est"], fit["contrast_se"], fit["contrast_df"],
                                      fit["contrast_ci_lb"], fit["contrast_ci_ub"]):  # fmt: skip
        r = ours.contrast(design([h])[0])
        assert (r["estimate"], r["se"], r["df"], r["ci_low"], r["ci_high"]) == pytest.approx(
            (est, se, df, lo, hi), abs=1e-6
        )


def test_dose_reference_covers_every_published_dose_fit():
    """The reference holds one fit per row of the committed dose-response table (none when, as in
    session 2, no cell has three trials of two or more per-kg doses), so neither can go missing."""
    import pandas as pd

    published = pd.read_csv(ROOT / "results" / "tables" / "dose_response.csv")
    assert len(published) == len(REF["dose"])


def test_dose_regressions_match_rma():
    # one loop rather than a parametrisation: an empty reference must not turn into a skip
    for fit in REF["dose"]:
        ours = rma(fit["yi"], fit["vi"], mods=np.array(fit["dose"]), method="REML", test="knha")
        b, se = ours.betas[1], ours.ses[1]
        got = (b, se, b - ours.crit * se, b + ours.crit * se)
        assert got == pytest.approx((fit["slope"], fit["se"], fit["ci_lb"], fit["ci_ub"]), abs=TIGHT_ATOL)
