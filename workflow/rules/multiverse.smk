rule multiverse:
    # every pooled-data claim under every combination of the configured analysis choices. It does
    # not wait for validate: it loads (and so checks) the same inputs itself and starts beside it
    # on the second core (-1.4 s of a 19 s cold run); on bad input it defers to validate's message
    # (CheckedElsewhereError), and nothing is published unless every job succeeded
    input:
        cfg=rules.resolved_config.output.cfg,
        tables=DATA_TABLES,
        registry=config["claims_file"],
    output:
        table=f"{WORK}/tables/multiverse.csv",
        summary=f"{WORK}/tables/multiverse_summary.csv",
    log:
        f"{WORK}/logs/multiverse.log",
    benchmark:
        f"{WORK}/benchmarks/multiverse.tsv"
    priority: 20  # the head of the longer chain: multiverse -> claims -> report
    conda:
        ENV
    params:
        cmd=step("multiverse"),
    shell:
        "{params.cmd} --config_path {input.cfg} --out_csv {output.table}"
        " --out_summary {output.summary} --log {log}"
