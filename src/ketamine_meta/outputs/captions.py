"""Every caption and every phrase that names a number-moving choice, rendered from the config.

One module, so a choice added to ``handling`` or ``model`` is named in every figure and table
caption by editing one function, and a reader tracing a parameter finds its wording here.
Captions are the Markdown/HTML layer: numbers become text here and nowhere earlier.
"""

from __future__ import annotations

import pandas as pd

from ketamine_meta.core.settings import Config

#: Effect -> (axis label, log axis) of the figures; the label also names the effect in captions.
#: Here, not in style.py, so that a caption never imports matplotlib (the pooling job draws nothing).
EFFECT_AXIS = {
    "smd": ("Hedges' g (positive favours ketamine)", False),
    "log_rr": ("Risk ratio (ketamine / control)", True),
    "log_or": ("Odds ratio (ketamine / control)", True),
    "log_hr": ("Hazard ratio (control / ketamine)", True),
    "logit_p": ("Proportion", False),
    "rd": ("Risk difference (ketamine - control)", False),
}


def model_phrase(cfg: Config) -> str:
    """The model named in every caption: estimator, CI method, level, zero-cell correction."""
    m = cfg.model
    ci = "Knapp-Hartung t intervals (k-1 df)" if m.test == "knha" else "normal (z) intervals"
    return (
        f"random-effects model, τ² by {m.method}, {ci}, {m.level:.0%} level; "
        f"{m.add} added to cells of tables with a zero; {effect_methods_phrase(cfg)}"
    )


def effect_methods_phrase(cfg: Config) -> str:
    """The effect-size choices that move numbers (config ``handling``), named in every caption."""
    h = cfg.handling
    xo = {"paired": f"paired analysis (Handbook 23.2.7), within-person r = {h.crossover_r:g}",
          "first_period": "first period only", "exclude": "excluded"}[h.crossover]  # fmt: skip
    measure = {"change": "change-score and baseline-adjusted SMDs (endpoint SMDs not mixed in)",
               "endpoint": "endpoint-score and baseline-adjusted SMDs (change SMDs not mixed in)",
               "mixed": "change and endpoint SMDs mixed"}[h.smd_measure]  # fmt: skip
    conv = "mean differences converted to g" if h.contrast_md_to_g else "printed mean differences not converted"
    return (f"multi-arm trials: {h.multi_arm}; crossover trials: {xo}; {measure}; {conv}; "
            f"SE from CI by {h.ci_to_se}; controls {', '.join(h.controls)}")  # fmt: skip


def study_labels(studies: pd.DataFrame) -> dict[str, str]:
    """study_id -> the label studies.csv gives it ("Lapidus 2014"), the id where the label is empty."""
    lab = studies.set_index("study_id")["label"] if "label" in studies.columns else pd.Series(dtype=str)
    return {sid: (str(lab[sid]) if sid in lab.index and pd.notna(lab[sid]) else sid) for sid in studies["study_id"]}


def forest_caption(cfg: Config, title: str, k_all: int, effect: str, multi_route: bool, has_qm: bool,
                   has_mh: bool) -> str:  # fmt: skip
    """Caption of one forest plot: data, effect, weights, subtotals, subgroup test and model."""
    level = cfg.model.level
    parts = [
        f"{title}. Data: {k_all} studies from {cfg.data_dir} (primary set: controls "
        f"{', '.join(cfg.handling.controls)}). Effect: {EFFECT_AXIS[effect][0]}; study intervals "
        f"are {level:.0%} z intervals from escalc variances. Weights: random-effects weights 1/(vi + τ²) of the "
        "all-routes model, as % of their sum; square areas are proportional to them. Diamonds: pooled "
        "estimates with their confidence intervals; the bar under the total is the prediction interval "
        "(predict.rma)."
    ]
    if multi_route:
        parts.append("Route subtotals are separate fits within each route.")
        parts.append(
            "Test for subgroup differences: the mixed-effects test of route (QM, tables/moderators.csv)."
            if has_qm
            else "Test for subgroup differences: Q of the route estimates around their inverse-variance mean, "
            "standard errors from their intervals (RevMan)."
        )
    if has_mh:
        parts.append("Open diamond: Mantel-Haenszel common effect (statsmodels), a sensitivity check.")
    parts.append(f"Intervals past the axis end in an arrowhead. Model: {model_phrase(cfg)}.")
    return " ".join(parts)


def timecourse_caption(cfg: Config) -> str:
    level = cfg.model.level
    bins = sorted(cfg.time_bins.values(), key=lambda b: b.low_h)  # in time order, whatever the key order
    return (
        f"Pooled Hedges' g (ketamine vs control, depression scores) in each time bin, per route group and "
        f"all routes; vertical bars are {level:.0%} CIs, grey bars the prediction interval for all routes where k ≥ 3; "
        "point area grows with k (key in the legend). Open points: k ≤ 2, whose Knapp-Hartung intervals "
        "(t with 1 df or a single study's z interval) are wide; the y range is set by the estimates and the "
        "intervals of k ≥ 3, and an interval that runs past it ends in an arrowhead. Bins (hours after the "
        "dose): "
        + "; ".join(f"{b.label} ({b.low_h:g}-{b.high_h:g} h)" for b in bins)
        + ". The dashed curve and its band are the study-clustered (CR2) meta-regression on log time, fitted to "
        "single-dose trials only (repeated-dose trials are modelled apart in tables/timecourse_model.csv: their "
        f"hours count from the first of several doses). Data: {cfg.data_dir}. Model: {model_phrase(cfg)}."
    )


def moderators_caption(cfg: Config, title: str) -> str:
    return (f"{title}: pooled g within each level (separate fits) and the p of the mixed-effects test of the "
            f"moderator (QM; {cfg.model.test}). Moderators and reference levels: "
            + "; ".join(f"{k} ({v.column}, reference {v.reference})" for k, v in cfg.moderators.items())
            + f". Data: {cfg.data_dir}. Model: {model_phrase(cfg)}.")  # fmt: skip


def relapse_caption(cfg: Config) -> str:
    windows = "; ".join(f"{k}: days {w.low_days}-{w.high_days}" for k, w in cfg.relapse.windows.items())
    return (
        "Proportion of responders who relapsed by the follow-up day each study reports, with 95% "
        f"{cfg.relapse.study_ci.title()} intervals (filled) or as a printed percentage without a count (open). "
        f"Diamonds: pooled proportion per window ({windows}) where at least two studies report one, "
        + (
            "binomial-normal GLMM (ML, z interval)"
            if cfg.relapse.method == "glmm"
            else "pooled counts, Clopper-Pearson"
        )  # fmt: skip
        + ", single-dose and course inductions together. Dashed boxes: the documents' claims. "
        f"Data: {cfg.data_dir}/relapse.csv."
    )


def claims_overview_caption(cfg: Config, n_claims: int) -> str:
    return (f"Verdicts of the {n_claims} claims in the registry ({cfg.claims_file}), per seed document. "
            f"Rules in config/README.md. Pooled numbers: {model_phrase(cfg)}.")  # fmt: skip


def claims_estimates_caption(cfg: Config) -> str:
    return (
        "Each testable claim's claimed value or range (grey) against the regenerated estimate and its "
        f"interval (CI; for median days the range of study medians), coloured by verdict. {model_phrase(cfg)}."
    )


def spec_curve_caption(cfg: Config, claim_id: str, document: str, metric: str, n: int, n_untestable: int,
                       dims: list[str], share: float) -> str:  # fmt: skip
    return (f"Specification curve of claim {claim_id} ({document}): the regenerated {metric} in each of "
            f"{n} distinct analyses ({n_untestable} further specifications had no data), varying "
            f"{', '.join(dims) or 'nothing'}; sorted, with intervals, coloured by verdict; grey band or "
            f"line: the claimed value. {share:.0%} of distinct analyses reproduce the claim. Circled: the "
            f"primary analysis ({model_phrase(cfg)}).")  # fmt: skip


def funnel_caption(cfg: Config, analysis_id: str) -> str:
    return (f"Funnel plot of {analysis_id}: each study's effect against its standard error, pseudo-confidence "
            f"lines around the {cfg.model.method} estimate. {model_phrase(cfg)}.")  # fmt: skip


def prisma_caption(cfg: Config) -> str:
    return (
        "PRISMA 2020-style flow of the literature search of the stored collection: logged queries and the "
        "unique pages they returned (data/extracted/search/), candidate studies screened and excluded with "
        "grouped reasons (screening.csv), included studies by design, and those in at least one primary pooled "
        f"analysis. Data: {cfg.data_dir}."
    )
