rule claims:
    # a verdict and a checkable reason for every claim in the registry; then, in the same job, the
    # figures of the verdicts: verdicts per document, claimed vs regenerated numbers, relapse
    # after response study by study with the pooled windows and the documents' claims, and a
    # specification curve per central claim (one job: each figure job pays ~1.5 s to start
    # Python with pandas, SciPy, matplotlib and seaborn)
    input:
        cfg=rules.resolved_config.output.cfg,
        metrics=rules.pool.output.metrics,
        robustness=rules.multiverse.output.summary,
        multiverse=rules.multiverse.output.table,
        regtest=rules.pool.output.regtest,
        registry=config["claims_file"],
        documents=DOCUMENTS,
        relapse_studies=rules.pool.output.relapse_studies,
        relapse_pooled=rules.pool.output.relapse_pooled,
        tables=DATA_TABLES,
    output:
        csv=report(
            f"{WORK}/claims.csv",
            caption="../report/claims.rst",
            category="1. Claims",
            labels={"table": "claims.csv"},
        ),
        md=f"{WORK}/claims.md",
        overview=report(
            f"{FIG}/claims_overview.png",
            caption="../report/claims_overview.rst",
            category="1. Claims",
            labels={"figure": "verdicts per document"},
        ),
        overview_rest=multiext(f"{FIG}/claims_overview", ".svg", ".caption.txt"),
        estimates=report(
            f"{FIG}/claims_estimates.png",
            caption="../report/claims_estimates.rst",
            category="1. Claims",
            labels={"figure": "claimed vs regenerated"},
        ),
        estimates_rest=multiext(f"{FIG}/claims_estimates", ".svg", ".caption.txt"),
        relapse=report(
            f"{FIG}/relapse.png",
            caption="../report/relapse.rst",
            category="3. Figures",
            labels={"figure": "relapse"},
        ),
        relapse_rest=multiext(f"{FIG}/relapse", ".svg", ".caption.txt"),
        spec_curves=report(
            directory(f"{FIG}/spec_curve"),
            patterns=["{name}.png"],
            caption="../report/spec_curve.rst",
            category="3. Figures",
            subcategory="Specification curves",
            labels={"claim": "{name}"},
        ),
        spec_curve_index=f"{WORK}/tables/spec_curve_index.csv",
    log:
        f"{WORK}/logs/claims.log",
    benchmark:
        f"{WORK}/benchmarks/claims.tsv"
    priority: 5  # on the path to the report
    conda:
        ENV
    params:
        cmd=step("claims"),
    shell:
        "{params.cmd} --config_path {input.cfg} --metrics_csv {input.metrics}"
        " --multiverse_summary_csv {input.robustness} --regtest_csv {input.regtest}"
        " --out_csv {output.csv} --out_md {output.md}"
        " --relapse_studies_csv {input.relapse_studies} --relapse_pooled_csv {input.relapse_pooled}"
        f" --out_overview {FIG}/claims_overview --out_estimates {FIG}/claims_estimates"
        f" --out_relapse {FIG}/relapse --multiverse_csv {{input.multiverse}}"
        " --out_spec_curves {output.spec_curves} --out_spec_curve_index {output.spec_curve_index}"
        " --log {log}"
