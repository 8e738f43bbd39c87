"""What runs in one process: the workflow jobs that chain several steps.

Starting Python with pandas, SciPy and matplotlib costs about a second a job, more than most
steps' own work, so small steps that follow each other share a job. Each step stays its own
function (in the ``*_steps`` modules, which never import each other); this module only chains them.
The figure steps are imported by the jobs that draw (matplotlib and seaborn with SciPy's stats
cost ~0.6 s a process), so the pooling job, which draws no figure on most data, does not pay for them.
"""

from __future__ import annotations

from pathlib import Path

from ketamine_meta.pipeline.analysis_steps import (
    adverse_step,
    forest_plan_step,
    pool,
    prisma_step,
    relapse_step,
    sensitivity_step,
    timecourse_model_step,
)
from ketamine_meta.pipeline.claim_steps import claims_step, metrics_step


def pool_all(config_path: Path, effects_csv: Path, out_pooled: Path, out_moderators: Path, out_subgroups: Path,
             out_dose: Path, out_predictions: Path, out_summary: Path, out_relapse_studies: Path,
             out_relapse_pooled: Path, out_relapse_medians: Path, out_relapse_shares: Path,
             out_adverse: Path, out_metrics: Path, out_leave1out: Path, out_influence: Path, out_cumulative: Path,
             out_regtest: Path, out_funnel: Path, out_forest_index: Path, out_forest_rows: Path) -> None:  # fmt: skip
    """:func:`~.analysis_steps.pool`, :func:`~.analysis_steps.forest_plan_step`,
    :func:`~.analysis_steps.timecourse_model_step`,
    :func:`~.analysis_steps.relapse_step`, :func:`~.analysis_steps.adverse_step` and
    :func:`~.claim_steps.metrics_step` and :func:`~.analysis_steps.sensitivity_step` in one process: steps
    that would otherwise each pay for starting Python and its imports."""

    pool(config_path, effects_csv, out_pooled, out_moderators, out_subgroups, out_dose)
    forest_plan_step(config_path, effects_csv, out_pooled, out_moderators, out_forest_index, out_forest_rows)
    timecourse_model_step(config_path, effects_csv, out_predictions, out_summary)
    relapse_step(config_path, out_relapse_studies, out_relapse_pooled, out_relapse_medians, out_relapse_shares)
    adverse_step(config_path, out_adverse)
    metrics_step(config_path, out_pooled, out_moderators, out_dose, out_predictions, out_summary, out_relapse_pooled,
                 out_relapse_medians, out_relapse_shares, effects_csv, out_adverse, out_metrics)  # fmt: skip
    sensitivity_step(config_path, effects_csv, out_leave1out, out_influence, out_cumulative, out_regtest, out_funnel)


def pooled_figures_step(config_path: Path, pooled_csv: Path, model_csv: Path, subgroups_csv: Path,
                        moderators_csv: Path, effects_csv: Path, out_timecourse: Path, out_moderators: Path,
                        out_prisma_table: Path, out_prisma: Path) -> None:  # fmt: skip
    """The figures of the pooled tables in one process: the time course, the moderators, the PRISMA
    flow (with its counts table)."""
    from ketamine_meta.pipeline.figure_steps import moderators_figure_step, timecourse_step

    timecourse_step(config_path, pooled_csv, model_csv, out_timecourse)
    moderators_figure_step(config_path, subgroups_csv, moderators_csv, out_moderators)
    prisma_step(config_path, effects_csv, out_prisma_table, out_prisma)


def claims_job(config_path: Path, metrics_csv: Path, multiverse_summary_csv: Path, regtest_csv: Path, out_csv: Path,
               out_md: Path, relapse_studies_csv: Path, relapse_pooled_csv: Path, out_overview: Path,
               out_estimates: Path, out_relapse: Path, multiverse_csv: Path, out_spec_curves: Path,
               out_spec_curve_index: Path, pooled_csv: Path, model_csv: Path, subgroups_csv: Path,
               moderators_csv: Path, effects_csv: Path, out_timecourse: Path, out_moderators: Path,
               out_prisma_table: Path, out_prisma: Path) -> None:  # fmt: skip
    """:func:`~.claim_steps.claims_step`, then the figures of the verdicts
    (:func:`~.figure_steps.claim_figures_step`) from the claims.csv it wrote, the specification
    curves (:func:`~.figure_steps.spec_curves_step`) and the figures of the pooled tables
    (:func:`pooled_figures_step`): every figure but the forest plots, in one process."""
    from ketamine_meta.pipeline.figure_steps import claim_figures_step, spec_curves_step

    claims_step(config_path, metrics_csv, multiverse_summary_csv, regtest_csv, out_csv, out_md)
    claim_figures_step(config_path, out_csv, relapse_studies_csv, relapse_pooled_csv, out_overview, out_estimates,
                       out_relapse)  # fmt: skip
    spec_curves_step(config_path, multiverse_csv, out_spec_curves, out_spec_curve_index)
    pooled_figures_step(config_path, pooled_csv, model_csv, subgroups_csv, moderators_csv, effects_csv,
                        out_timecourse, out_moderators, out_prisma_table, out_prisma)  # fmt: skip
