"""Effect sizes against metafor::escalc (pinned in tests/reference/metafor_reference.json)."""

from __future__ import annotations

import numpy as np
import pytest
from tolerances import EFFECT_ATOL

from ketamine_meta.stats import effects


def _cases(ref, measure):
    return [c for c in ref["escalc"] if c["measure"] == measure]


def _compare(y, v, case):
    want_y = np.array([np.nan if x is None else x for x in case["yi"]], dtype=float)
    want_v = np.array([np.nan if x is None else x for x in case["vi"]], dtype=float)
    ok = ~np.isnan(want_y)
    np.testing.assert_allclose(np.asarray(y)[ok], want_y[ok], rtol=0, atol=EFFECT_ATOL)
    np.testing.assert_allclose(np.asarray(v)[ok], want_v[ok], rtol=0, atol=EFFECT_ATOL)


@pytest.mark.parametrize("measure,fn", [("RR", effects.log_rr), ("OR", effects.log_or)])
def test_two_by_two_matches_escalc(metafor_ref, measure, fn):
    cases = [c for c in _cases(metafor_ref, measure) if not c["args"].get("drop00")]
    assert len(cases) >= 2  # bcg and the zero-cell set
    for case in cases:
        a = case["args"]
        ai, bi, ci, di = (np.array(a[x], dtype=float) for x in ("ai", "bi", "ci", "di"))
        y, v = fn(ai, ai + bi, ci, ci + di, add=a["add"])
        _compare(y, v, case)


def test_zero_cells_get_half_added_everywhere():
    # 0/20 vs 3/20: every cell + 1/2 -> log((0.5/21)/(3.5/21)) = log(1/7)
    y, v = effects.log_rr([0], [20], [3], [20])
    assert y[0] == pytest.approx(np.log(1 / 7), abs=1e-12)
    assert v[0] == pytest.approx(1 / 0.5 - 1 / 21 + 1 / 3.5 - 1 / 21, abs=1e-12)


def test_smd_matches_escalc(metafor_ref):
    cases = _cases(metafor_ref, "SMD")
    assert {c["case"] for c in cases} >= {"normand_smd", "synthetic_smd"}
    for case in cases:
        a = case["args"]
        y, v = effects.smd(a["m1i"], a["sd1i"], a["n1i"], a["m2i"], a["sd2i"], a["n2i"])
        _compare(y, v, case)


def test_md_matches_escalc(metafor_ref):
    for case in _cases(metafor_ref, "MD"):
        a = case["args"]
        _compare(*effects.md(a["m1i"], a["sd1i"], a["n1i"], a["m2i"], a["sd2i"], a["n2i"]), case)


def test_plo_matches_escalc(metafor_ref):
    (case,) = _cases(metafor_ref, "PLO")
    a = case["args"]
    _compare(*effects.logit_p(a["xi"], a["ni"], add=a["add"]), case)


def test_g_from_md_and_se_inverts_the_smd():
    # build an MD and its SE from known arms; recovering g from them gives escalc's g exactly
    n1, n2, sp = 30.0, 28.0, 8.0
    y_ref, v_ref = effects.smd(20.0, sp, n1, 14.0, sp, n2)
    se = sp * np.sqrt(1 / n1 + 1 / n2)
    y, v = effects.g_from_md_se(6.0, se, n1, n2)
    assert y == pytest.approx(float(y_ref), abs=1e-12)
    assert v == pytest.approx(float(v_ref), abs=1e-12)


def test_combine_groups_matches_cochrane_formula():
    # Cochrane Handbook 6.5.2.10 worked from raw data: the combined SD equals the SD of the union
    rng = np.random.default_rng(1)
    a, b = rng.normal(10, 3, 12), rng.normal(14, 5, 9)
    n, m, s = effects.combine_groups([12, 9], [a.mean(), b.mean()], [a.std(ddof=1), b.std(ddof=1)])
    both = np.concatenate([a, b])
    assert (n, m, s) == pytest.approx((21, both.mean(), both.std(ddof=1)), abs=1e-10)


def test_se_from_ci_and_sd_from_se():
    assert effects.se_from_ci(0.28, 0.76) == pytest.approx(0.48 / (2 * 1.959963984540054), abs=1e-12)
    assert effects.sd_from_se(2.0, 25) == pytest.approx(10.0)
