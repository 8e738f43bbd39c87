"""Funnel plot, as ``metafor::funnel`` draws it for an intercept-only model.

Returns a matplotlib Figure and never writes files (:func:`ketamine_meta.outputs.writers.save_figure` does).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ketamine_meta.outputs.style import OKABE_ITO, PAGE_WIDTH, plt, style
from ketamine_meta.stats.pooling import rma

#: metafor's default resolution of the pseudo-confidence lines (``ci.res``).
CI_RES = 1000


def funnel_plot(
    yi,
    vi,
    labels=None,
    method: str = "REML",
    level: float = 0.95,
    addtau2: bool = False,
    label: bool | str | int = False,
    xlabel: str = "Observed outcome",
    title: str | None = None,
) -> plt.Figure:
    """Funnel plot: each study's effect against its standard error, with pseudo-CI lines.

    Matches ``metafor::funnel`` with its defaults (``yaxis="sei"``, no contours): the points are
    ``(y_i, sqrt(v_i))``; the y axis runs from 0 (top) to ``max(sei)`` (bottom); the vertical
    reference line is the random-effects estimate ``b`` from :func:`ketamine_meta.stats.pooling.rma`
    with ``method``; the pseudo-confidence lines are ``b ± z_{(1+level)/2} · sqrt(se² + τ²·addtau2)``
    for ``se`` from 0 to ``1.1 · max(sei)`` (clipped by the axis, as in metafor). Axis limits are
    metafor's: x from ``min(b - z·s_max, min y)`` to ``max(b + z·s_max, max y)`` (``s_max`` the
    largest SE, plus τ² when ``addtau2``) widened by 10% each side, then both axes padded by 4% as
    R does (``xaxs = yaxs = "r"``), so the limits equal ``par("usr")`` after ``funnel(fit)``.

    Parameters
    ----------
    yi, vi : array-like
        Effect sizes and sampling variances (analysis scale).
    labels : sequence of str, optional
        Study labels (default ``"1"``..``"k"``), written next to the points chosen by ``label``.
    method : str
        τ² estimator for the reference estimate (``REML`` default; the test does not change it).
    level : float
        Level of the pseudo-confidence region (metafor uses the fit's level, 0.95 by default).
    addtau2 : bool
        Add τ² to the sampling variances of the region (metafor's ``addtau2``; default False).
    label : bool, str or int
        Which points to label, as metafor's ``label``: ``False`` (default) none; ``True`` or
        ``"all"`` all; ``"out"`` those outside the pseudo-CI region
        (``|y_i - b| / sqrt(v_i + τ²·addtau2) >= z``); an integer ``n`` the ``n`` points farthest
        from ``b`` in ``|y_i - b|``. Text goes right of points at or above ``b``, left otherwise.
    xlabel, title : str
        Axis label and optional title (none by default).

    Returns
    -------
    matplotlib.figure.Figure
        One axes; the study points are its last collection (``ax.collections[-1]``), and
        the reference and pseudo-CI lines carry the labels ``"estimate"``, ``"pseudo-CI low"``
        and ``"pseudo-CI high"``.
    """
    style()
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    sei = np.sqrt(v)
    fit = rma(y, v, method=method, test="z", level=level)
    ref = fit.beta
    tau2 = fit.tau2 if addtau2 and np.isfinite(fit.tau2) else 0.0
    z = float(special.ndtri((1 + level) / 2))
    smax = float(sei.max())
    lo_bot, hi_bot = ref - z * np.sqrt(smax**2 + tau2), ref + z * np.sqrt(smax**2 + tau2)
    xlim = np.array([min(lo_bot, y.min()), max(hi_bot, y.max())])
    xlim += np.array([-1, 1]) * 0.1 * (xlim[1] - xlim[0])
    xlim += np.array([-1, 1]) * 0.04 * (xlim[1] - xlim[0])  # R's axis padding
    ylim = np.array([smax, 0.0])
    ylim += np.array([1, -1]) * 0.04 * smax

    names = [str(i + 1) for i in range(y.size)] if labels is None else [str(x) for x in labels]
    if len(names) != y.size:
        raise ValueError(f"labels has {len(names)} entries for {y.size} studies")
    labelled = _labelled(label, y, v, ref, tau2, z)  # validates ``label`` before a figure exists

    fig, ax = plt.subplots(figsize=(PAGE_WIDTH / 2, PAGE_WIDTH / 2))
    se_vals = np.linspace(1.1 * smax, 0.0, CI_RES)
    half = z * np.sqrt(se_vals**2 + tau2)
    ax.fill_betweenx(se_vals, ref - half, ref + half, color="white", zorder=0)
    ax.set_facecolor("#EBEBEB")
    ax.plot(ref - half, se_vals, ls=":", color="#555555", lw=0.9, label="pseudo-CI low")
    ax.plot(ref + half, se_vals, ls=":", color="#555555", lw=0.9, label="pseudo-CI high")
    ax.plot([ref, ref], [1.1 * smax, 0.0], ls=":", color=OKABE_ITO[0], lw=0.9, label="estimate")
    ax.scatter(y, sei, s=14, color=OKABE_ITO[5], zorder=3)
    for i in labelled:
        right = y[i] >= ref
        ax.annotate(
            names[i],
            (y[i], sei[i]),
            textcoords="offset points",
            xytext=(4 if right else -4, 0),
            ha="left" if right else "right",
            va="center",
            fontsize=6,
        )
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)  # inverted: SE 0 at the top
    ax.grid(False)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Standard error")
    if title:
        ax.set_title(title, loc="left")
    fig.tight_layout()
    return fig


def _labelled(label, y, v, ref, tau2, z) -> list[int]:
    """Indices of the points to label, by metafor's ``funnel(label=)`` rule."""
    if label is False or label is None:
        return []
    if label is True or label == "all":
        return list(range(y.size))
    if label == "out":
        return [int(i) for i in np.flatnonzero(np.abs(y - ref) / np.sqrt(v + tau2) >= z)]
    if isinstance(label, (int, np.integer)):
        n = min(max(int(round(label)), 0), y.size)
        return [int(i) for i in np.argsort(-np.abs(y - ref), kind="stable")[:n]]
    raise ValueError(f"label must be False, True, 'all', 'out' or an integer, not {label!r}")
