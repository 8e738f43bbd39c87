"""One function per pipeline step: read named inputs, compute, write named outputs.

The Snakemake rules call these through the thin scripts in ``workflow/scripts/``; each also runs
without Snakemake (``python workflow/scripts/<step>.py --help``). Config is the resolved config
file the workflow writes, so a step never reads Snakemake's globals.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from . import (
    adverse,
    analyses,
    certainty,
    claims,
    comparisons,
    documents,
    findings,
    forest,
    funnel,
    metrics,
    multiverse,
    outputs,
    plots,
    prisma,
    provenance,
    relapse,
    sensitivity,
    timecourse,
)
from .analyses import MH_EFFECTS
from .config import load_config
from .errors import ConfigError, InputError, KetamineMetaError
from .io import TABLES, load_dataset


def _read(path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=True)


def model_phrase(cfg: dict) -> str:
    """The model named in every caption: estimator, CI method, level, zero-cell correction."""
    m = cfg["model"]
    ci = "Knapp-Hartung t intervals (k-1 df)" if m["test"] == "knha" else "normal (z) intervals"
    return (
        f"random-effects model, τ² by {m['method']}, {ci}, {m['level']:.0%} level; "
        f"{m['add']} added to cells of tables with a zero; {effect_methods_phrase(cfg)}"
    )


def effect_methods_phrase(cfg: dict) -> str:
    """The effect-size choices that move numbers (config ``handling``), named in every caption."""
    h = cfg["handling"]
    xo = {"paired": f"paired analysis (Handbook 23.2.7), within-person r = {h['crossover_r']:g}",
          "first_period": "first period only", "exclude": "excluded"}[h["crossover"]]  # fmt: skip
    measure = {"change": "change-score and baseline-adjusted SMDs (endpoint SMDs not mixed in)",
               "endpoint": "endpoint-score and baseline-adjusted SMDs (change SMDs not mixed in)",
               "mixed": "change and endpoint SMDs mixed"}[h["smd_measure"]]  # fmt: skip
    conv = "mean differences converted to g" if h["contrast_md_to_g"] else "printed mean differences not converted"
    return (f"multi-arm trials: {h['multi_arm']}; crossover trials: {xo}; {measure}; {conv}; "
            f"SE from CI by {h['ci_to_se']}; controls {', '.join(h['controls'])}")  # fmt: skip


def validate(config_path, report_path) -> None:
    """Load every input once; any problem raises before a result is written."""
    cfg = load_config(config_path)
    seeds = cfg["seeds_dir"]
    if seeds and not Path(seeds).is_dir():
        # a clone without ../shared beside it: the quotes cannot be checked, everything else can
        logging.warning("seeds_dir %s not found: claim quotes not checked against the documents", seeds)
        seeds = ""
    # the data and the claims registry are both checked, so one run reports the problems of both
    failures: list[KetamineMetaError] = []
    try:
        ds = load_dataset(cfg["data_dir"])
    except InputError as err:
        failures.append(err)
    try:
        registry = claims.load_claims(cfg["claims_file"], seeds_dir=seeds or None)
    except ConfigError as err:
        failures.append(err)
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise KetamineMetaError("\n".join(map(str, failures)))
    lines = [f"data_dir: {cfg['data_dir']}", f"quotes checked against: {seeds or 'nothing (no seeds_dir)'}"]
    lines += [f"{name}.csv: {len(df)} rows" for name, df in ds.tables.items()]
    lines.append(f"claims: {len(registry)} entries in {cfg['claims_file']}")
    outputs.write_text("\n".join(lines), report_path)


def effect_sizes(config_path, out_effects, out_unused) -> None:
    cfg = load_config(config_path)
    es, unused = comparisons.build_effect_sizes(load_dataset(cfg["data_dir"]), cfg)
    outputs.write_csv(es, out_effects)
    outputs.write_csv(unused, out_unused)


def pool(config_path, effects_csv, out_pooled, out_moderators, out_subgroups, out_dose) -> None:
    """Every pooled analysis, the moderator tests with their subgroup tables, and dose-response."""
    cfg = load_config(config_path)
    es = _read(effects_csv)
    outputs.write_csv(analyses.run_pooling(es, cfg), out_pooled)
    outputs.write_csv(analyses.moderator_comparisons(es, cfg), out_moderators)
    outputs.write_csv(analyses.subgroup_estimates(es, cfg), out_subgroups)
    outputs.write_csv(analyses.dose_regression(es, cfg), out_dose)


def timecourse_model_step(config_path, effects_csv, out_predictions, out_summary) -> None:
    """Study-clustered (CR2) meta-regression of the effect on log time, per route and overall."""
    cfg = load_config(config_path)
    preds, summary = timecourse.timecourse_model(_read(effects_csv), cfg)
    outputs.write_csv(preds, out_predictions)
    outputs.write_csv(summary, out_summary)


def relapse_step(config_path, out_studies, out_pooled, out_medians, out_shares) -> None:
    cfg = load_config(config_path)
    table = load_dataset(cfg["data_dir"])["relapse"]
    by_study = relapse.relapse_by_study(table, cfg)
    outputs.write_csv(by_study, out_studies)
    outputs.write_csv(relapse.pool_relapse(by_study, cfg), out_pooled)
    outputs.write_csv(relapse.share_summary(by_study, cfg), out_shares)
    outputs.write_csv(relapse.median_times(table, Path(cfg["data_dir"]) / "km"), out_medians)


def prisma_step(config_path, effects_csv, out_table, out_stem) -> None:
    """PRISMA flow of the logged search: counts table and flow figure."""
    cfg = load_config(config_path)
    ds = load_dataset(cfg["data_dir"])
    counts = prisma.prisma_counts(cfg["data_dir"], ds.tables, _read(effects_csv))
    outputs.write_csv(counts, out_table)
    caption = (
        "PRISMA 2020-style flow of the literature search of the stored collection: logged queries and the "
        "unique pages they returned (data/extracted/search/), candidate studies screened and excluded with "
        "grouped reasons (screening.csv), included studies by design, and those in at least one primary pooled "
        f"analysis. Data: {cfg['data_dir']}."
    )
    outputs.save_figure(prisma.prisma_figure(counts), out_stem, caption)


def adverse_step(config_path, out_pooled) -> None:
    """Adverse events pooled per event (risk ratios and group proportions)."""
    cfg = load_config(config_path)
    ds = load_dataset(cfg["data_dir"])
    outputs.write_csv(adverse.pool_adverse(ds.tables.get("adverse_events"), ds["arms"], ds["studies"], cfg), out_pooled)


def metrics_step(
    config_path,
    pooled_csv,
    moderators_csv,
    dose_csv,
    timecourse_csv,
    timecourse_summary_csv,
    relapse_pooled_csv,
    medians_csv,
    shares_csv,
    effects_csv,
    adverse_csv,
    out_metrics,
) -> None:
    """Every number a claim can be checked against, under its metric key."""
    cfg = load_config(config_path)
    ref = load_dataset(cfg["data_dir"]).tables.get("reference_values")
    tables = metrics.Inputs(
        pooled=_read(pooled_csv),
        moderators=_read(moderators_csv),
        dose=_read(dose_csv),
        timecourse=_read(timecourse_csv),
        timecourse_summary=_read(timecourse_summary_csv),
        relapse_pooled=_read(relapse_pooled_csv),
        relapse_medians=_read(medians_csv),
        relapse_shares=_read(shares_csv),
        effect_sizes=_read(effects_csv),
        reference=ref,
        adverse=_read(adverse_csv),
    )
    outputs.write_csv(metrics.build_metrics(cfg, tables), out_metrics)


def sensitivity_step(
    config_path, effects_csv, out_leave1out, out_influence, out_cumulative, out_regtest, out_dir
) -> None:
    """Leave-one-out, influence, cumulative-by-year and (k >= min_k_regtest) Egger's test with a
    funnel plot, for every primary ketamine-vs-control analysis over all routes."""
    cfg = load_config(config_path)
    m = cfg["model"]
    es = _read(effects_csv)
    es = es[es["primary"].astype(bool) & (es["group"] == "contrast")]
    tables: dict[str, list] = {"leave1out": [], "influence": [], "cumulative": [], "regtest": []}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for (outcome, effect, time_bin), cell in es.groupby(["outcome", "effect", "time_bin"], sort=True):
        if len(cell) < m["min_k_influence"]:
            continue
        aid = analyses.analysis_id(outcome, effect, "contrast", "all", time_bin, "primary")
        y, v, lab = cell["yi"].to_numpy(), cell["vi"].to_numpy(), cell["study_id"].tolist()
        args = {"method": m["method"], "test": m["test"], "level": m["level"]}
        tables["leave1out"].append(sensitivity.leave1out(y, v, lab, **args).assign(analysis_id=aid))
        tables["influence"].append(sensitivity.influence(y, v, lab, **args).assign(analysis_id=aid))
        year = cell["year"].fillna(9999).to_numpy()
        tables["cumulative"].append(sensitivity.cumulative(y, v, year, lab, **args).assign(analysis_id=aid))
        if len(cell) >= m["min_k_regtest"]:
            tables["regtest"].append(sensitivity.regtest(y, v, **args).assign(analysis_id=aid))
            stem = f"funnel_{outcome}_{effect}_{time_bin}"
            fig = funnel.funnel_plot(y, v, lab, method=m["method"], level=m["level"], label="out",
                                     xlabel=plots.EFFECT_AXIS[effect][0], title=aid)  # fmt: skip
            caption = (f"Funnel plot of {aid}: each study's effect against its standard error, pseudo-confidence "
                       f"lines around the {m['method']} estimate. {model_phrase(cfg)}.")  # fmt: skip
            outputs.save_figure(fig, out_dir / stem, caption)
    paths = {
        "leave1out": out_leave1out,
        "influence": out_influence,
        "cumulative": out_cumulative,
        "regtest": out_regtest,
    }
    for name, frames in tables.items():
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["analysis_id"])
        outputs.write_csv(df[["analysis_id", *[c for c in df.columns if c != "analysis_id"]]], paths[name])


def multiverse_step(config_path, out_csv, out_summary) -> None:
    """Every pooled-data claim under every combination of the configured analysis choices."""
    cfg = load_config(config_path)
    mv = multiverse.run_multiverse(load_dataset(cfg["data_dir"]), cfg, claims.load_claims(cfg["claims_file"]))
    outputs.write_csv(mv, out_csv)
    outputs.write_csv(multiverse.summarise(mv), out_summary)


def spec_curves_step(config_path, multiverse_csv, out_dir, out_index) -> None:
    """A specification-curve figure per central claim that has a multiverse."""
    cfg = load_config(config_path)
    mv = _read(multiverse_csv)
    registry = {c.claim_id: c for c in claims.load_claims(cfg["claims_file"])}
    out_dir = Path(out_dir)
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
            lo, hi = claims._range(c, cfg)
        else:
            lo, hi = c.claimed, c.claimed
        dims = [d for d in multiverse.DIMENSIONS if rows[d].nunique() > 1]
        unit = {
            "pooled": "Hedges' g or ratio (reporting scale)",
            "rate": "Proportion",
            "ratio": "Ratio to the SSRI g",
            "route_diff": "Difference in g",
            "moderator_diff": "Difference",
            "relapse": "Proportion relapsed",
        }
        fig = plots.spec_curve(testable, (lo, hi), f"{cid}: {c.metric}", dims or list(multiverse.DIMENSIONS[:1]),
                               value_label=unit.get(c.family, "Regenerated value"))  # fmt: skip
        n = len(testable)
        share = testable["supports"].mean() if n else float("nan")
        caption = (f"Specification curve of claim {cid} ({c.document}): the regenerated {c.metric} in each of "
                   f"{n} distinct analyses ({len(rows) - n} further specifications had no data), varying "
                   f"{', '.join(dims) or 'nothing'}; sorted, with intervals, coloured by verdict; grey band or "
                   f"line: the claimed value. {share:.0%} of distinct analyses reproduce the claim. Circled: the "
                   f"primary analysis ({model_phrase(cfg)}).")  # fmt: skip
        outputs.save_figure(fig, out_dir / cid, caption)
        index.append({"claim_id": cid, "figure": f"figures/spec_curve/{cid}.png", "n_specs": n, "caption": caption})
    outputs.write_csv(pd.DataFrame(index, columns=["claim_id", "figure", "n_specs", "caption"]), out_index)


def claims_step(config_path, metrics_csv, multiverse_summary_csv, regtest_csv, out_csv, out_md) -> None:
    cfg = load_config(config_path)
    registry = claims.load_claims(cfg["claims_file"])
    ds = load_dataset(cfg["data_dir"])
    ev = certainty.Evidence.from_tables(ds["studies"], ds.tables.get("risk_of_bias"), _read(regtest_csv))
    table = claims.evaluate_all(registry, _read(metrics_csv), cfg, ev)
    table = claims.add_robustness(table, _read(multiverse_summary_csv))
    outputs.write_csv(table, out_csv)
    docs = documents.load_documents(cfg.get("documents_file"))
    sof = findings.findings_markdown(
        findings.summary_of_findings(table, _read(metrics_csv), docs, cfg["model"]["level"])
    )
    outputs.write_text(claims.claims_markdown(table, cfg, docs, preface=sof), out_md)


def forest_step(config_path, effects_csv, pooled_csv, out_dir, out_index, moderators_csv=None) -> None:
    """One forest plot per primary outcome x effect x group x time bin with k >= min_k_forest.

    ``moderators_csv``: the route moderator tests, printed as the test for subgroup differences."""
    cfg = load_config(config_path)
    es, pooled = _read(effects_csv), _read(pooled_csv)
    mods = _read(moderators_csv) if moderators_csv else pd.DataFrame(columns=["moderator"])
    mods = mods[(mods["moderator"] == "route") & (mods.get("subset", "primary") == "primary")]
    es = es[es["primary"].astype(bool)]
    prim = pooled[pooled["subset"] == "primary"]
    ds = load_dataset(cfg["data_dir"])
    labels = study_labels(ds["studies"])
    arm_texts = forest.continuous_arm_texts(es[es["effect"] == "smd"], ds.tables.get("outcomes_continuous"), ds["arms"])
    level = cfg["model"]["level"]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    index = []
    for (outcome, effect, group, time_bin), cell in es.groupby(["outcome", "effect", "group", "time_bin"], sort=True):
        in_cell = (prim["outcome"] == outcome) & (prim["group"] == group) & (prim["time_bin"] == time_bin)
        p = prim[in_cell & (prim["effect"] == effect)]
        k_all = int(p.loc[p["route"] == "all", "k"].iloc[0]) if (p["route"] == "all").any() else 0
        if k_all < cfg["model"]["min_k_forest"]:
            continue
        mh = prim[in_cell & (prim["effect"] == MH_EFFECTS.get(effect, "-")) & (prim["route"] == "all")]
        mh = mh.iloc[0] if len(mh) and int(mh["k"].iloc[0]) > 1 else None
        stem = metrics.forest_name(outcome, effect, group, time_bin)
        what = "ketamine vs control" if group == "contrast" else f"{group.replace('_', '-')} arms"
        title = f"{outcome.replace('_', ' ').capitalize()}, {what}, {metrics._bin_label(cfg, time_bin)}"
        qm = mods[(mods["outcome"] == outcome) & (mods["effect"] == effect) & (mods["time_bin"] == time_bin)]
        qm = qm.iloc[0] if group == "contrast" and len(qm) else None
        table = forest.forest_rows(cell, p, labels, arm_texts, level, mh, qm)
        parts = [
            f"{title}. Data: {k_all} studies from {cfg['data_dir']} (primary set: controls "
            f"{', '.join(cfg['handling']['controls'])}). Effect: {plots.EFFECT_AXIS[effect][0]}; study intervals "
            f"are {level:.0%} z intervals from escalc variances. Weights: random-effects weights 1/(vi + τ²) of the "
            "all-routes model, as % of their sum; square areas are proportional to them. Diamonds: pooled "
            "estimates with their confidence intervals; the bar under the total is the prediction interval "
            "(predict.rma)."
        ]
        if cell["route"].nunique() > 1:
            parts.append("Route subtotals are separate fits within each route.")
            parts.append(
                "Test for subgroup differences: the mixed-effects test of route (QM, tables/moderators.csv)."
                if qm is not None
                else "Test for subgroup differences: Q of the route estimates around their inverse-variance mean, "
                "standard errors from their intervals (RevMan)."
            )
        if mh is not None:
            parts.append("Open diamond: Mantel-Haenszel common effect (statsmodels), a sensitivity check.")
        parts.append(f"Intervals past the axis end in an arrowhead. Model: {model_phrase(cfg)}.")
        caption = " ".join(parts)
        fig = forest.forest_plot(table, effect, title, level, group)
        outputs.save_figure(fig, out_dir / stem, caption)
        index.append(
            {
                "figure": f"figures/forest/{stem}.png",
                "outcome": outcome,
                "effect": effect,
                "group": group,
                "time_bin": time_bin,
                "k": k_all,
                "caption": caption,
            }
        )
    outputs.write_csv(
        pd.DataFrame(index, columns=["figure", "outcome", "effect", "group", "time_bin", "k", "caption"]), out_index
    )


def study_labels(studies: pd.DataFrame) -> dict[str, str]:
    """study_id -> the label studies.csv gives it ("Lapidus 2014"), the id where the label is empty."""
    lab = studies.set_index("study_id")["label"] if "label" in studies.columns else pd.Series(dtype=str)
    return {sid: (str(lab[sid]) if sid in lab.index and pd.notna(lab[sid]) else sid) for sid in studies["study_id"]}


def timecourse_step(config_path, pooled_csv, model_csv, out_stem) -> None:
    cfg = load_config(config_path)
    model = _read(model_csv)
    level = cfg["model"]["level"]
    bins = sorted(cfg["time_bins"].values(), key=lambda b: b["low_h"])  # in time order, whatever the key order
    fig = plots.timecourse_plot(_read(pooled_csv), cfg["time_bins"], model[model["dosing"] == "single"], level=level)
    caption = (
        f"Pooled Hedges' g (ketamine vs control, depression scores) in each time bin, per route group and "
        f"all routes; vertical bars are {level:.0%} CIs, grey bars the prediction interval for all routes where k ≥ 3; "
        "point area grows with k (key in the legend). Open points: k ≤ 2, whose Knapp-Hartung intervals "
        "(t with 1 df or a single study's z interval) are wide; the y range is set by the estimates and the "
        "intervals of k ≥ 3, and an interval that runs past it ends in an arrowhead. Bins (hours after the "
        "dose): "
        + "; ".join(f"{b['label']} ({b['low_h']:g}-{b['high_h']:g} h)" for b in bins)
        + ". The dashed curve and its band are the study-clustered (CR2) meta-regression on log time, fitted to "
        "single-dose trials only (repeated-dose trials are modelled apart in tables/timecourse_model.csv: their "
        f"hours count from the first of several doses). Data: {cfg['data_dir']}. Model: {model_phrase(cfg)}."
    )
    outputs.save_figure(fig, out_stem, caption)


def moderators_figure_step(config_path, subgroups_csv, moderators_csv, out_stem, time_bin="h24") -> None:
    """Subgroup estimates and moderator tests for depression SMD at one time bin (24 h)."""
    cfg = load_config(config_path)
    sg, mods = _read(subgroups_csv), _read(moderators_csv)
    pick = {"outcome": "depression", "effect": "smd", "time_bin": time_bin}
    for col, val in pick.items():
        sg, mods = sg[sg[col] == val], mods[mods[col] == val]
    title = f"Depression (Hedges' g) at {metrics._bin_label(cfg, time_bin)} by moderator"
    caption = (f"{title}: pooled g within each level (separate fits) and the p of the mixed-effects test of the "
               f"moderator (QM; {cfg['model']['test']}). Moderators and reference levels: "
               + "; ".join(f"{k} ({v['column']}, reference {v['reference']})" for k, v in cfg["moderators"].items())
               + f". Data: {cfg['data_dir']}. Model: {model_phrase(cfg)}.")  # fmt: skip
    outputs.save_figure(plots.moderator_plot(sg, mods, title, cfg["model"]["level"]), out_stem, caption)


def relapse_figure_step(config_path, studies_csv, pooled_csv, claims_csv, out_stem) -> None:
    cfg = load_config(config_path)
    raw = load_dataset(cfg["data_dir"])["relapse"]
    printed = raw[raw["n_relapsed"].isna() & raw["proportion_relapsed"].notna() & raw["followup_days"].notna()]
    pooled = _read(pooled_csv)
    # k = 1 is the study's own point; the figure shows responders (remitters are in the tables)
    pooled = pooled[(pooled["induction"] == "any") & (pooled["k"] >= 2) & (pooled["cohort"] == "responders")]
    cl = _read(claims_csv)
    boxes = []
    for _, r in cl[cl["metric"].str.startswith(("relapse.proportion", "relapse.share"))].iterrows():
        lo, hi = plots._claimed_range(r["claimed"])
        win = r["metric"].split(".")[4]
        if win in cfg["relapse"]["windows"]:
            boxes.append((r["claim_id"], cfg["relapse"]["windows"][win]["nominal_days"], lo, hi))
    studies = _read(studies_csv)
    studies = studies[studies["counted"].astype(str).str.lower() == "true"]  # printed-only shares: open markers
    labels = study_labels(load_dataset(cfg["data_dir"])["studies"])
    fig = plots.relapse_plot(studies, printed, pooled, cfg["relapse"]["windows"], boxes, labels)
    windows = "; ".join(f"{k}: days {w['low_days']}-{w['high_days']}" for k, w in cfg["relapse"]["windows"].items())
    caption = (
        "Proportion of responders who relapsed by the follow-up day each study reports, with 95% "
        f"{cfg['relapse']['study_ci'].title()} intervals (filled) or as a printed percentage without a count (open). "
        f"Diamonds: pooled proportion per window ({windows}) where at least two studies report one, "
        + (
            "binomial-normal GLMM (ML, z interval)"
            if cfg["relapse"]["method"] == "glmm"
            else "pooled counts, Clopper-Pearson"
        )  # fmt: skip
        + ", single-dose and course inductions together. Dashed boxes: the documents' claims. "
        f"Data: {cfg['data_dir']}/relapse.csv."
    )
    outputs.save_figure(fig, out_stem, caption)


def claims_figures_step(config_path, claims_csv, out_overview, out_estimates) -> None:
    cfg = load_config(config_path)
    cl = _read(claims_csv)
    outputs.save_figure(
        plots.claims_overview(cl),
        out_overview,
        f"Verdicts of the {len(cl)} claims in the registry ({cfg['claims_file']}), per seed document. "
        f"Rules in config/README.md. Pooled numbers: {model_phrase(cfg)}.",
    )
    outputs.save_figure(
        plots.claims_estimates(cl),
        out_estimates,
        "Each testable claim's claimed value or range (grey) against the regenerated estimate and its "
        f"interval (CI; for median days the range of study medians), coloured by verdict. {model_phrase(cfg)}.",
    )


def provenance_step(config_path, out_json, code_files) -> None:
    code_files = [code_files] if isinstance(code_files, str) else code_files
    cfg = load_config(config_path)
    data = sorted(
        str(Path(cfg["data_dir"]) / t.filename)
        for t in TABLES.values()
        if (Path(cfg["data_dir"]) / t.filename).exists()
    )
    inputs = {"data": data, "claims": [cfg["claims_file"]], "code": sorted(code_files)}
    docs = cfg.get("documents_file")
    if docs and Path(docs).is_file():
        inputs["documents"] = [docs]
    prov = provenance.build(inputs, cfg)
    # exact versions in the job's log (not committed): provenance.json keeps major.minor only
    logging.info("exact package versions: %s", json.dumps(provenance.exact_versions(), sort_keys=True))
    outputs.write_text(provenance.dumps(prov), out_json)


def publish_step(src_root, dst_root, items) -> None:
    """Copy each relative path in ``items`` from the staging folder to the results folder."""
    items = [items] if isinstance(items, str) else items
    outputs.publish([(Path(src_root) / i, Path(dst_root) / i) for i in items])
    logging.info("published %d items to %s (open %s)", len(items), dst_root, Path(dst_root) / "report.html")


def run_summary(results_dir) -> str:
    """What the end of a run prints: where the report is and how many claims got each verdict."""
    results_dir = Path(results_dir)
    lines = [f"ketamine-meta: results in {results_dir}/", f"  report: {results_dir / 'report.html'}"]
    claims_csv = results_dir / "claims.csv"
    if claims_csv.is_file():
        table = _read(claims_csv)

        def counts(verdicts: pd.Series) -> str:
            n = verdicts.value_counts()
            order = [v for v in claims.VERDICTS if v in n] + sorted(v for v in n.index if v not in claims.VERDICTS)
            return ", ".join(f"{int(n[v])} {v}" for v in order)

        lines.append(f"  claims: {len(table)} ({counts(table['verdict'])})")
        central = table[table["central"].astype(str).str.lower() == "true"]
        if len(central):
            lines.append(f"  headline claims: {len(central)} ({counts(central['verdict'])})")
        lines.append(f"  summary of findings: {results_dir / 'claims.md'}")
    return "\n".join(lines)
