rule claims:
    # a verdict and a checkable reason for every claim in the registry; then, in the same job, the
    # figures of the verdicts: verdicts per document, claimed vs regenerated numbers, relapse
    # after response study by study with the pooled windows and the documents' claims, a
    # specification curve per central claim, and the figures of the pooled tables: the time course
    # by route with the study-clustered model, subgroup estimates and moderator tests at 24 h, and
    # the PRISMA flow of the logged search. One job: each figure job pays ~1.3 s to start Python
    # with pandas, matplotlib and seaborn (with SciPy's stats), more than most of these figures.
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
        pooled=rules.pool.output.pooled,
        model=rules.pool.output.predictions,
        subgroups=rules.pool.output.subgroups,
        moderators=rules.pool.output.moderators,
        effects=rules.validate.output.effects,
        tables=DATA_TABLES,
        search=sorted(str(p) for p in (Path(DATA) / "search").glob("*.csv")),
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
        timecourse=report(
            f"{FIG}/timecourse.png",
            caption="../report/timecourse.rst",
            category="3. Figures",
            labels={"figure": "timecourse"},
        ),
        timecourse_rest=multiext(f"{FIG}/timecourse", ".svg", ".caption.txt"),
        moderators=report(
            f"{FIG}/moderators.png",
            caption="../report/moderators.rst",
            category="3. Figures",
            labels={"figure": "moderators"},
        ),
        moderators_rest=multiext(f"{FIG}/moderators", ".svg", ".caption.txt"),
        prisma_table=f"{WORK}/tables/prisma.csv",
        prisma=multiext(f"{FIG}/prisma", ".png", ".svg", ".caption.txt"),
    log:
        f"{WORK}/logs/claims.log",
    benchmark:
        f"{WORK}/benchmarks/claims.tsv"
    priority: 5  # on the path to the report
    conda:
        ENV
    params:
        cmd=step("claims"),
        # figure stems: each is written as <stem>.png, .svg and .caption.txt
        timecourse=lambda wildcards, output: output.timecourse[: -len(".png")],
        moderators=lambda wildcards, output: output.moderators[: -len(".png")],
        prisma=lambda wildcards, output: output.prisma[0][: -len(".png")],
    shell:
        "{params.cmd} --config_path {input.cfg} --metrics_csv {input.metrics}"
        " --multiverse_summary_csv {input.robustness} --regtest_csv {input.regtest}"
        " --out_csv {output.csv} --out_md {output.md}"
        " --relapse_studies_csv {input.relapse_studies} --relapse_pooled_csv {input.relapse_pooled}"
        f" --out_overview {FIG}/claims_overview --out_estimates {FIG}/claims_estimates"
        f" --out_relapse {FIG}/relapse --multiverse_csv {{input.multiverse}}"
        " --out_spec_curves {output.spec_curves} --out_spec_curve_index {output.spec_curve_index}"
        " --pooled_csv {input.pooled} --model_csv {input.model} --subgroups_csv {input.subgroups}"
        " --moderators_csv {input.moderators} --effects_csv {input.effects}"
        " --out_timecourse {params.timecourse} --out_moderators {params.moderators}"
        " --out_prisma_table {output.prisma_table} --out_prisma {params.prisma} --log {log}"
