"""Adverse events: arms combined per trial, risk ratios pooled as rma on escalc(RR), MH beside it."""

from __future__ import annotations

import math

import pytest
from helpers import copy_valid, make_settings

from ketamine_meta.data.load import load_dataset
from ketamine_meta.evidence.adverse import pool_adverse
from ketamine_meta.stats import effects
from ketamine_meta.stats.pooling import rma


def test_dissociation_risk_ratio_and_group_rates(tmp_path):
    d = copy_valid(tmp_path / "d")
    with (d / "adverse_events.csv").open("a", encoding="utf-8") as f:
        for arm, x, pct in (("ket_0.5", 9, 30), ("ket_1.0", 12, 40), ("mdz", 2, 7)):
            f.write(
                f"beta2002,{arm},dissociation,proportion,,,,{x},30,,,,,participants,https://example.org/beta,T3,"
                f"{x} ({pct}%),reported\n"
            )
    ds = load_dataset(d)
    pooled = pool_adverse(ds["adverse_events"], ds["arms"], ds["studies"], make_settings()).set_index("analysis_id")
    # alpha2001 5/20 vs 1/20; beta2002's two ketamine arms combined: 21/60 vs 2/30
    y, v = effects.log_rr([5, 21], [20, 60], [1, 2], [20, 30])
    fit = rma(y, v, method="REML", test="knha")
    row = pooled.loc["ae.dissociation.log_rr.all"]
    assert row["k"] == 2
    assert row["estimate"] == pytest.approx(math.exp(fit.beta), abs=1e-12)
    assert row["ci_low"] == pytest.approx(math.exp(fit.ci_low), abs=1e-12)
    assert pooled.loc["ae.dissociation.mh_rr.all", "method"] == "MH"
    assert pooled.loc["ae_rate.dissociation.control.all", "k"] == 2
