rule pool:
    # rma.uni-equivalent pooling of every outcome x effect x group x route x bin x subset,
    # mixed-effects moderator tests with subgroup tables and dose-response; the whole time
    # course (meta-regression on log time with study-clustered CR2 inference); proportions
    # relapsed among responders per condition x follow-up window; adverse events by arm, pooled
    # per event; every number a claim can be checked against, under a stable key (metrics.csv);
    # and the sensitivity diagnostics (leave-one-out, influence, cumulative by year, Egger's test with
    # funnel plots); and the plan of the forest plots (which plots, their captions, sizes and
    # rows), so that the report need not wait for them to be drawn. One job: steps that would
    # each pay Python's start-up.
    input:
        cfg=rules.resolved_config.output.cfg,
        effects=rules.validate.output.effects,
        tables=DATA_TABLES,
    output:
        pooled=report(
            f"{WORK}/tables/pooled.csv",
            caption="../report/pooled.rst",
            category="4. Tables",
            labels={"table": "pooled.csv"},
        ),
        moderators=f"{WORK}/tables/moderators.csv",
        subgroups=f"{WORK}/tables/subgroups.csv",
        dose=f"{WORK}/tables/dose_response.csv",
        predictions=f"{WORK}/tables/timecourse_model.csv",
        summary=f"{WORK}/tables/timecourse_summary.csv",
        relapse_studies=f"{WORK}/tables/relapse_studies.csv",
        relapse_pooled=f"{WORK}/tables/relapse_pooled.csv",
        relapse_medians=f"{WORK}/tables/relapse_medians.csv",
        relapse_shares=f"{WORK}/tables/relapse_shares.csv",
        adverse=f"{WORK}/tables/adverse_events_pooled.csv",
        metrics=f"{WORK}/tables/metrics.csv",
        leave1out=f"{WORK}/tables/leave1out.csv",
        influence=f"{WORK}/tables/influence.csv",
        cumulative=f"{WORK}/tables/cumulative.csv",
        regtest=f"{WORK}/tables/regtest.csv",
        funnel=directory(f"{WORK}/figures/funnel"),
        forest_index=f"{WORK}/tables/forest_index.csv",
        forest_rows=f"{WORK}/tables/forest_rows.csv",
    log:
        f"{WORK}/logs/pool.log",
    benchmark:
        f"{WORK}/benchmarks/pool.tsv"
    priority: 20  # before provenance, which only fills a core that would otherwise idle
    conda:
        ENV
    params:
        cmd=step("pool"),
    shell:
        "{params.cmd} --config_path {input.cfg} --effects_csv {input.effects}"
        " --out_pooled {output.pooled} --out_moderators {output.moderators}"
        " --out_subgroups {output.subgroups} --out_dose {output.dose}"
        " --out_predictions {output.predictions} --out_summary {output.summary}"
        " --out_relapse_studies {output.relapse_studies} --out_relapse_pooled {output.relapse_pooled}"
        " --out_relapse_medians {output.relapse_medians} --out_relapse_shares {output.relapse_shares}"
        " --out_adverse {output.adverse} --out_metrics {output.metrics}"
        " --out_leave1out {output.leave1out} --out_influence {output.influence}"
        " --out_cumulative {output.cumulative} --out_regtest {output.regtest} --out_funnel {output.funnel}"
        " --out_forest_index {output.forest_index} --out_forest_rows {output.forest_rows} --log {log}"
