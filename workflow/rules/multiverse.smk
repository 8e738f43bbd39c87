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


rule spec_curves:
    # a specification curve per central claim
    input:
        cfg=rules.resolved_config.output.cfg,
        table=rules.multiverse.output.table,
        registry=config["claims_file"],
    output:
        folder=report(
            directory(f"{WORK}/figures/spec_curve"),
            patterns=["{name}.png"],
            caption="../report/spec_curve.rst",
            category="3. Figures",
            subcategory="Specification curves",
            labels={"claim": "{name}"},
        ),
        index=f"{WORK}/tables/spec_curve_index.csv",
    log:
        f"{WORK}/logs/spec_curves.log",
    benchmark:
        f"{WORK}/benchmarks/spec_curves.tsv"
    conda:
        ENV
    params:
        cmd=step("spec_curves"),
    shell:
        "{params.cmd} --config_path {input.cfg} --multiverse_csv {input.table}"
        " --out_dir {output.folder} --out_index {output.index} --log {log}"
