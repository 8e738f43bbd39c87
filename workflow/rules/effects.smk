rule effect_sizes:
    # escalc-equivalent effect sizes, one row per study x comparison x outcome x time bin
    input:
        cfg=rules.resolved_config.output.cfg,
        ok=rules.validate.output.report,
        tables=DATA_TABLES,
    output:
        effects=report(
            f"{WORK}/tables/effect_sizes.csv",
            caption="../report/effect_sizes.rst",
            category="4. Tables",
            labels={"table": "effect_sizes.csv"},
        ),
        unused=f"{WORK}/tables/unused_rows.csv",
    log:
        f"{WORK}/logs/effect_sizes.log",
    benchmark:
        f"{WORK}/benchmarks/effect_sizes.tsv"
    conda:
        ENV
    params:
        cmd=step("effect_sizes"),
    shell:
        "{params.cmd} --config_path {input.cfg} --out_effects {output.effects}"
        " --out_unused {output.unused} --log {log}"
