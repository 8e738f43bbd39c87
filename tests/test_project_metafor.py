"""The project's own data against metafor (tests/reference/metafor_project.json, made by
validation/metafor/make_project_reference.R from the shipped extraction)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT
from tolerances import EFFECT_ATOL, TIGHT_ATOL

from ketamine_meta import effects
from ketamine_meta.pooling import rma

REF = json.loads((ROOT / "tests" / "reference" / "metafor_project.json").read_text())
KEY = ["study_id", "outcome", "time_bin", "effect", "group"]


def test_reference_covers_the_project():
    """Guard: the pinned set spans the effect types and the analyses the claims rest on."""
    assert {c["measure"] for c in REF["escalc"]} == {"SMD", "RR", "OR", "PLO"}
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
