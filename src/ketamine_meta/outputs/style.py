"""The house style of every figure: palette, sizes, fonts and the deterministic SVG settings.

Style: one colour-blind-safe palette (Okabe & Ito 2008) for routes and verdicts, sized for a
journal column (3.5 in) or a page width (7 in), readable at 300 dpi.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless and deterministic; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

OKABE_ITO = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]
ROUTE_COLOURS = {"all": "#000000", "iv": "#0072B2", "intranasal": "#E69F00", "oral": "#009E73", "im_sc": "#CC79A7"}
VERDICT_COLOURS = {
    "reproduced": "#009E73",
    "inconclusive": "#E69F00",
    "contradicted": "#D55E00",
    "not_testable": "#999999",
}
PAGE_WIDTH = 7.0


def style() -> None:
    """The house style; called by every figure function so figures do not depend on call order."""
    sns.set_theme(context="paper", style="whitegrid", font="DejaVu Sans", font_scale=1.0)
    plt.rcParams.update(
        {
            "svg.hashsalt": "ketamine-meta",  # fixed ids in SVG output: byte-identical reruns
            # text stays text in the SVG (editable and searchable, as journals ask of vector art, and
            # a sixth of the size and a third of the time of glyph outlines); writers.save_figure
            # adds the fallbacks a viewer without DejaVu Sans uses
            "svg.fonttype": "none",
            # glyphs as drawn, not snapped to the pixel grid: hinting is for screens at ~100 dpi and
            # distorts glyph shapes at print resolution; unhinted 300-dpi PNGs also draw ~15 %
            # faster (set_text without the autohinter). SVG text metrics do not use hinting.
            "text.hinting": "no_hinting",
            "figure.dpi": 100,
            "axes.titlesize": 9,
            "axes.labelsize": 8,
            "xtick.labelsize": 7,
            "ytick.labelsize": 7,
            "legend.fontsize": 7,
        }
    )
