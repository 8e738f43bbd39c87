"""From contract tables to effect sizes: sign convention, multi-arm handling, time bins."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import copy_valid, make_config

from ketamine_meta import effects
from ketamine_meta.comparisons import assign_bin, build_effect_sizes
from ketamine_meta.io import load_dataset


@pytest.fixture()
def es(tmp_path):
    return build_effect_sizes(load_dataset(copy_valid(tmp_path / "d")), make_config())[0]


def _one(es, **kw):
    sel = es
    for k, v in kw.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, sel
    return sel.iloc[0]


def test_endpoint_smd_is_positive_when_ketamine_scores_lower(es):
    r = _one(es, study_id="alpha2001", outcome="depression", time_bin="h24")
    y, v = effects.smd(26.0, 9.0, 30, 18.0, 8.0, 30)  # control first: positive favours ketamine
    assert y > 0
    assert (r["yi"], r["vi"]) == pytest.approx((float(y), float(v)), abs=1e-12)
    assert r["time_h"] == 24  # 24 h beats 20 h: closer to the bin's nominal hour


def test_change_scores_use_sd_from_se_and_same_sign(es):
    r = _one(es, study_id="alpha2001", outcome="depression", time_bin="d7")
    sd_k, sd_c = 1.5 * np.sqrt(30), 1.6 * np.sqrt(30)
    y, _ = effects.smd(-6.0, sd_c, 30, -10.0, sd_k, 30)
    assert r["yi"] == pytest.approx(float(y), abs=1e-12) and r["yi"] > 0
    assert "SD from SE" in r["derivation"]


def test_arm_level_data_win_over_a_printed_contrast(es):
    r = _one(es, study_id="alpha2001", outcome="depression", time_bin="h24")
    assert r["source_rows"].startswith("outcomes_continuous.csv")


def test_two_dose_arms_are_combined_against_one_control(es):
    r = _one(es, study_id="beta2002", outcome="depression", time_bin="h24")
    n, m, s = effects.combine_groups([30, 30], [14.0, 12.0], [6.0, 7.0])
    y, v = effects.smd(17.0, 6.5, 30, m, s, n)
    assert (r["yi"], r["vi"], r["n_treatment"], r["n_control"]) == pytest.approx(
        (float(y), float(v), 60, 30), abs=1e-12
    )


def test_split_control_halves_the_shared_control(tmp_path):
    cfg = make_config()
    cfg["handling"]["multi_arm"] = "split_control"
    es = build_effect_sizes(load_dataset(copy_valid(tmp_path / "d")), cfg)[0]
    rows = es[(es["study_id"] == "beta2002") & (es["outcome"] == "depression")].sort_values("comparison")
    assert list(rows["n_control"]) == [15.0, 15.0]
    y, _ = effects.smd(17.0, 6.5, 15, 14.0, 6.0, 30)
    assert rows.iloc[0]["yi"] == pytest.approx(float(y), abs=1e-12)


def test_dose_filter_keeps_only_requested_mg_per_kg(tmp_path):
    cfg = make_config()
    cfg["handling"]["ketamine_doses"] = [0.5]
    es = build_effect_sizes(load_dataset(copy_valid(tmp_path / "d")), cfg)[0]
    r = _one(es, study_id="beta2002", outcome="depression")
    assert r["comparison"] == "ket_0.5 vs mdz"


def test_zero_cell_response_table_gets_half_added(es):
    r = _one(es, study_id="beta2002", outcome="response", effect="log_rr", group="contrast")
    y, v = effects.log_rr(28, 60, 0, 30)
    assert (r["yi"], r["vi"]) == pytest.approx((float(y), float(v)), abs=1e-12)
    assert r["yi"] == pytest.approx(np.log((28.5 / 61) / (0.5 / 31)), abs=1e-12)


def test_mean_difference_contrast_becomes_g_with_arm_sizes(es):
    r = _one(es, study_id="gamma2003", outcome="depression")
    y, v = effects.g_from_md_se(6.0, 2.5, 20, 20)
    assert (r["yi"], r["vi"]) == pytest.approx((float(y), float(v)), abs=1e-12)
    assert bool(r["crossover"]) and "arms.csv" in r["derivation"]


def test_single_arm_series_only_give_rates(es):
    rows = es[es["study_id"] == "delta2004"]
    assert set(rows["group"]) == {"single_arm"} and set(rows["effect"]) == {"logit_p"}


def test_crossover_exclusion_switch(tmp_path):
    cfg = make_config()
    cfg["handling"]["crossover"] = "exclude"
    es = build_effect_sizes(load_dataset(copy_valid(tmp_path / "d")), cfg)[0]
    assert not es.loc[es["study_id"] == "gamma2003", "primary"].any()
    assert es.loc[es["study_id"] == "alpha2001", "primary"].all()


@pytest.mark.parametrize(
    "t,expected",
    [
        (0.667, "min40"),
        (1.5, "min40"),
        (1.51, "h2_4"),
        (24, "h24"),
        (48, "d2_3"),
        (672, "d21_28"),
        (800, None),
        (0, None),
    ],
)
def test_time_bins_are_left_open_right_closed(t, expected):
    assert assign_bin(t, make_config()["time_bins"]) == expected
