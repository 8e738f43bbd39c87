rule multiverse:
    # every pooled-data claim under every combination of the configured analysis choices
    input:
        cfg=rules.resolved_config.output.cfg,
        ok=rules.validate.output.report,
        tables=DATA_TABLES,
        registry=config["claims_file"],
    output:
        table=f"{WORK}/tables/multiverse.csv",
        summary=f"{WORK}/tables/multiverse_summary.csv",
    log:
        f"{WORK}/logs/multiverse.log",
    benchmark:
        f"{WORK}/benchmarks/multiverse.tsv"
    priority: 10  # on the path to claims and the report
    conda:
        ENV
    params:
        cmd=step("multiverse"),
    shell:
        "{params.cmd} --config_path {input.cfg} --out_csv {output.table}"
        " --out_summary {output.summary} --log {log}"
