"""Effect sizes and their sampling variances, as ``metafor::escalc`` computes them.

All functions are vectorised over NumPy arrays and return ``(yi, vi)``. Group 1 is the group
whose advantage makes the effect positive; callers put ketamine in the right slot so that a
positive effect always favours ketamine (see :mod:`ketamine_meta.evidence.comparisons`).
"""

from __future__ import annotations

import numpy as np
from scipy import special

#: z quantile for a two-sided 95% interval, used to turn printed CIs into SEs.
Z975 = float(special.ndtri(0.975))


def proportion_ci(x: int, n: int, method: str, alpha: float = 0.05) -> tuple[float, float]:
    """statsmodels' ``proportion_confint`` (``method`` "wilson" or "beta" = Clopper-Pearson).

    statsmodels.stats.proportion is imported here, on first use, not with this module: it pulls
    in scipy.stats (~0.5 s), which the jobs that never compute a proportion's interval (the
    figure jobs) should not pay for."""
    from statsmodels.stats.proportion import proportion_confint

    return proportion_confint(x, n, alpha=alpha, method=method)


def _arr(*xs):
    return [np.asarray(x, dtype=float) for x in xs]


def hedges_j(m):
    """Exact small-sample correction factor of Hedges' g.

    ``J(m) = Γ(m/2) / (sqrt(m/2) Γ((m-1)/2))`` with ``m = n1 + n2 - 2``; metafor's ``.cmicalc``.
    """
    m = np.asarray(m, dtype=float)
    return np.exp(special.gammaln(m / 2) - 0.5 * np.log(m / 2) - special.gammaln((m - 1) / 2))


def smd(m1, sd1, n1, m2, sd2, n2):
    """Hedges' g of group 1 minus group 2 with metafor's default large-sample variance.

    ``g = J (m1 - m2) / s_p``, ``s_p² = ((n1-1) sd1² + (n2-1) sd2²) / (n1 + n2 - 2)``,
    ``v = 1/n1 + 1/n2 + g² / (2 (n1 + n2))``.
    Matches ``metafor::escalc(measure="SMD", vtype="LS")``.
    """
    m1, sd1, n1, m2, sd2, n2 = _arr(m1, sd1, n1, m2, sd2, n2)
    sp = np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (n1 + n2 - 2))
    yi = hedges_j(n1 + n2 - 2) * (m1 - m2) / sp
    vi = 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))
    return yi, vi


def smd_from_d(d, n1, n2):
    """Hedges' g and its variance from a Cohen's d computed with the pooled SD (same formula as :func:`smd`)."""
    d, n1, n2 = _arr(d, n1, n2)
    yi = hedges_j(n1 + n2 - 2) * d
    return yi, 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))


def md(m1, sd1, n1, m2, sd2, n2):
    """Raw mean difference, ``v = sd1²/n1 + sd2²/n2``. Matches ``escalc(measure="MD")``."""
    m1, sd1, n1, m2, sd2, n2 = _arr(m1, sd1, n1, m2, sd2, n2)
    return m1 - m2, sd1**2 / n1 + sd2**2 / n2


def _add_to_zero_tables(cells, add):
    """Add ``add`` to every cell of each 2x2 table that has a zero cell (metafor ``to="only0"``)."""
    cells = np.stack(np.broadcast_arrays(*cells))
    has_zero = (cells == 0).any(axis=0)
    return cells + add * has_zero


def log_rr(ai, n1, ci, n2, add=0.5):
    """Log risk ratio of group 1 versus group 2.

    ``y = log(a/n1) - log(c/n2)``, ``v = 1/a - 1/n1 + 1/c - 1/n2``; ``add`` is added to all four
    cells of a table with a zero cell. Matches ``escalc(measure="RR", add=1/2, to="only0")``.
    """
    ai, n1, ci, n2 = _arr(ai, n1, ci, n2)
    a, b, c, d = _add_to_zero_tables([ai, n1 - ai, ci, n2 - ci], add)
    n1a, n2a = a + b, c + d
    return np.log(a / n1a) - np.log(c / n2a), 1 / a - 1 / n1a + 1 / c - 1 / n2a


def log_or(ai, n1, ci, n2, add=0.5):
    """Log odds ratio, ``v = 1/a + 1/b + 1/c + 1/d``. Matches ``escalc(measure="OR", to="only0")``."""
    ai, n1, ci, n2 = _arr(ai, n1, ci, n2)
    a, b, c, d = _add_to_zero_tables([ai, n1 - ai, ci, n2 - ci], add)
    return np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d


def rd(ai, n1, ci, n2, add=0.5):
    """Risk difference of group 1 minus group 2, ``v = p1(1-p1)/n1 + p2(1-p2)/n2``.

    As for the ratio measures, ``add`` goes to all four cells of a table with a zero cell (metafor
    applies ``to="only0"`` to RD as well). Matches ``escalc(measure="RD")``.
    """
    ai, n1, ci, n2 = _arr(ai, n1, ci, n2)
    a, b, c, d = _add_to_zero_tables([ai, n1 - ai, ci, n2 - ci], add)
    p1, p2 = a / (a + b), c / (c + d)
    return p1 - p2, p1 * (1 - p1) / (a + b) + p2 * (1 - p2) / (c + d)


#: Comparative binary effects by name (each takes the zero-cell correction ``add``).
BINARY_EFFECTS = {"log_rr": log_rr, "log_or": log_or, "rd": rd}


def logit_p(xi, ni, add=0.5):
    """Logit of a single proportion, ``v = 1/x + 1/(n - x)``; ``add`` to both cells when one is 0.

    Matches ``escalc(measure="PLO", add=1/2, to="only0")``.
    """
    xi, ni = _arr(xi, ni)
    x, m = _add_to_zero_tables([xi, ni - xi], add)
    return np.log(x / m), 1 / x + 1 / m


def inv_logit(x):
    return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))


def sd_from_se(se, n):
    """``SD = SE · sqrt(n)`` (the SE of one group's mean)."""
    se, n = _arr(se, n)
    return se * np.sqrt(n)


def se_from_ci(low, high, z=Z975):
    """SE of a symmetric (on the analysis scale) 95% CI: ``(high - low) / (2 z)``."""
    low, high = _arr(low, high)
    return (high - low) / (2 * z)


def g_from_md_se(md_, se, n1, n2):
    """Hedges' g from a mean difference and its SE, recovering the pooled SD.

    For two independent groups ``SE(MD) = s_p sqrt(1/n1 + 1/n2)``, so
    ``s_p = SE / sqrt(1/n1 + 1/n2)``, ``d = MD / s_p`` and ``g = J d`` (Cochrane Handbook 6.5.2.3).
    An LS-mean SE from an adjusted model makes this approximate; callers record it.
    """
    md_, se, n1, n2 = _arr(md_, se, n1, n2)
    sp = se / np.sqrt(1 / n1 + 1 / n2)
    return smd_from_d(md_ / sp, n1, n2)


def combine_groups(n, mean, sd):
    """Combine several arms into one: total n, pooled mean and SD (Cochrane Handbook Table 6.5.a).

    Applied pairwise: ``N = n1 + n2``, ``M = (n1 m1 + n2 m2)/N``,
    ``SD² = ((n1-1) s1² + (n2-1) s2² + n1 n2 (m1 - m2)² / N) / (N - 1)``.
    """
    n, mean, sd = (list(map(float, x)) for x in (n, mean, sd))
    N, M, S = n[0], mean[0], sd[0]
    for n2, m2, s2 in zip(n[1:], mean[1:], sd[1:]):
        tot = N + n2
        S = np.sqrt(((N - 1) * S**2 + (n2 - 1) * s2**2 + N * n2 * (M - m2) ** 2 / tot) / (tot - 1))
        M = (N * M + n2 * m2) / tot
        N = tot
    return N, M, float(S)
