rule report:
    # results/report.html: claims first, each linked to its analysis, figure, studies and data rows
    input:
        cfg=rules.resolved_config.output.cfg,
        claims=rules.claims.output.csv,
        pooled=rules.pool.output.pooled,
        metrics=rules.pool.output.metrics,
        effects=rules.validate.output.effects,
        # the plan of the forest plots, not the plots: the page is built while they are drawn
        # (publish waits for both)
        forest_index=rules.pool.output.forest_index,
        spec_curve_index=rules.claims.output.spec_curve_index,
        spec_curves=rules.claims.output.spec_curves,
        # every published figure (PUBLISHED is defined in report.smk; read when the DAG is built)
        figures=lambda wildcards: [
            f"{WORK}/{p}" for p in PUBLISHED if p.startswith("figures/")
        ],
        tables=DATA_TABLES,
        documents=DOCUMENTS,
    output:
        html=f"{WORK}/report.html",
    log:
        f"{WORK}/logs/report.log",
    benchmark:
        f"{WORK}/benchmarks/report.tsv"
    conda:
        ENV
    params:
        cmd=step("report"),
        # the page links figures relative to itself: figures/... beside report.html
        figures_dir=lambda wildcards, input: str(Path(input.spec_curves).parent),
        # every top-level figure the page shows, its own three included, in the published order
        pngs=lambda wildcards: [
            f"{WORK}/{p}"
            for p in PUBLISHED
            if p.startswith("figures/") and p.endswith(".png")
        ],
    shell:
        "{params.cmd} --config_path {input.cfg} --claims_csv {input.claims}"
        " --pooled_csv {input.pooled} --metrics_csv {input.metrics}"
        " --effects_csv {input.effects} --forest_index_csv {input.forest_index}"
        " --spec_curve_index_csv {input.spec_curve_index}"
        " --figures_dir {params.figures_dir} --figures {params.pngs}"
        " --out_html {output.html} --log {log}"
