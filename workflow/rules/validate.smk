rule resolved_config:
    # The config actually used (config.yaml + --config overrides) as one file every step reads.
    # It is rewritten when a value changes or the library/workflow code changes, and every step
    # depends on it, so new code never leaves stale results behind.
    input:
        code=CODE_FILES,
    output:
        cfg=f"{WORK}/config.json",
    log:
        f"{WORK}/logs/resolved_config.log",
    conda:
        ENV
    params:
        text=json.dumps(config, sort_keys=True, indent=2),
    # a shell command, not a `run:` block: Snakemake runs a `run:` job in a new Snakemake process
    # that parses the whole workflow again (2.4 s of a 30 s cold run, before any other job starts)
    shell:
        "printf '%s\\n' {params.text:q} > {output.cfg} && echo 'wrote resolved config' > {log}"


rule validate:
    # Loads every contract table and the claims registry; any problem stops the run here,
    # before any result is written, with file, row, column and rule in the message. From the
    # data just loaded it builds the escalc-equivalent effect sizes (one row per study x
    # comparison x outcome x time bin): one process, one read of the data.
    input:
        cfg=rules.resolved_config.output.cfg,
        tables=DATA_TABLES,
        claims=config["claims_file"],
    output:
        report=f"{WORK}/validation.txt",
        effects=report(
            f"{WORK}/tables/effect_sizes.csv",
            caption="../report/effect_sizes.rst",
            category="4. Tables",
            labels={"table": "effect_sizes.csv"},
        ),
        unused=f"{WORK}/tables/unused_rows.csv",
    log:
        f"{WORK}/logs/validate.log",
    benchmark:
        f"{WORK}/benchmarks/validate.tsv"
    priority: 30  # the gate of pool -> forest: first of the jobs that are ready at the start
    conda:
        ENV
    params:
        cmd=step("validate"),
    shell:
        "{params.cmd} --config_path {input.cfg} --report_path {output.report}"
        " --out_effects {output.effects} --out_unused {output.unused} --log {log}"
