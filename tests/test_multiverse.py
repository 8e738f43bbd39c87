"""The multiverse: complete enumeration, the primary specification equals the primary analysis,
choices that cannot matter are not varied, and the result is deterministic."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from helpers import copy_valid, make_config

from ketamine_meta import analyses, claims, multiverse
from ketamine_meta.comparisons import build_effect_sizes
from ketamine_meta.io import load_dataset


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    ds = load_dataset(copy_valid(tmp_path_factory.mktemp("mv") / "d"))
    cfg = make_config()
    registry = claims.load_claims("tests/data/claims.yaml")
    return ds, cfg, registry, multiverse.run_multiverse(ds, cfg, registry)


def test_every_combination_is_enumerated_once(world):
    _, cfg, _, mv = world
    m = cfg["multiverse"]
    full = len(m["methods"]) * len(m["tests"]) * len(m["controls"]) * len(m["crossover"]) * len(m["bin_scales"])
    full *= len(m["populations"]) * len(m["arms"])
    counts = mv.groupby("claim_id").size()
    assert counts["t_smd_24h"] == full
    assert counts["t_response_24h"] == full * len(m["single_arm"])  # rate claims also vary single-arm series
    assert counts["t_relapse"] == len(m["methods"]) * len(m["tests"])  # only the model can move a relapse pool
    assert not mv.duplicated(["claim_id", "spec_id"]).any()
    assert "t_arith" not in counts and "t_none" not in counts


def test_primary_specification_equals_the_primary_analysis(world):
    ds, cfg, _, mv = world
    es, _ = build_effect_sizes(ds, cfg)
    pooled = analyses.run_pooling(es, cfg).set_index("analysis_id")
    prim = mv[mv["is_primary"]].set_index("claim_id")
    assert prim.index.is_unique and {"t_smd_24h", "t_response_24h", "t_ratio"} <= set(prim.index)
    row = pooled.loc["depression.smd.contrast.all.h24.primary"]
    got = prim.loc["t_smd_24h", ["k", "estimate", "ci_low", "ci_high"]].to_numpy(float)
    np.testing.assert_allclose(got, row[["k", "estimate", "ci_low", "ci_high"]].to_numpy(float), atol=1e-10)
    rate = pooled.loc["response.logit_p.ketamine.all.h24.primary"]
    assert prim.loc["t_response_24h", "estimate"] == pytest.approx(rate["estimate"], abs=1e-10)


def test_choices_change_the_analysis_set_as_declared(world):
    _, _, _, mv = world
    smd = mv[mv["claim_id"] == "t_smd_24h"].set_index("spec_id")
    base = "REML|knha|{c}|{x}|default|all|pooled_doses|exclude"
    assert smd.loc[base.format(c="all", x="include"), "k"] == 3
    assert smd.loc[base.format(c="all", x="exclude"), "k"] == 2  # gamma2003 is a crossover trial
    assert smd.loc[base.format(c="saline", x="include"), "k"] == 1  # alpha2001 only
    assert smd.loc[base.format(c="midazolam", x="include"), "k"] == 1  # beta2002 only
    dose = smd.loc["REML|knha|midazolam|include|default|all|dose_0.5|exclude"]
    full = smd.loc["REML|knha|midazolam|include|default|all|pooled_doses|exclude"]
    assert dose["k"] == 1 and dose["estimate"] != full["estimate"]  # the 1.0 mg/kg arm dropped
    rates = mv[mv["claim_id"] == "t_response_24h"].set_index("spec_id")
    assert rates.loc["REML|knha|all|include|default|all|pooled_doses|exclude", "k"] == 3
    # the single-arm series reports response at day 14, not 24 h: including series changes nothing here
    assert rates.loc["REML|knha|all|include|default|all|pooled_doses|include", "k"] == 3


def test_bin_scales_move_edges_around_nominal():
    cfg = make_config()
    bins = multiverse.scaled_bins(cfg["time_bins"], 0.05)["h24"]  # ~(22.7, 24.5]: 20 h would fall out
    assert 22 < bins["low_h"] < 24 < bins["high_h"] < 25
    same = multiverse.scaled_bins(cfg["time_bins"], 1.0)
    for name, b in cfg["time_bins"].items():
        assert (same[name]["low_h"], same[name]["high_h"]) == pytest.approx((b["low_h"], b["high_h"]), rel=1e-12)


def test_summary_shares_and_ranges(world):
    _, _, _, mv = world
    summary = multiverse.summarise(mv).set_index("claim_id")
    cell = mv[(mv["claim_id"] == "t_smd_24h") & (mv["verdict"] != "not_testable")]
    assert summary.loc["t_smd_24h", "n_specs"] == len(cell)
    assert summary.loc["t_smd_24h", "robustness"] == pytest.approx(cell["supports"].mean())
    assert summary.loc["t_smd_24h", "spec_low"] == pytest.approx(cell["estimate"].min())


def test_multiverse_is_deterministic(world):
    ds, cfg, registry, mv = world
    again = multiverse.run_multiverse(ds, copy.deepcopy(cfg), registry)
    pd.testing.assert_frame_equal(mv, again)
