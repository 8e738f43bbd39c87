"""Relapse proportions: windows, logit pooling equal to rma on escalc(PLO) values, medians."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import make_config

from ketamine_meta import effects
from ketamine_meta.pooling import rma
from ketamine_meta.relapse import median_summary, pool_relapse, relapse_by_study


def _table():
    rows = [
        ("s2001", "none", 11, 6, 28, None),
        ("s2002", "none", 5, 3, 28, 16.0),
        ("s2003", "none", 20, 12, 30, 21.0),
        ("s2004", "none", 10, 4, 14, None),
        ("s2005", "cbt", 8, 2, 56, 84.0),
    ]
    return pd.DataFrame(
        [
            {
                "study_id": s,
                "condition": c,
                "n_responders": n,
                "n_relapsed": k,
                "followup_days": d,
                "median_days_to_relapse": m,
                "relapse_definition": "",
                "_row": i + 2,
            }
            for i, (s, c, n, k, d, m) in enumerate(rows)
        ]
    )


def test_windows_and_pooled_proportion_match_rma_on_logits():
    cfg = make_config()
    by = relapse_by_study(_table(), cfg)
    assert dict(zip(by["study_id"], by["window"])) == {
        "s2001": "w4",
        "s2002": "w4",
        "s2003": "w4",
        "s2004": "w2",
        "s2005": "",
    }
    pooled = pool_relapse(by, cfg).set_index("analysis_id")
    y, v = effects.logit_p([6, 3, 12], [11, 5, 20])
    fit = rma(y, v, method="REML", test="knha")
    row = pooled.loc["relapse.none.w4"]
    assert row["k"] == 3
    assert row["estimate"] == pytest.approx(float(effects.inv_logit(fit.beta)), abs=1e-12)
    assert row["ci_low"] == pytest.approx(float(effects.inv_logit(fit.ci_low)), abs=1e-12)


def test_median_of_medians_and_range():
    med = median_summary(_table()).set_index("condition")
    assert med.loc["none", ["k", "median_of_medians", "min", "max"]].tolist() == [2, 18.5, 16.0, 21.0]
