"""The multiverse: complete enumeration, the primary specification equals the primary analysis,
choices that cannot matter are not varied, and the result is deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import copy_valid, make_settings

from ketamine_meta.claims import multiverse
from ketamine_meta.claims import registry as claims
from ketamine_meta.data.load import load_dataset
from ketamine_meta.evidence import analyses
from ketamine_meta.evidence.comparisons import build_effect_sizes


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    ds = load_dataset(copy_valid(tmp_path_factory.mktemp("mv") / "d"))
    cfg = make_settings()
    registry = claims.load_claims("tests/data/claims.yaml")
    return ds, cfg, registry, multiverse.run_multiverse(ds, cfg, registry)


def _n(cfg, dims):
    m = cfg.multiverse
    out = len(m.methods) * len(m.tests)
    for d in dims:
        out *= len(m.choices[d])
    return out


def test_every_combination_is_enumerated_once(world):
    _, cfg, _, mv = world
    counts = mv.groupby("claim_id").size()
    assert counts["t_smd_24h"] == _n(cfg, ["measure", "conversion", "crossover", "arms", "controls", "drug"])
    # a rate is not an SMD: measure and conversion rules cannot move it, so they are not varied
    assert counts["t_response_24h"] == _n(cfg, ["crossover", "arms", "controls", "drug"])
    assert counts["t_relapse"] == len(cfg.multiverse.relapse_methods)  # only the pooling method
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
    spec = "REML|knha|{m}|md_to_g|{x}|pooled_doses|{c}|any"
    base = smd.loc[spec.format(m="change", x="paired_r0.5", c="any_placebo"), "k"]
    # beta2002 prints endpoint scores only: it enters when endpoint SMDs are allowed
    assert smd.loc[spec.format(m="mixed", x="paired_r0.5", c="any_placebo"), "k"] == base + 1
    assert smd.loc[spec.format(m="endpoint", x="paired_r0.5", c="any_placebo"), "k"] == base + 1
    assert smd.loc[spec.format(m="change", x="exclude", c="any_placebo"), "k"] == base - 1  # gamma2003: crossover
    assert smd.loc[spec.format(m="mixed", x="paired_r0.5", c="active_placebo"), "k"] == 1  # beta2002 (midazolam)
    dose = smd.loc["REML|knha|mixed|md_to_g|paired_r0.5|dose_0.5|active_placebo|any"]
    full = smd.loc["REML|knha|mixed|md_to_g|paired_r0.5|pooled_doses|active_placebo|any"]
    assert dose["k"] == 1 and dose["estimate"] != full["estimate"]  # the 1.0 mg/kg arm dropped
    no_conv = smd.loc[spec.format(m="change", x="paired_r0.5", c="any_placebo").replace("md_to_g", "no_md_to_g")]
    assert no_conv["k"] == base - 1  # gamma2003's mean difference is not converted


def test_summary_counts_distinct_analyses_and_untestable_ones(world):
    _, _, _, mv = world
    summary = multiverse.summarise(mv).set_index("claim_id")
    cell = mv[(mv["claim_id"] == "t_smd_24h") & (mv["verdict"] != "not_testable")]
    distinct = cell.drop_duplicates("distinct_id")
    assert summary.loc["t_smd_24h", "n_specs"] == (mv["claim_id"] == "t_smd_24h").sum()
    assert summary.loc["t_smd_24h", "n_distinct"] == len(distinct) < len(cell)  # r and drug choices collapse
    assert summary.loc["t_smd_24h", "robustness"] == pytest.approx(distinct["supports"].mean())
    assert summary.loc["t_smd_24h", "spec_low"] == pytest.approx(cell["estimate"].min())
    assert summary.loc["t_smd_24h", "n_untestable"] >= 1  # e.g. inert placebo without endpoint trials


def test_single_study_claims_get_no_robustness():
    mv = pd.DataFrame({"claim_id": ["c"] * 3, "verdict": ["reproduced"] * 3, "supports": [True] * 3,
                       "k": [1, 1, 1], "estimate": [0.5, 0.6, 0.5], "distinct_id": [1, 2, 1]})  # fmt: skip
    s = multiverse.summarise(mv).iloc[0]
    assert np.isnan(s["robustness"]) and s["n_distinct"] == 2


def test_multiverse_is_deterministic(world):
    ds, cfg, registry, mv = world
    again = multiverse.run_multiverse(ds, cfg, registry)
    pd.testing.assert_frame_equal(mv, again)


def test_every_specification_sees_the_effect_sizes_a_fresh_build_gives(world):
    """The multiverse reuses each study's rows across rule combinations (StudyMemo) and bins each
    distinct table once: for every specification the table equals a build from scratch under that
    specification's config, and the primary-set mask equals ``in_primary``."""
    from ketamine_meta.evidence.comparisons import bin_effect_sizes, effect_sizes_by_time
    from ketamine_meta.evidence.select import in_primary

    ds, cfg, _, _ = world
    cache = multiverse._EffectCache(ds, cfg)
    specs = multiverse.specifications(cfg, "pooled")
    tables = {}
    for s in specs:
        scfg = cache.config(s)
        rules = (s.arms, s.crossover, s.measure, s.conversion)
        if rules not in tables:
            tables[rules] = bin_effect_sizes(*effect_sizes_by_time(ds, scfg), scfg)
        fresh, got = tables[rules], cache.get(s)
        cols = [c for c in fresh.columns if c != "primary"]
        pd.testing.assert_frame_equal(got[cols], fresh[cols], check_dtype=False)
        np.testing.assert_array_equal(cache.mask(s), in_primary(fresh, scfg).to_numpy())
    # the reuse is real: fewer study builds than studies x distinct rule sets
    n_rules = len({(s.arms, s.crossover) for s in specs})
    assert len(cache.memo._rows) < len(ds["studies"]) * n_rules


def test_a_study_memo_refuses_a_config_that_differs_beyond_handling(world):
    import dataclasses

    from ketamine_meta.evidence.comparisons import StudyMemo

    ds, cfg, _, _ = world
    memo = StudyMemo(ds)
    memo.by_time(cfg, crossover=False)
    memo.by_time(cfg.with_handling({"crossover": "exclude"}), crossover=True)  # handling only: fine
    with pytest.raises(ValueError, match="differ only in their handling"):
        memo.by_time(dataclasses.replace(cfg, window_bin="other"), crossover=True)
