"""Forest plots: the numbers they print, read back from the SVG files the forest step writes.

The plan (forest_index.csv, forest_rows.csv) and the drawing run on the committed tables
(``results/tables``) into pytest's temporary folder, as the pooling and forest jobs run them. In the
SVG, matplotlib writes every text as an XML comment before its glyphs, and the plot gives its
artists ids (``square-<study>-<row>``, ``weight-<study>-<row>``, ``het-<row>``, ``test-<row>``), so
the tests can read weights, labels and heterogeneity lines without reading pixels.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import ROOT

from ketamine_meta.outputs import forest, forest_table
from ketamine_meta.pipeline import analysis_steps
from ketamine_meta.pipeline import figure_steps as steps

RESULTS = ROOT / "results" / "tables"
H24 = "forest_depression_smd_contrast_h24"


@pytest.fixture(scope="module")
def drawn(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("forest")
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg.update(results_dir=str(out / "results"), work_dir=str(out / "work"))
    (out / "config.json").write_text(json.dumps(cfg))
    cwd = os.getcwd()
    os.chdir(ROOT)  # data_dir is relative to the repository, as in the workflow
    try:
        # as in the workflow: the pooling job plans the plots, the forest job draws them
        analysis_steps.forest_plan_step(out / "config.json", RESULTS / "effect_sizes.csv", RESULTS / "pooled.csv",
                                        RESULTS / "moderators.csv", out / "forest_index.csv",
                                        out / "forest_rows.csv")  # fmt: skip
        steps.forest_step(out / "config.json", out / "forest_index.csv", out / "forest_rows.csv", out / "forest")
    finally:
        os.chdir(cwd)
    return out


def texts(svg: str) -> dict[str, str]:
    """id of each text group -> the text it draws (SVG text elements: the figures keep their text)."""
    return {
        gid: html.unescape(t) for gid, t in re.findall(r'<g id="([^"]+)">\s*<text [^>]*>(.*?)</text>', svg, flags=re.S)
    }


def square_sides(svg: str) -> dict[str, float]:
    """study id -> side of its square, in points, from the marker path inside ``square-…``."""
    out = {}
    for gid, body in re.findall(r'<g id="square-([^"]+)">(.*?)</g>', svg, flags=re.S):
        d = re.search(r'<path id="[^"]+" d="M (-?[\d.]+) (-?[\d.]+)\s*L (-?[\d.]+)', body)
        out[gid.rsplit("-", 1)[0]] = abs(float(d.group(3)) - float(d.group(1)))
    return out


@pytest.fixture(scope="module")
def h24(drawn):
    svg = (drawn / "forest" / f"{H24}.svg").read_text(encoding="utf-8")
    es = pd.read_csv(RESULTS / "effect_sizes.csv")
    cell = es[es["primary"] & (es["outcome"] == "depression") & (es["effect"] == "smd") & (es["group"] == "contrast")
              & (es["time_bin"] == "h24")]  # fmt: skip
    pooled = pd.read_csv(RESULTS / "pooled.csv").set_index("analysis_id")
    return svg, cell, pooled


def test_study_labels_not_ids(h24):
    svg, cell, _ = h24
    shown = texts(svg)
    studies = pd.read_csv(ROOT / "data" / "extracted" / "studies.csv").set_index("study_id")["label"]
    labels = [t for gid, t in shown.items() if gid.startswith("label-")]
    for sid in cell["study_id"]:
        assert any(t.startswith(studies[sid]) for t in labels), (sid, labels)
        assert sid not in " ".join(shown.values())  # the id itself is never printed
    assert "Lapidus 2014 (crossover)" in labels


def test_weights_are_random_effects_weights_in_percent(h24):
    svg, cell, pooled = h24
    tau2 = pooled.loc["depression.smd.contrast.all.h24.primary", "tau2"]
    w = 1 / (cell["vi"] + tau2)
    expected = dict(zip(cell["study_id"], 100 * w / w.sum()))
    shown = {gid.split("-")[1]: t for gid, t in texts(svg).items() if gid.startswith("weight-")}
    for sid, pct in expected.items():
        assert shown[sid] == f"{pct:.1f}%"
    assert shown["total"] == "100.0%"
    assert sum(expected.values()) == pytest.approx(100.0)
    assert max(expected.values()) > 1.5 * min(expected.values())  # the weights differ in this cell


def test_squares_area_proportional_to_weight(h24):
    svg, cell, pooled = h24
    tau2 = pooled.loc["depression.smd.contrast.all.h24.primary", "tau2"]
    w = dict(zip(cell["study_id"], 1 / (cell["vi"] + tau2)))
    sides = square_sides(svg)
    assert set(sides) == set(w)
    heavy, light = max(w, key=w.get), min(w, key=w.get)
    assert sides[heavy] > sides[light] * 1.2  # squares differ in size when weights differ
    assert sides[heavy] == pytest.approx(forest_table.SQUARE_MAX, rel=1e-3)  # SVG user units are points
    for sid in w:
        assert (sides[sid] / sides[heavy]) ** 2 == pytest.approx(w[sid] / w[heavy], rel=1e-3)


def test_heterogeneity_and_subgroup_lines(h24):
    svg, _, pooled = h24
    shown = texts(svg)
    total = pooled.loc["depression.smd.contrast.all.h24.primary"]
    het = [t for gid, t in shown.items() if gid.startswith("het-")]
    p = forest_table.p_text(total["q_p"]).replace("<", "&lt;")  # as the SVG text escapes it
    k = int(total["k"])
    want = f"Heterogeneity: τ² = {total['tau2']:.3f}; I² = {total['i2']:.0f}%; Q = {total['q']:.2f}, df = {k - 1} ({p})"
    assert want in het
    inn = pooled.loc["depression.smd.contrast.intranasal.h24.primary"]
    assert any(f"I² = {inn['i2']:.0f}%" in t and f"df = {int(inn['k']) - 1}" in t for t in het)
    mods = pd.read_csv(RESULTS / "moderators.csv")
    qm = mods[(mods["moderator"] == "route") & (mods["outcome"] == "depression") & (mods["effect"] == "smd")
              & (mods["time_bin"] == "h24")].iloc[0]  # fmt: skip
    tests = [t for gid, t in shown.items() if gid.startswith("test-")]
    df = str(qm["qm_df"]).replace(",", ", ")
    assert tests == [f"Test for subgroup differences: QM = {qm['qm']:.2f}, F({df}), {forest_table.p_text(qm['qm_p'])}"]
    # column headers and the estimate column
    assert {"Study", "Ketamine", "Control", "Weight", "g [95% CI]"} <= set(shown.values())
    est = [t for gid, t in shown.items() if gid.startswith("estimate-total")]
    assert est == [f"{total['estimate']:.2f} [{total['ci_low']:.2f}, {total['ci_high']:.2f}]"]


def test_per_arm_data(drawn):
    """Counts for binary outcomes; mean (SD), n where one arm-level row per side exists."""
    shown = texts((drawn / "forest" / "forest_response_log_rr_contrast_any_time.svg").read_text(encoding="utf-8"))
    es = pd.read_csv(RESULTS / "effect_sizes.csv")
    r = es[es["primary"] & (es["outcome"] == "response") & (es["effect"] == "log_rr") & (es["time_bin"] == "any_time")
           & (es["study_id"] == "hu2016")].iloc[0]  # fmt: skip
    arms = {gid.split("-")[1]: t for gid, t in shown.items() if gid.startswith("arm-") and "hu2016" in gid}
    assert arms == {"t": f"{int(r['events_treatment'])}/{int(r['n_treatment'])}",
                    "c": f"{int(r['events_control'])}/{int(r['n_control'])}"}  # fmt: skip
    smd = texts((drawn / "forest" / f"{H24}.svg").read_text(encoding="utf-8"))
    oc = pd.read_csv(ROOT / "data" / "extracted" / "outcomes_continuous.csv")
    row = es[es["primary"] & (es["effect"] == "smd") & (es["time_bin"] == "h24") & (es["study_id"] == "murrough2013")]
    ket = oc.iloc[int(row["source_rows"].iloc[0].split(";")[0].split(":")[1]) - 2]
    got = [t for gid, t in smd.items() if gid.startswith("arm-t-murrough2013-")]
    assert got == [f"{ket['mean']:.1f} ({ket['sd']:.1f}), {int(ket['n'])}".replace("-", "−")]


def test_log_axes_in_natural_units_and_clipped_arrows(drawn):
    index = pd.read_csv(drawn / "forest_index.csv")
    assert len(index) > 20
    for stem in index["figure"].str.replace("figures/forest/", "").str.replace(".png", ""):
        svg = (drawn / "forest" / f"{stem}.svg").read_text(encoding="utf-8")
        assert "10^" not in svg and "10^{" not in svg, stem
    svg = (drawn / "forest" / "forest_response_log_rr_contrast_h24.svg").read_text(encoding="utf-8")
    ticks = re.findall(r'<g id="text_\d+">\s*<text [^>]*>([\d.]+)</text>', svg)
    assert {"1", "5", "10"} <= set(ticks)


def test_axis_range_ignores_one_wide_diamond():
    """A k = 2 Knapp-Hartung subtotal of g ± 17 does not stretch the axis; it is clipped."""
    rows = pd.DataFrame({"effect": "smd", "yi": [0.3, 0.5, 0.7], "vi": [0.04, 0.05, 0.03], "study_id": ["a", "b", "c"],
                         "route": ["iv", "iv", "oral"], "comparison": "k vs p", "crossover": False, "group": "contrast",
                         "year": [2000, 2001, 2002], "n_treatment": 20, "n_control": 20, "outcome": "depression",
                         "time_bin": "d14"})  # fmt: skip
    pooled = pd.DataFrame({"route": ["all", "iv", "oral"], "k": [3, 2, 1], "n_participants": [120, 80, 40],
                           "estimate": [0.5, 0.4, 0.7], "ci_low": [0.2, -16.6, 0.36], "ci_high": [0.8, 17.4, 1.04],
                           "pi_low": [0.1, np.nan, np.nan], "pi_high": [0.9, np.nan, np.nan],
                           "tau2": [0.0, 0.0, np.nan], "i2": [0.0, 0.0, np.nan], "q": [1.0, 0.5, np.nan],
                           "beta": [0.5, 0.4, 0.7],
                           "se": [0.1, 0.15, 0.17]})  # fmt: skip
    table = forest_table.forest_rows(rows, pooled)
    fig = forest.forest_plot(table, "smd", "test")
    lo, hi = fig.axes[0].get_xlim()
    assert -1.0 < lo < 0 and 0.9 < hi < 2.0
    arrows = [ln for ln in fig.axes[0].lines if ln.get_marker() in ("<", ">")]
    assert len(arrows) == 2  # the iv subtotal, cut at both ends
    assert table.loc[table["kind"] == "study", "weight"].sum() == pytest.approx(100.0)


def test_risk_difference_and_proportion_axes_stay_possible():
    lo, hi = forest.axis_limits("rd", [0.9, 0.95], [0.4, 0.5], [1.3, 1.6])
    assert hi == 1.0 and -0.1 < lo <= 0.0  # the null is on the axis, the intervals past 1 are cut
    lo, hi = forest.axis_limits("rd", [-0.2, 0.3], [-1.4, -0.1], [0.1, 1.5])
    assert -1.0 <= lo < -0.2 and 0.3 < hi <= 1.0
    lo, hi = forest.axis_limits("logit_p", [0.1, 0.9], [0.0, 0.5], [0.4, 1.0])
    assert 0.0 <= lo and hi <= 1.0
    lo, hi = forest.axis_limits("log_rr", [2.0, 3.0], [1.2, 1.5], [3.3, 6.0])
    assert lo < 1.0 < 2.0 < 3.0 < hi  # the null and every estimate are on the axis


def test_subgroup_test_matches_revman():
    """Q = Σ (β_g - β̄)²/se_g² on G - 1 df (Cochrane Handbook 10.11.3.1)."""
    q, df, p = forest_table.subgroup_test([0.2, 0.6], [0.1, 0.2])
    w = np.array([100.0, 25.0])
    mean = (w * [0.2, 0.6]).sum() / w.sum()
    assert q == pytest.approx(float((w * (np.array([0.2, 0.6]) - mean) ** 2).sum()))
    assert df == 1 and p == pytest.approx(math.erfc(math.sqrt(q / 2)))
    assert forest_table.subgroup_test([0.2], [0.1])[1] == 0


def test_svg_is_byte_identical_on_redraw(drawn, tmp_path):
    from ketamine_meta.outputs import writers as outputs

    es = pd.read_csv(RESULTS / "effect_sizes.csv")
    pooled = pd.read_csv(RESULTS / "pooled.csv")
    cell = es[es["primary"] & (es["outcome"] == "depression") & (es["effect"] == "smd") & (es["time_bin"] == "h24")]
    p = pooled[(pooled["subset"] == "primary") & (pooled["outcome"] == "depression") & (pooled["effect"] == "smd")
               & (pooled["group"] == "contrast") & (pooled["time_bin"] == "h24")]  # fmt: skip
    for name in ("a", "b"):
        outputs.save_figure(forest.forest_plot(forest_table.forest_rows(cell, p), "smd", "t"), tmp_path / name, "c")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


def test_svg_text_is_text_with_font_fallbacks(drawn):
    """The SVGs keep their text as <text> elements, and every one names the fallback fonts
    (matplotlib writes only 'DejaVu Sans', which a viewer without it replaces by its default)."""
    from ketamine_meta.outputs.writers import SVG_FONT_FALLBACK

    svg = (drawn / "forest" / f"{H24}.svg").read_text(encoding="utf-8")
    styles = re.findall(r"<text style=\"([^\"]*)\"", svg)
    assert len(styles) > 30
    assert all(SVG_FONT_FALLBACK in st for st in styles)
    assert "font-family: 'DejaVu Sans';" not in svg


def test_every_plot_prints_its_rows_of_forest_rows_csv(drawn):
    """The forest job draws from the plan alone: in every plot, each row's label, weight and
    estimate text are the ones forest_rows.csv lists for that row (row i of the plot is row i of
    the figure's rows), and the plan's PNG size is the drawn PNG's."""
    from ketamine_meta.outputs.report import png_size

    index = pd.read_csv(drawn / "forest_index.csv")
    rows = pd.read_csv(drawn / "forest_rows.csv", dtype=str, keep_default_na=False)
    assert set(rows["figure"]) == set(index["figure"]) and len(index) > 20
    checked = 0
    for r in index.itertuples(index=False):
        stem = Path(r.figure).stem
        assert png_size(drawn / "forest" / f"{stem}.png") == (r.png_width, r.png_height), stem
        shown = texts((drawn / "forest" / f"{stem}.svg").read_text(encoding="utf-8"))
        plan = rows[rows["figure"] == r.figure].reset_index(drop=True)
        for i, row in plan.iterrows():
            sid = row["study_id"] or row["kind"]
            if row["kind"] in ("study", "subtotal", "total"):
                assert shown[f"label-{sid}-{i}"] == row["label"], (stem, i)
                assert shown[f"estimate-{sid}-{i}"] == row["text"], (stem, i)
                assert shown.get(f"weight-{sid}-{i}", "") == row["weight_text"], (stem, i)
                checked += 1
    assert checked > 200
