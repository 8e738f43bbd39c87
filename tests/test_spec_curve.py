"""Specification curve: the axis follows the estimates, not the widest interval; verdicts and the
claim are labelled; the primary analysis is marked."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402

from ketamine_meta.outputs import plots  # noqa: E402


def test_a_wide_interval_is_clipped_and_the_verdicts_are_in_the_legend():
    rows = pd.DataFrame({"spec_id": list("abcdefghij"), "estimate": [0.5 + 0.02 * i for i in range(10)],
                         "ci_low": [0.3 + 0.02 * i for i in range(9)] + [-40.0],
                         "ci_high": [0.7 + 0.02 * i for i in range(9)] + [40.0],
                         "verdict": ["inconclusive"] * 8 + ["reproduced", "inconclusive"],
                         "is_primary": [False] * 4 + [True] + [False] * 5, "k": [3] * 9 + [1],
                         "method": ["REML", "PM"] * 5})  # fmt: skip
    fig = plots.spec_curve(rows, (0.6, 1.0), "claim: metric", ["method"], value_label="Hedges' g")
    top = fig.axes[0]
    lo, hi = top.get_ylim()
    assert -1 < lo < 0.3 and 0.9 < hi < 2  # the +-40 interval does not set the axis
    labels = {t.get_text() for t in top.get_legend().get_texts()}
    assert {"claimed", "primary analysis", "reproduced", "inconclusive"} <= labels
    assert top.get_ylabel() == "Hedges' g"
    matplotlib.pyplot.close(fig)
