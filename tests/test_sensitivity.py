"""Sensitivity diagnostics and the funnel plot against metafor (tests/reference/metafor_sensitivity.json).

The reference is written by validation/metafor/make_sensitivity_reference.R: leave1out, influence,
regtest, cumul and funnel on dat.bcg log RRs and dat.normand1999 SMDs, each fitted with REML
(knha and z, tight convergence control) and DL (z).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from tolerances import SENSITIVITY_CLOSED_FORM_ATOL, SENSITIVITY_TIGHT_ATOL

from ketamine_meta.outputs.funnel import funnel_plot
from ketamine_meta.stats.pooling import rma
from ketamine_meta.stats.sensitivity import cumulative, influence, leave1out, regtest

REFERENCE = Path(__file__).resolve().parent / "reference" / "metafor_sensitivity.json"
REF = json.loads(REFERENCE.read_text())
DATASETS = {d["case"]: d for d in REF["datasets"]}

CASES = {"bcg_rr": 13, "normand_smd": 9}  # case -> k
CONFIGS = [("REML", "knha"), ("REML", "z"), ("DL", "z")]
GRID = [(case, method, test) for case in CASES for method, test in CONFIGS]
GRID_IDS = [f"{c}-{m}-{t}" for c, m, t in GRID]

#: our column -> metafor's (leave1out and cumul share them)
FIT_COLUMNS = {
    "estimate": "estimate",
    "se": "se",
    "stat": "stat",
    "pval": "pval",
    "ci_low": "ci_lb",
    "ci_high": "ci_ub",
    "q": "Q",
    "q_p": "Qp",
    "tau2": "tau2",
    "i2": "I2",
    "h2": "H2",
}
INFLUENCE_COLUMNS = {
    "rstudent": "rstudent",
    "dffits": "dffits",
    "cook_d": "cook_d",
    "cov_r": "cov_r",
    "tau2_del": "tau2_del",
    "q_del": "QE_del",
    "hat": "hat",
    "weight": "weight",
    "dfbs": "dfbs",
}
REGTEST_FIELDS = {
    "stat": "stat",
    "pval": "pval",
    "slope": "slope",
    "slope_se": "slope_se",
    "limit_estimate": "est",
    "limit_se": "est_se",
    "ci_low": "ci_lb",
    "ci_high": "ci_ub",
    "tau2": "tau2",
}


def _entry(case, method, test):
    hits = [f for f in REF["fits"] if (f["case"], f["method"], f["test"]) == (case, method, test)]
    assert len(hits) == 1, (case, method, test)
    return hits[0]


def _atol(method):
    # REML refits re-estimate tau2 iteratively (reference run with a tight control); DL is closed-form
    return SENSITIVITY_TIGHT_ATOL if method == "REML" else SENSITIVITY_CLOSED_FORM_ATOL


def _assert_columns(df, block, columns, atol, what):
    for ours, theirs in columns.items():
        want = np.array([np.nan if x is None else x for x in block[theirs]], dtype=float)
        np.testing.assert_allclose(df[ours].to_numpy(dtype=float), want, rtol=0, atol=atol, err_msg=f"{what}: {ours}")


def test_reference_grid_is_complete():
    """Guard: every data set x configuration x function is present with k rows, so a shrunken or
    partly regenerated JSON cannot pass silently."""
    src = REF["source"]
    assert src["metafor_version"] and src["r_version"].startswith("R version")
    assert src["script"] == "validation/metafor/make_sensitivity_reference.R"
    assert "threshold=1e-12" in src["tight_control"]
    assert {d["case"]: d["k"] for d in REF["datasets"]} == CASES
    assert sorted((f["case"], f["method"], f["test"]) for f in REF["fits"]) == sorted(GRID)
    for f in REF["fits"]:
        k = CASES[f["case"]]
        d = DATASETS[f["case"]]
        assert len(d["yi"]) == len(d["vi"]) == len(d["labels"]) == len(d["order_key"]) == k
        assert f["k"] == k
        assert ("threshold=1e-12" in f["calls"]["fit"]) == (f["method"] == "REML")
        for fn in ("leave1out", "influence", "regtest", "cumul", "funnel"):
            assert fn in f["calls"][fn]
        for block, cols in (("leave1out", FIT_COLUMNS), ("cumul", FIT_COLUMNS), ("influence", INFLUENCE_COLUMNS)):
            for col in ["slab", *cols.values()]:
                assert len(f[block][col]) == k, (f["case"], block, col)
        assert len(f["influence"]["is_infl"]) == k
        assert all(f["regtest"][name] is not None for name in REGTEST_FIELDS.values())
        assert len(f["funnel"]["x"]) == len(f["funnel"]["y"]) == k and len(f["funnel"]["usr"]) == 4


@pytest.mark.parametrize(("case", "method", "test"), GRID, ids=GRID_IDS)
def test_leave1out_matches_metafor(case, method, test):
    d, f = DATASETS[case], _entry(case, method, test)
    got = leave1out(d["yi"], d["vi"], d["labels"], method=method, test=test)
    assert list(got["study"]) == f["leave1out"]["slab"]
    _assert_columns(got, f["leave1out"], FIT_COLUMNS, _atol(method), f"leave1out {case} {method} {test}")
    assert (got["k"] == CASES[case] - 1).all() and got["converged"].all()
    if test == "knha":
        assert (got["df"] == CASES[case] - 2).all()
    else:
        assert got["df"].isna().all()


@pytest.mark.parametrize(("case", "method", "test"), GRID, ids=GRID_IDS)
def test_influence_matches_metafor(case, method, test):
    d, f = DATASETS[case], _entry(case, method, test)
    got = influence(d["yi"], d["vi"], d["labels"], method=method, test=test)
    assert list(got["study"]) == f["influence"]["slab"]
    _assert_columns(got, f["influence"], INFLUENCE_COLUMNS, _atol(method), f"influence {case} {method} {test}")
    assert list(got["inf"]) == f["influence"]["is_infl"]
    assert ["*" if x else "" for x in got["inf"]] == f["influence"]["inf"]
    assert got["weight"].sum() == pytest.approx(100, abs=1e-12)


def test_influence_flags_a_study():
    """The rule is exercised, not vacuous: metafor flags one Normand study under every fit."""
    flagged = {(f["case"], f["method"], f["test"]): sum(f["influence"]["is_infl"]) for f in REF["fits"]}
    assert all(n == 1 for (case, _, _), n in flagged.items() if case == "normand_smd")


@pytest.mark.parametrize(("case", "method", "test"), GRID, ids=GRID_IDS)
def test_regtest_matches_metafor(case, method, test):
    d, f = DATASETS[case], _entry(case, method, test)
    got = regtest(d["yi"], d["vi"], method=method, test=test)
    assert len(got) == 1
    row = got.iloc[0]
    for ours, theirs in REGTEST_FIELDS.items():
        assert row[ours] == pytest.approx(f["regtest"][theirs], abs=_atol(method)), ours
    if test == "knha":
        assert row["df"] == f["regtest"]["dfs"] == CASES[case] - 2
    else:
        assert f["regtest"]["dfs"] is None and math.isnan(row["df"])
    assert (row["model"], row["predictor"], row["k"]) == ("rma", "sei", CASES[case])


@pytest.mark.parametrize(("case", "method", "test"), GRID, ids=GRID_IDS)
def test_cumulative_matches_metafor(case, method, test):
    d, f = DATASETS[case], _entry(case, method, test)
    got = cumulative(d["yi"], d["vi"], d["order_key"], d["labels"], method=method, test=test)
    # metafor's order, including the 1973 tie in dat.bcg (kept in data order)
    assert list(got["study"]) == f["cumul"]["slab"]
    assert list(got["k"]) == list(range(1, CASES[case] + 1))
    _assert_columns(got, f["cumul"], FIT_COLUMNS, _atol(method), f"cumul {case} {method} {test}")
    # the last step pools everything: it is the full fit
    full = rma(d["yi"], d["vi"], method=method, test=test)
    assert got["estimate"].iloc[-1] == pytest.approx(full.beta, abs=1e-12)
    assert got["tau2"].iloc[-1] == pytest.approx(full.tau2, abs=1e-12)


def test_cumulative_first_step_is_metafor_k1_fit():
    """Step 1 is reported as rma.uni reports k = 1 (z, tau2 = 0, Q = 0, Qp = 1, I2 = 0, H2 = 1),
    even under knha, where our rma would give tau2 = NaN."""
    got = cumulative([0.3, 0.5, 0.1], [0.04, 0.09, 0.05], [2001, 1999, 2001], method="REML", test="knha")
    first = got.iloc[0]
    assert (first["study"], first["k"]) == ("2", 1)
    assert (first["tau2"], first["q"], first["q_p"], first["i2"], first["h2"]) == (0.0, 0.0, 1.0, 0.0, 1.0)
    assert first["ci_low"] == pytest.approx(0.5 - 1.959963984540054 * 0.3, abs=1e-12)
    assert math.isnan(first["df"])
    assert list(got["study"]) == ["2", "1", "3"]  # the 2001 tie keeps input order
    assert got["df"].iloc[1] == 1.0


def test_leave1out_rows_are_refits():
    d = DATASETS["bcg_rr"]
    got = leave1out(d["yi"], d["vi"], method="DL", test="z")
    assert list(got["study"]) == [str(i) for i in range(1, 14)]
    r = rma(d["yi"][1:], d["vi"][1:], method="DL", test="z")
    assert (got["estimate"].iloc[0], got["tau2"].iloc[0]) == (r.beta, r.tau2)


def test_input_errors():
    with pytest.raises(ValueError, match="labels"):
        leave1out([0.1, 0.2], [0.01, 0.02], labels=["a"])
    with pytest.raises(ValueError, match="order_key"):
        cumulative([0.1, 0.2], [0.01, 0.02], order_key=[1])
    with pytest.raises(ValueError, match="finite"):
        regtest([0.1, np.nan, 0.3], [0.01, 0.01, 0.02])


def test_egger_with_equal_variances_is_undefined_not_a_crash():
    """k >= 10 studies with one sampling variance (a cell of the pipeline used to stop here): the
    slope on sqrt(v) is not identifiable, so every number is NaN and the note says why."""
    y = np.linspace(-0.2, 0.9, 12)
    for method, test in CONFIGS:
        row = regtest(y, np.full(12, 0.04), method=method, test=test).iloc[0]
        assert row["k"] == 12 and (row["model"], row["predictor"]) == ("rma", "sei")
        numbers = ["stat", "pval", "df", "slope", "slope_se", "limit_estimate", "limit_se", "ci_low", "ci_high", "tau2"]
        assert row[numbers].isna().all()
        assert row["note"] == "undefined: all sampling variances are equal, so precision has no spread to regress on"
    # one variance apart is enough: then it is a number again
    v = np.full(12, 0.04)
    v[3] = 0.05
    row = regtest(y, v).iloc[0]
    assert np.isfinite(row["stat"]) and row["note"] == "" and row["df"] == 10


@pytest.mark.parametrize("method", ["REML", "DL"])
@pytest.mark.parametrize("test", ["knha", "z"])
def test_one_and_two_studies_give_numbers_or_say_not_estimable(method, test):
    y1, v1 = [0.4], [0.04]
    y2, v2 = [0.1, 0.5], [0.01, 0.02]
    z = 1.959963984540054
    # k = 1: leave-one-out and influence have nothing left to fit
    for frame in (leave1out(y1, v1, method=method, test=test), influence(y1, v1, method=method, test=test)):
        assert (
            len(frame) == 1 and frame["note"].iloc[0] == "not estimable: k = 1, leaving the only study out leaves none"
        )
        assert frame.select_dtypes("float").isna().all().all()
    one = cumulative(y1, v1, method=method, test=test).iloc[0]
    assert (one["k"], one["estimate"], one["tau2"], one["q_p"]) == (1, 0.4, 0.0, 1.0)
    assert one["ci_low"] == pytest.approx(0.4 - z * 0.2, abs=1e-12)
    for y, v in ((y1, v1), (y2, v2)):
        row = regtest(y, v, method=method, test=test).iloc[0]
        assert np.isnan(row["stat"]) and row["note"].startswith(f"not estimable: k = {len(y)}")
    # k = 2: every refit is one study, reported as rma.uni does (z interval from its own variance)
    l1 = leave1out(y2, v2, method=method, test=test)
    np.testing.assert_allclose(l1["estimate"], [0.5, 0.1], rtol=0, atol=1e-15)
    np.testing.assert_allclose(l1["ci_high"], [0.5 + z * np.sqrt(0.02), 0.1 + z * 0.1], rtol=0, atol=1e-12)
    assert (l1["k"] == 1).all() and (l1["tau2"] == 0).all() and l1["df"].isna().all()
    inf = influence(y2, v2, method=method, test=test)
    full = rma(y2, v2, method=method, test=test)
    w = 1 / (np.array(v2) + full.tau2)
    np.testing.assert_allclose(inf["hat"], w / w.sum(), rtol=0, atol=1e-12)
    # Cook's distance (b - b_(-i))² / Var(b), with b_(-i) the other study
    np.testing.assert_allclose(inf["cook_d"], (full.beta - np.array([0.5, 0.1])) ** 2 / full.se**2, rtol=1e-12)
    cu = cumulative(y2, v2, method=method, test=test)
    assert list(cu["k"]) == [1, 2]
    assert cu["estimate"].iloc[1] == pytest.approx(full.beta, abs=1e-15)
    assert cu["ci_low"].iloc[1] == pytest.approx(full.ci_low, abs=1e-15)


@pytest.mark.parametrize(("case", "method"), [(c, m) for c in CASES for m in ("REML", "DL")])
def test_funnel_plot_matches_metafor(case, method, tmp_path, monkeypatch):
    d, f = DATASETS[case], _entry(case, method, "z")
    monkeypatch.chdir(tmp_path)
    fig = funnel_plot(d["yi"], d["vi"], d["labels"], method=method)
    try:
        ax = fig.axes[0]
        assert len(fig.axes) == 1 and len(ax.collections) >= 1
        points = ax.collections[-1].get_offsets()
        np.testing.assert_allclose(points[:, 0], d["yi"], rtol=0, atol=1e-15)
        np.testing.assert_allclose(points[:, 1], np.sqrt(d["vi"]), rtol=0, atol=1e-15)
        # ... and they are metafor's points
        np.testing.assert_allclose(points[:, 0], f["funnel"]["x"], rtol=0, atol=SENSITIVITY_CLOSED_FORM_ATOL)
        np.testing.assert_allclose(points[:, 1], f["funnel"]["y"], rtol=0, atol=SENSITIVITY_CLOSED_FORM_ATOL)
        lines = {line.get_label(): line for line in ax.get_lines()}
        ref = lines["estimate"].get_xdata()
        assert ref[0] == ref[1] == pytest.approx(f["funnel"]["refline"], abs=_atol(method))
        se = lines["pseudo-CI low"].get_ydata()
        assert se.max() == pytest.approx(1.1 * np.sqrt(max(d["vi"])), abs=1e-15) and se.min() == 0.0
        z = 1.959963984540054
        np.testing.assert_allclose(lines["pseudo-CI low"].get_xdata(), ref[0] - z * se, rtol=0, atol=1e-12)
        np.testing.assert_allclose(lines["pseudo-CI high"].get_xdata(), ref[0] + z * se, rtol=0, atol=1e-12)
        # axis limits are metafor's par("usr"): same x range, SE axis inverted with 0 at the top
        usr = f["funnel"]["usr"]
        np.testing.assert_allclose(ax.get_xlim(), usr[:2], rtol=0, atol=_atol(method))
        np.testing.assert_allclose(ax.get_ylim(), usr[2:], rtol=0, atol=1e-12)
        assert ax.yaxis_inverted()
        assert list(tmp_path.iterdir()) == []  # never writes files
    finally:
        plt.close(fig)


def test_funnel_labels_follow_metafor_rule():
    d = DATASETS["bcg_rr"]
    y, se = np.array(d["yi"]), np.sqrt(d["vi"])
    b = rma(y, d["vi"], method="REML", test="z").beta
    outside = {lab for lab, yy, s in zip(d["labels"], y, se) if abs(yy - b) / s >= 1.959963984540054}
    assert 0 < len(outside) < len(y)
    farthest = [d["labels"][i] for i in np.argsort(-np.abs(y - b))[:2]]
    for label, want in (("out", outside), (2, set(farthest)), (True, set(d["labels"])), (False, set())):
        fig = funnel_plot(y, d["vi"], d["labels"], label=label)
        try:
            assert {t.get_text() for t in fig.axes[0].texts} == want, label
        finally:
            plt.close(fig)
    open_before = plt.get_fignums()
    with pytest.raises(ValueError, match="label"):
        funnel_plot(y, d["vi"], label="some")
    with pytest.raises(ValueError, match="labels"):
        funnel_plot(y, d["vi"], d["labels"][:3])
    assert plt.get_fignums() == open_before  # rejected before a figure was opened
