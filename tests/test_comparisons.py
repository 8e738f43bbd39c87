"""From contract tables to effect sizes: sign convention, multi-arm handling, time bins."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import copy_valid, make_settings
from scipy import stats

from ketamine_meta.data.load import load_dataset
from ketamine_meta.evidence.comparisons import build_effect_sizes
from ketamine_meta.evidence.compute import paired_smd
from ketamine_meta.evidence.select import assign_bin
from ketamine_meta.stats import effects


def _mixed():
    """Endpoint and change SMDs both allowed (the test data are mostly endpoint scores)."""
    return {"smd_measure": "mixed", "measure_preference": ["endpoint", "change"]}


@pytest.fixture()
def es(tmp_path):
    return build_effect_sizes(load_dataset(copy_valid(tmp_path / "d")), make_settings(handling=_mixed()))[0]


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
    assert "sd_from_se" in r["conversions"].split(";")


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
    cfg = make_settings(handling={**_mixed(), "multi_arm": "split_control"})
    es = build_effect_sizes(load_dataset(copy_valid(tmp_path / "d")), cfg)[0]
    rows = es[(es["study_id"] == "beta2002") & (es["outcome"] == "depression")].sort_values("comparison")
    assert list(rows["n_control"]) == [15.0, 15.0]
    y, _ = effects.smd(17.0, 6.5, 15, 14.0, 6.0, 30)
    assert rows.iloc[0]["yi"] == pytest.approx(float(y), abs=1e-12)


def test_dose_filter_keeps_only_requested_mg_per_kg(tmp_path):
    cfg = make_settings(handling={**_mixed(), "ketamine_doses": [0.5]})
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
    assert bool(r["crossover"]) and set(r["conversions"].split(";")) >= {"md_to_g", "n_from_arms", "basis_unknown"}


def test_single_arm_series_only_give_rates(es):
    rows = es[es["study_id"] == "delta2004"]
    assert set(rows["group"]) == {"single_arm"} and set(rows["effect"]) == {"logit_p"}


def test_crossover_exclusion_switch(tmp_path):
    cfg = make_settings(handling={**_mixed(), "crossover": "exclude"})
    es, unused = build_effect_sizes(load_dataset(copy_valid(tmp_path / "d")), cfg)
    assert not (es["study_id"] == "gamma2003").any()
    assert es.loc[es["study_id"] == "alpha2001", "primary"].all()
    assert "handling.crossover = exclude" in unused.loc[unused["study_id"] == "gamma2003", "reason"].iloc[0]


def test_handbook_crossover_worked_example():
    """Cochrane Handbook 5.1, 16.4.6.4 (6.x: 23.2.7.2): M_E 7.0 (SD 2.38), M_C 6.5 (SD 2.21), N = 10,
    Corr = 0.68 gives SMD 0.218 with SE 0.256 (hand-checked: SD = sqrt((2.38^2 + 2.21^2)/2) = 2.2966,
    SMD = 0.5/2.2966 = 0.2177, SE = sqrt((1/10 + 0.2177^2/20) x 2 x 0.32) = 0.2560)."""
    g, v = paired_smd(0.5, np.sqrt((2.38**2 + 2.21**2) / 2), 10, 0.68)
    assert float(g) == pytest.approx(0.2177, abs=5e-5)
    assert float(np.sqrt(v)) == pytest.approx(0.2560, abs=5e-5)


def _paired_gamma(tmp_path, old: str, new: str):
    """The valid data with gamma2003's (crossover) contrast edited and marked as a paired estimate."""
    d = copy_valid(tmp_path / "d")
    path = d / "contrasts.csv"
    text = path.read_text(encoding="utf-8").splitlines()
    text[0] += ",paired"
    text[1] = text[1].replace(old, new) + ",true"
    text[2] += ","
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return d


def test_paired_contrast_is_put_on_the_between_person_scale(tmp_path):
    """A crossover's paired MD with its paired CI: SD_diff = SE sqrt(N), SD = SD_diff / sqrt(2(1-r)),
    then the Handbook's paired SMD; not the parallel-group conversion (which would use n1 = n2 = N)."""
    d = _paired_gamma(tmp_path, ",6.0,2.5,,,,,madrs,", ",6.0,,1.5,10.5,18,18,madrs,")
    cfg = make_settings()
    es = build_effect_sizes(load_dataset(d), cfg)[0]
    r = _one(es, study_id="gamma2003", outcome="depression")
    se = 9.0 / (2 * stats.t.ppf(0.975, 17))  # CI 1.5 to 10.5 on 17 df
    sd = se * np.sqrt(18) / np.sqrt(2 * (1 - 0.5))
    g, v = paired_smd(6.0, sd, 18, 0.5)
    assert (r["yi"], r["vi"]) == pytest.approx((float(g), float(v)), abs=1e-12)
    assert {"paired_to_between", "paired_variance", "se_from_ci_t"} <= set(r["conversions"].split(";"))
    assert r["n_participants"] == 18
    # a defensible paired variance: never below (1/N)(2(1-r)) for N participants
    assert r["vi"] >= 1 / 18


def test_change_and_endpoint_smds_are_not_mixed_by_default(tmp_path):
    es, unused = build_effect_sizes(load_dataset(copy_valid(tmp_path / "d")), make_settings())
    smd = es[(es["effect"] == "smd") & (es["outcome"] == "depression")]
    assert "endpoint" not in set(smd["basis"])
    assert set(smd.loc[smd["study_id"] == "alpha2001", "time_bin"]) == {"h24", "d7"}
    # at 24 h alpha2001's endpoint means are refused, so its printed d (basis unknown) enters, with J
    r = _one(smd, study_id="alpha2001", time_bin="h24")
    assert r["basis"] == "unknown" and r["yi"] == pytest.approx(0.3 * float(effects.hedges_j(58)), abs=1e-12)
    assert unused["reason"].str.contains("smd_measure = change").any()


def test_printed_contrast_of_one_dose_arm_is_not_used_when_arms_are_combined(tmp_path):
    d = copy_valid(tmp_path / "d")
    with (d / "contrasts.csv").open("a", encoding="utf-8") as f:
        f.write(
            "beta2002,ket_1.0,mdz,depression,48,first_dose,smd,0.9,0.3,,,30,30,hamd17,"
            "https://example.org/beta,Abstract,d=0.9,reported\n"
        )
    es, unused = build_effect_sizes(load_dataset(d), make_settings(handling=_mixed()))
    assert not ((es["study_id"] == "beta2002") & (es["time_bin"] == "d2_3")).any()
    assert unused["reason"].str.contains("one of several ketamine arms").any()


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
    assert assign_bin(t, make_settings().time_bins) == expected


def test_within_person_d_of_a_crossover_is_rescaled_with_the_paired_variance(tmp_path):
    """A printed within-person d (MD / SD of differences) of N = 20 participants: SMD = d sqrt(2(1-r)),
    variance (1/N + SMD^2/2N) 2(1-r), whatever CI the paper printed (session 1 used the printed CI of a
    mixed model, a variance ~4x too small). r = 0.2 makes the rescaling visible."""
    d = _paired_gamma(tmp_path, ",md,6.0,2.5,,,,,madrs,", ",smd,0.8,,0.7,0.9,,,madrs,")
    cfg = make_settings(handling={"crossover_r": 0.2})
    r = _one(build_effect_sizes(load_dataset(d), cfg)[0], study_id="gamma2003", outcome="depression")
    g = 0.8 * np.sqrt(2 * 0.8)
    assert r["yi"] == pytest.approx(g, abs=1e-12)
    assert r["vi"] == pytest.approx((1 / 20 + g**2 / 40) * 2 * 0.8, abs=1e-12)  # N = 20 who had both conditions
    assert {"paired_to_between", "paired_variance"} <= set(r["conversions"].split(";"))
    assert "se_from_ci_t" not in r["conversions"]  # the printed CI is not used for a paired d
