rule pool:
    # rma.uni-equivalent pooling of every outcome x effect x group x route x bin x subset,
    # and the mixed-effects test of route as a moderator
    input:
        cfg=rules.resolved_config.output.cfg,
        effects=rules.effect_sizes.output.effects,
    output:
        pooled=f"{WORK}/tables/pooled.csv",
        routes=f"{WORK}/tables/route_comparisons.csv",
    log:
        f"{WORK}/logs/pool.log",
    conda:
        ENV
    params:
        cmd=step("pool"),
    shell:
        "{params.cmd} --config_path {input.cfg} --effects_csv {input.effects}"
        " --out_pooled {output.pooled} --out_routes {output.routes} --log {log}"


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
    log:
        f"{WORK}/logs/relapse.log",
    conda:
        ENV
    params:
        cmd=step("relapse"),
    shell:
        "{params.cmd} --config_path {input.cfg} --out_studies {output.studies}"
        " --out_pooled {output.pooled} --out_medians {output.medians} --log {log}"


rule metrics:
    # every number a claim can be checked against, under a stable key
    input:
        cfg=rules.resolved_config.output.cfg,
        pooled=rules.pool.output.pooled,
        routes=rules.pool.output.routes,
        relapse=rules.relapse.output.pooled,
        medians=rules.relapse.output.medians,
        effects=rules.effect_sizes.output.effects,
        tables=DATA_TABLES,
    output:
        metrics=f"{WORK}/tables/metrics.csv",
    log:
        f"{WORK}/logs/metrics.log",
    conda:
        ENV
    params:
        cmd=step("metrics"),
    shell:
        "{params.cmd} --config_path {input.cfg} --pooled_csv {input.pooled}"
        " --routes_csv {input.routes} --relapse_pooled_csv {input.relapse}"
        " --medians_csv {input.medians} --effects_csv {input.effects}"
        " --out_metrics {output.metrics} --log {log}"
