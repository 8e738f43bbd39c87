"""The PRISMA 2020-style flow figure of the logged search (counts from :mod:`ketamine_meta.evidence.prisma`)."""

from __future__ import annotations

import pandas as pd

from ketamine_meta.outputs.style import PAGE_WIDTH, plt, style


def _short(label: str, width: int = 44) -> str:
    """A reason group's label for the figure: up to its first colon or parenthesis, at most ``width``."""
    head = label.split(":")[0].split(" (")[0].strip()
    return head if len(head) <= width else head[: width - 1].rstrip() + "…"


def prisma_figure(counts: pd.DataFrame):
    """Boxes and arrows: identification -> screening -> included, exclusions to the side."""
    style()
    n = dict(zip(counts["stage"], counts["n"]))
    excl = [(s.removeprefix("excluded: "), v) for s, v in n.items() if s.startswith("excluded: ")]
    incl = [(s.removeprefix("included: "), v) for s, v in n.items() if s.startswith("included: ")]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 4.2))
    ax.set_axis_off()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)

    def box(x, y, text, w=4.2, h=1.2):
        # explicit colours: the seaborn house style draws patch edges white
        ax.add_patch(plt.Rectangle((x - w / 2, y - h / 2), w, h, fill=False, lw=0.8, ec="#333333"))
        ax.text(x, y, text, ha="center", va="center", fontsize=6.5, wrap=True)

    def arrow(x0, y0, x1, y1):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops={"arrowstyle": "->", "lw": 0.7, "color": "#333333"})

    if "queries run" in n:
        box(2.6, 9.0, f"Identification: {n['queries run']} logged queries\n"
                      f"{n['records returned (unique pages)']} unique pages returned")  # fmt: skip
        arrow(2.6, 8.4, 2.6, 7.2)
    box(2.6, 6.6, f"Candidate studies screened\nn = {n.get('candidate studies screened', len(incl))}")
    arrow(2.6, 6.0, 2.6, 4.2)
    # group labels cut at their first colon: the full wording is in search/exclusion_categories.csv
    lines = "\n".join(f"{_short(g)}: {v}" for g, v in excl)
    box(7.6, 6.2, f"Excluded, n = {n.get('excluded', 0)}\n{lines}", w=4.6, h=0.45 * (len(excl) + 1) + 0.3)
    arrow(4.7, 6.6, 5.4, 6.6)
    box(2.6, 3.4, f"Included, n = {n.get('included', '')}\n" + "\n".join(f"{g}: {v}" for g, v in incl), h=1.6)
    arrow(2.6, 2.6, 2.6, 1.6)
    box(2.6, 1.0, f"In a primary pooled analysis\nn = {n['in at least one primary pooled analysis']}")
    return fig
