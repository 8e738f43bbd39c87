"""Mantel-Haenszel pooling of 2x2 tables (RevMan's default for dichotomous outcomes).

The odds ratio and its Robins-Breslow-Greenland variance come from ``statsmodels``'
``StratifiedTable``; the risk ratio (which statsmodels gives without a variance) uses the
Greenland-Robins (1985) variance. Both match ``metafor::rma.mh(measure="OR"/"RR")``: raw counts,
no continuity correction, tables without events in either arm contribute nothing.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def mh_pool(a, n1, c, n2, measure: str, level: float = 0.95) -> dict:
    """Mantel-Haenszel log OR or log RR of group 1 (``a`` events of ``n1``) vs group 2.

    ``RR_MH = Σ a_i n2_i / N_i / Σ c_i n1_i / N_i``,
    ``Var(log RR_MH) = Σ (n1_i n2_i (a_i + c_i) - a_i c_i N_i) / N_i² / (Σ a_i n2_i / N_i · Σ c_i n1_i / N_i)``.
    Returns ``beta`` (log scale), ``se``, ``ci_low``/``ci_high`` (log scale, z), ``k`` (tables used).
    """
    a, n1, c, n2 = (np.asarray(x, dtype=float) for x in (a, n1, c, n2))
    keep = (a + c > 0) & (a + c < n1 + n2)  # all-or-none tables carry no information
    if measure == "log_rr":
        keep = a + c > 0
    a, n1, c, n2 = a[keep], n1[keep], c[keep], n2[keep]
    k = int(keep.sum())
    z = special.ndtri(0.5 + level / 2)
    empty = {"k": k, "beta": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    N = n1 + n2
    if k == 0:
        return empty
    # an arm without events (RR) or a product without discordance (OR) in every table: not estimable
    if measure == "log_rr" and (not (a * n2 / N).sum() > 0 or not (c * n1 / N).sum() > 0):
        return empty
    if measure == "log_or" and (not (a * (n2 - c) / N).sum() > 0 or not ((n1 - a) * c / N).sum() > 0):
        return empty
    if measure == "log_or":
        tables = np.stack([np.stack([a, n1 - a], axis=-1), np.stack([c, n2 - c], axis=-1)], axis=-2)
        # imported on use: statsmodels (with scipy.stats) is ~1 s that only the pooling job needs
        from statsmodels.stats.contingency_tables import StratifiedTable

        st = StratifiedTable(np.moveaxis(tables, 0, -1))
        beta, se = float(st.logodds_pooled), float(st.logodds_pooled_se)
    elif measure == "log_rr":
        R, S = (a * n2 / N).sum(), (c * n1 / N).sum()
        beta = float(np.log(R / S))
        se = float(np.sqrt(((n1 * n2 * (a + c) - a * c * N) / N**2).sum() / (R * S)))
    else:
        raise ValueError(f"Mantel-Haenszel is defined here for log_or and log_rr, not {measure!r}")
    return {"k": k, "beta": beta, "se": se, "ci_low": beta - z * se, "ci_high": beta + z * se}
