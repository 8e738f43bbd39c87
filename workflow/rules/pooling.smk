rule pool:
    # rma.uni-equivalent pooling of every outcome x effect x group x route x bin x subset,
    # mixed-effects moderator tests with subgroup tables, and dose-response
    input:
        cfg=rules.resolved_config.output.cfg,
        effects=rules.effect_sizes.output.effects,
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
    log:
        f"{WORK}/logs/pool.log",
    benchmark:
        f"{WORK}/benchmarks/pool.tsv"
    conda:
        ENV
    params:
        cmd=step("pool"),
    shell:
        "{params.cmd} --config_path {input.cfg} --effects_csv {input.effects}"
        " --out_pooled {output.pooled} --out_moderators {output.moderators}"
        " --out_subgroups {output.subgroups} --out_dose {output.dose} --log {log}"


rule timecourse_model:
    # the whole time course: meta-regression on log time with study-clustered CR2 inference
    input:
        cfg=rules.resolved_config.output.cfg,
        effects=rules.effect_sizes.output.effects,
    output:
        predictions=f"{WORK}/tables/timecourse_model.csv",
        summary=f"{WORK}/tables/timecourse_summary.csv",
    log:
        f"{WORK}/logs/timecourse_model.log",
    benchmark:
        f"{WORK}/benchmarks/timecourse_model.tsv"
    conda:
        ENV
    params:
        cmd=step("timecourse_model"),
    shell:
        "{params.cmd} --config_path {input.cfg} --effects_csv {input.effects}"
        " --out_predictions {output.predictions} --out_summary {output.summary} --log {log}"


rule relapse:
    # proportions relapsed among responders, pooled per condition x follow-up window
    input:
        cfg=rules.resolved_config.output.cfg,
        ok=rules.validate.output.report,
        tables=DATA_TABLES,
    output:
        studies=f"{WORK}/tables/relapse_studies.csv",
        pooled=f"{WORK}/tables/relapse_pooled.csv",
        medians=f"{WORK}/tables/relapse_medians.csv",
        shares=f"{WORK}/tables/relapse_shares.csv",
    log:
        f"{WORK}/logs/relapse.log",
    benchmark:
        f"{WORK}/benchmarks/relapse.tsv"
    conda:
        ENV
    params:
        cmd=step("relapse"),
    shell:
        "{params.cmd} --config_path {input.cfg} --out_studies {output.studies}"
        " --out_pooled {output.pooled} --out_medians {output.medians} --out_shares {output.shares}"
        " --log {log}"


rule adverse_events:
    # adverse events by arm, pooled per event (risk ratios, group proportions)
    input:
        cfg=rules.resolved_config.output.cfg,
        ok=rules.validate.output.report,
        tables=DATA_TABLES,
    output:
        pooled=f"{WORK}/tables/adverse_events_pooled.csv",
    log:
        f"{WORK}/logs/adverse_events.log",
    benchmark:
        f"{WORK}/benchmarks/adverse_events.tsv"
    conda:
        ENV
    params:
        cmd=step("adverse"),
    shell:
        "{params.cmd} --config_path {input.cfg} --out_pooled {output.pooled} --log {log}"


rule metrics:
    # every number a claim can be checked against, under a stable key
    input:
        cfg=rules.resolved_config.output.cfg,
        pooled=rules.pool.output.pooled,
        moderators=rules.pool.output.moderators,
        dose=rules.pool.output.dose,
        timecourse=rules.timecourse_model.output.predictions,
        timecourse_summary=rules.timecourse_model.output.summary,
        relapse=rules.relapse.output.pooled,
        medians=rules.relapse.output.medians,
        shares=rules.relapse.output.shares,
        effects=rules.effect_sizes.output.effects,
        adverse=rules.adverse_events.output.pooled,
        tables=DATA_TABLES,
    output:
        metrics=f"{WORK}/tables/metrics.csv",
    log:
        f"{WORK}/logs/metrics.log",
    benchmark:
        f"{WORK}/benchmarks/metrics.tsv"
    conda:
        ENV
    params:
        cmd=step("metrics"),
    shell:
        "{params.cmd} --config_path {input.cfg} --pooled_csv {input.pooled}"
        " --moderators_csv {input.moderators} --dose_csv {input.dose}"
        " --timecourse_csv {input.timecourse} --timecourse_summary_csv {input.timecourse_summary}"
        " --relapse_pooled_csv {input.relapse}"
        " --medians_csv {input.medians} --shares_csv {input.shares} --effects_csv {input.effects}"
        " --adverse_csv {input.adverse} --out_metrics {output.metrics} --log {log}"


rule prisma:
    # PRISMA flow of the logged search
    input:
        cfg=rules.resolved_config.output.cfg,
        effects=rules.effect_sizes.output.effects,
        tables=DATA_TABLES,
        search=sorted(str(p) for p in (Path(DATA) / "search").glob("*.csv")),
    output:
        table=f"{WORK}/tables/prisma.csv",
        figure=multiext(f"{WORK}/figures/prisma", ".png", ".svg", ".caption.txt"),
    log:
        f"{WORK}/logs/prisma.log",
    benchmark:
        f"{WORK}/benchmarks/prisma.tsv"
    conda:
        ENV
    params:
        cmd=step("prisma"),
        stem=lambda wildcards, output: output.figure[0].removesuffix(".png"),
    shell:
        "{params.cmd} --config_path {input.cfg} --effects_csv {input.effects}"
        " --out_table {output.table} --out_stem {params.stem} --log {log}"
