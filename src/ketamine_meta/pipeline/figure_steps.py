"""Workflow steps that draw: forest plots, the time course, moderators, relapse, claims and
specification curves. Captions come from :mod:`ketamine_meta.outputs.captions`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ketamine_meta.claims import multiverse
from ketamine_meta.claims import registry as claims
from ketamine_meta.core.config import load_config
from ketamine_meta.data.load import load_dataset
from ketamine_meta.outputs import captions, forest, plots, writers
from ketamine_meta.pipeline.tables import read

#: axis label of a specification curve, by claim family
SPEC_CURVE_UNITS = {
    "pooled": "Hedges' g or ratio (reporting scale)",
    "rate": "Proportion",
    "ratio": "Ratio to the SSRI g",
    "route_diff": "Difference in g",
    "moderator_diff": "Difference",
    "relapse": "Proportion relapsed",
}


def forest_step(config_path: Path, index_csv: Path, rows_csv: Path, out_dir: Path) -> None:
    """Draw every forest plot of forest_index.csv from its rows in forest_rows.csv (both written by
    the pooling job: :func:`ketamine_meta.outputs.forest_table.forest_plan`), with its caption."""
    cfg = load_config(config_path)
    index = read(index_csv)
    # the texts as written (an empty weight or arm cell is "", not NaN); the numbers as numbers
    rows = pd.read_csv(rows_csv, dtype=str, keep_default_na=False)
    for col in ("weight", "est", "lo", "hi"):
        rows[col] = pd.to_numeric(rows[col].replace("", None), errors="raise").astype(float)
    by_figure = dict(tuple(rows.groupby("figure", sort=False)))
    out_dir.mkdir(parents=True, exist_ok=True)
    for r in index.itertuples(index=False):
        table = by_figure[r.figure].drop(columns="figure").reset_index(drop=True)
        fig = forest.forest_plot(table, r.effect, r.title, cfg.model.level, r.group)
        writers.save_figure(fig, out_dir / Path(r.figure).stem, r.caption)


def timecourse_step(config_path: Path, pooled_csv: Path, model_csv: Path, out_stem: Path) -> None:
    """Pooled g per time bin and route with the single-dose time-course model's curve."""
    cfg = load_config(config_path)
    model = read(model_csv)
    fig = plots.timecourse_plot(read(pooled_csv), cfg.time_bins, model[model["dosing"] == "single"],
                                level=cfg.model.level)  # fmt: skip
    writers.save_figure(fig, out_stem, captions.timecourse_caption(cfg))


def moderators_figure_step(config_path: Path, subgroups_csv: Path, moderators_csv: Path, out_stem: Path,
                           time_bin: str = "h24") -> None:  # fmt: skip
    """Subgroup estimates and moderator tests for depression SMD at one time bin (24 h)."""
    cfg = load_config(config_path)
    sg, mods = read(subgroups_csv), read(moderators_csv)
    pick = {"outcome": "depression", "effect": "smd", "time_bin": time_bin}
    for col, val in pick.items():
        sg, mods = sg[sg[col] == val], mods[mods[col] == val]
    title = f"Depression (Hedges' g) at {cfg.bin_label(time_bin)} by moderator"
    fig = plots.moderator_plot(sg, mods, title, cfg.model.level)
    writers.save_figure(fig, out_stem, captions.moderators_caption(cfg, title))


def relapse_figure_step(config_path: Path, studies_csv: Path, pooled_csv: Path, claims_csv: Path,
                        out_stem: Path) -> None:  # fmt: skip
    """Relapse by follow-up day per study, pooled windows and the documents' claims."""
    cfg = load_config(config_path)
    ds = load_dataset(cfg.data_dir)
    raw = ds["relapse"]
    printed = raw[raw["n_relapsed"].isna() & raw["proportion_relapsed"].notna() & raw["followup_days"].notna()]
    pooled = read(pooled_csv)
    # k = 1 is the study's own point; the figure shows responders (remitters are in the tables)
    pooled = pooled[(pooled["induction"] == "any") & (pooled["k"] >= 2) & (pooled["cohort"] == "responders")]
    boxes = plots.relapse_claim_boxes(read(claims_csv), cfg.relapse.windows)
    studies = read(studies_csv)
    studies = studies[studies["counted"].astype(str).str.lower() == "true"]  # printed-only shares: open markers
    fig = plots.relapse_plot(studies, printed, pooled, cfg.relapse.windows, boxes,
                             captions.study_labels(ds["studies"]))  # fmt: skip
    writers.save_figure(fig, out_stem, captions.relapse_caption(cfg))


def claims_figures_step(config_path: Path, claims_csv: Path, out_overview: Path, out_estimates: Path) -> None:
    """The verdicts per document, and every testable claim's claimed against regenerated value."""
    cfg = load_config(config_path)
    cl = read(claims_csv)
    writers.save_figure(plots.claims_overview(cl), out_overview, captions.claims_overview_caption(cfg, len(cl)))
    writers.save_figure(plots.claims_estimates(cl), out_estimates, captions.claims_estimates_caption(cfg))


def spec_curves_step(config_path: Path, multiverse_csv: Path, out_dir: Path, out_index: Path) -> None:
    """A specification-curve figure per central claim that has a multiverse."""
    cfg = load_config(config_path)
    mv = read(multiverse_csv)
    registry = {c.claim_id: c for c in claims.load_claims(cfg.claims_file)}
    out_dir.mkdir(parents=True, exist_ok=True)
    index = []
    for cid, rows in mv.groupby("claim_id", sort=True):
        c = registry[cid]
        if not c.central or not rows["estimate"].notna().any():
            continue
        # one point per distinct analysis (the primary's row kept), untestable ones counted in the caption
        rows = rows.sort_values("is_primary", ascending=False).drop_duplicates("distinct_id").sort_index()
        testable = rows[rows["verdict"] != "not_testable"]
        if c.rule in ("within", "ratio", "equivalence"):
            lo, hi = claims.claimed_range(c, cfg)
        else:
            lo, hi = c.claimed, c.claimed
        dims = [d for d in multiverse.DIMENSIONS if rows[d].nunique() > 1]
        args = (testable, (lo, hi), f"{cid}: {c.metric}", dims or list(multiverse.DIMENSIONS[:1]),
                SPEC_CURVE_UNITS.get(c.family, "Regenerated value"))  # fmt: skip
        n = len(testable)
        share = testable["supports"].mean() if n else float("nan")
        caption = captions.spec_curve_caption(cfg, cid, c.document, c.metric, n, len(rows) - n, dims, share)
        writers.save_figure(plots.spec_curve(*args), out_dir / cid, caption)
        index.append({"claim_id": cid, "figure": f"figures/spec_curve/{cid}.png", "n_specs": n, "caption": caption})
    writers.write_csv(pd.DataFrame(index, columns=["claim_id", "figure", "n_specs", "caption"]), out_index)


def claim_figures_step(config_path: Path, claims_csv: Path, relapse_studies_csv: Path, relapse_pooled_csv: Path,
                       out_overview: Path, out_estimates: Path, out_relapse: Path) -> None:  # fmt: skip
    """The figures that show verdicts, in one process: verdicts per document, claimed against
    regenerated values, and relapse with the documents' claims."""
    claims_figures_step(config_path, claims_csv, out_overview, out_estimates)
    relapse_figure_step(config_path, relapse_studies_csv, relapse_pooled_csv, claims_csv, out_relapse)
