"""Workflow steps that pool: every analysis, the time-course model, relapse, adverse events,
sensitivity diagnostics, the PRISMA counts and the plan of the forest plots."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ketamine_meta.core.config import load_config
from ketamine_meta.data.load import load_dataset
from ketamine_meta.evidence import adverse, analyses, prisma, relapse, timecourse
from ketamine_meta.outputs import forest_table, writers
from ketamine_meta.outputs.captions import EFFECT_AXIS, funnel_caption, prisma_caption
from ketamine_meta.pipeline.tables import read
from ketamine_meta.stats import sensitivity


def pool(config_path: Path, effects_csv: Path, out_pooled: Path, out_moderators: Path, out_subgroups: Path,
         out_dose: Path) -> None:  # fmt: skip
    """Every pooled analysis, the moderator tests with their subgroup tables, and dose-response."""
    cfg = load_config(config_path)
    es = read(effects_csv)
    writers.write_csv(analyses.run_pooling(es, cfg), out_pooled)
    writers.write_csv(analyses.moderator_comparisons(es, cfg), out_moderators)
    writers.write_csv(analyses.subgroup_estimates(es, cfg), out_subgroups)
    writers.write_csv(analyses.dose_regression(es, cfg), out_dose)


def forest_plan_step(config_path: Path, effects_csv: Path, pooled_csv: Path, moderators_csv: Path,
                     out_index: Path, out_rows: Path) -> None:  # fmt: skip
    """forest_index.csv (every forest plot: cell, k, title, size, caption) and forest_rows.csv (the
    rows each one draws, with every number it prints); the forest job draws from them, and the
    report is built from the index while it does."""
    cfg = load_config(config_path)
    index, rows = forest_table.forest_plan(cfg, read(effects_csv), read(pooled_csv), read(moderators_csv),
                                           load_dataset(cfg.data_dir).tables)  # fmt: skip
    writers.write_csv(index, out_index)
    writers.write_csv(rows, out_rows)


def timecourse_model_step(config_path: Path, effects_csv: Path, out_predictions: Path, out_summary: Path) -> None:
    """Study-clustered (CR2) meta-regression of the effect on log time, per route and overall."""
    cfg = load_config(config_path)
    preds, summary = timecourse.timecourse_model(read(effects_csv), cfg)
    writers.write_csv(preds, out_predictions)
    writers.write_csv(summary, out_summary)


def relapse_step(config_path: Path, out_studies: Path, out_pooled: Path, out_medians: Path, out_shares: Path) -> None:
    """Relapse among responders: per study, pooled per condition x window, medians and printed shares."""
    cfg = load_config(config_path)
    table = load_dataset(cfg.data_dir)["relapse"]
    by_study = relapse.relapse_by_study(table, cfg)
    writers.write_csv(by_study, out_studies)
    writers.write_csv(relapse.pool_relapse(by_study, cfg), out_pooled)
    writers.write_csv(relapse.share_summary(by_study, cfg), out_shares)
    writers.write_csv(relapse.median_times(table, Path(cfg.data_dir) / "km"), out_medians)


def adverse_step(config_path: Path, out_pooled: Path) -> None:
    """Adverse events pooled per event (risk ratios and group proportions)."""
    cfg = load_config(config_path)
    ds = load_dataset(cfg.data_dir)
    writers.write_csv(adverse.pool_adverse(ds.tables.get("adverse_events"), ds["arms"], ds["studies"], cfg), out_pooled)


def prisma_step(config_path: Path, effects_csv: Path, out_table: Path, out_stem: Path) -> None:
    """PRISMA flow of the logged search: counts table and flow figure."""
    from ketamine_meta.outputs.prisma_figure import prisma_figure  # the only figure of this step

    cfg = load_config(config_path)
    ds = load_dataset(cfg.data_dir)
    counts = prisma.prisma_counts(cfg.data_dir, ds.tables, read(effects_csv))
    writers.write_csv(counts, out_table)
    writers.save_figure(prisma_figure(counts), out_stem, prisma_caption(cfg))


def sensitivity_step(config_path: Path, effects_csv: Path, out_leave1out: Path, out_influence: Path,
                     out_cumulative: Path, out_regtest: Path, out_dir: Path) -> None:  # fmt: skip
    """Leave-one-out, influence, cumulative-by-year and (k >= min_k_regtest) Egger's test with a
    funnel plot, for every primary ketamine-vs-control analysis over all routes."""
    cfg = load_config(config_path)
    m = cfg.model
    args = {"method": m.method, "test": m.test, "level": m.level}
    tables: dict[str, list] = {"leave1out": [], "influence": [], "cumulative": [], "regtest": []}
    out_dir.mkdir(parents=True, exist_ok=True)
    for c in analyses.sensitivity_cells(read(effects_csv), m.min_k_influence):
        aid = c.analysis_id
        tables["leave1out"].append(sensitivity.leave1out(c.yi, c.vi, c.labels, **args).assign(analysis_id=aid))
        tables["influence"].append(sensitivity.influence(c.yi, c.vi, c.labels, **args).assign(analysis_id=aid))
        tables["cumulative"].append(
            sensitivity.cumulative(c.yi, c.vi, c.year, c.labels, **args).assign(analysis_id=aid)
        )
        if len(c.yi) >= m.min_k_regtest:
            from ketamine_meta.outputs.funnel import funnel_plot  # only cells with k >= min_k_regtest draw

            tables["regtest"].append(sensitivity.regtest(c.yi, c.vi, **args).assign(analysis_id=c.analysis_id))
            fig = funnel_plot(c.yi, c.vi, c.labels, method=m.method, level=m.level, label="out",
                              xlabel=EFFECT_AXIS[c.effect][0], title=c.analysis_id)  # fmt: skip
            writers.save_figure(fig, out_dir / f"funnel_{c.outcome}_{c.effect}_{c.time_bin}",
                                funnel_caption(cfg, c.analysis_id))  # fmt: skip
    paths = {"leave1out": out_leave1out, "influence": out_influence, "cumulative": out_cumulative,
             "regtest": out_regtest}  # fmt: skip
    for name, frames in tables.items():
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["analysis_id"])
        writers.write_csv(df[["analysis_id", *[c for c in df.columns if c != "analysis_id"]]], paths[name])
