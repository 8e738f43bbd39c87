FIG = f"{WORK}/figures"
FIG_EXT = ["png", "svg", "caption.txt"]


rule forest:
    # one forest plot per primary outcome x effect x group x time bin (k >= min_k_forest)
    input:
        cfg=rules.resolved_config.output.cfg,
        effects=rules.effect_sizes.output.effects,
        pooled=rules.pool.output.pooled,
        moderators=rules.pool.output.moderators,
        tables=DATA_TABLES,
    output:
        folder=report(
            directory(f"{FIG}/forest"),
            patterns=["{name}.png"],
            caption="../report/forest.rst",
            category="2. Forest plots",
            labels={"figure": "{name}"},
        ),
        index=f"{WORK}/tables/forest_index.csv",
    log:
        f"{WORK}/logs/forest.log",
    benchmark:
        f"{WORK}/benchmarks/forest.tsv"
    conda:
        ENV
    params:
        cmd=step("forest"),
    shell:
        "{params.cmd} --config_path {input.cfg} --effects_csv {input.effects}"
        " --pooled_csv {input.pooled} --moderators_csv {input.moderators}"
        " --out_dir {output.folder} --out_index {output.index} --log {log}"


rule timecourse:
    # pooled effect over time by route, with the study-clustered time-course model
    input:
        cfg=rules.resolved_config.output.cfg,
        pooled=rules.pool.output.pooled,
        model=rules.timecourse_model.output.predictions,
    output:
        png=report(
            f"{FIG}/timecourse.png",
            caption="../report/timecourse.rst",
            category="3. Figures",
            labels={"figure": "timecourse"},
        ),
        svg=f"{FIG}/timecourse.svg",
        caption=f"{FIG}/timecourse.caption.txt",
    log:
        f"{WORK}/logs/timecourse.log",
    benchmark:
        f"{WORK}/benchmarks/timecourse.tsv"
    conda:
        ENV
    params:
        cmd=step("timecourse"),
        stem=lambda wildcards, output: output[0][: -len(".png")],
    shell:
        "{params.cmd} --config_path {input.cfg} --pooled_csv {input.pooled}"
        " --model_csv {input.model} --out_stem {params.stem} --log {log}"


rule moderators_figure:
    # subgroup estimates and moderator tests at 24 h
    input:
        cfg=rules.resolved_config.output.cfg,
        subgroups=rules.pool.output.subgroups,
        moderators=rules.pool.output.moderators,
    output:
        png=report(
            f"{FIG}/moderators.png",
            caption="../report/moderators.rst",
            category="3. Figures",
            labels={"figure": "moderators"},
        ),
        svg=f"{FIG}/moderators.svg",
        caption=f"{FIG}/moderators.caption.txt",
    log:
        f"{WORK}/logs/moderators_figure.log",
    benchmark:
        f"{WORK}/benchmarks/moderators_figure.tsv"
    conda:
        ENV
    params:
        cmd=step("moderators_figure"),
        stem=lambda wildcards, output: output[0][: -len(".png")],
    shell:
        "{params.cmd} --config_path {input.cfg} --subgroups_csv {input.subgroups}"
        " --moderators_csv {input.moderators} --out_stem {params.stem} --log {log}"


rule relapse_figure:
    # relapse after response, study by study, with pooled windows and the claims
    input:
        cfg=rules.resolved_config.output.cfg,
        studies=rules.relapse.output.studies,
        pooled=rules.relapse.output.pooled,
        claims=rules.claims.output.csv,
        tables=DATA_TABLES,
    output:
        png=report(
            f"{FIG}/relapse.png",
            caption="../report/relapse.rst",
            category="3. Figures",
            labels={"figure": "relapse"},
        ),
        svg=f"{FIG}/relapse.svg",
        caption=f"{FIG}/relapse.caption.txt",
    log:
        f"{WORK}/logs/relapse_figure.log",
    benchmark:
        f"{WORK}/benchmarks/relapse_figure.tsv"
    conda:
        ENV
    params:
        cmd=step("relapse_figure"),
        stem=lambda wildcards, output: output[0][: -len(".png")],
    shell:
        "{params.cmd} --config_path {input.cfg} --studies_csv {input.studies}"
        " --pooled_csv {input.pooled} --claims_csv {input.claims}"
        " --out_stem {params.stem} --log {log}"


rule claims_figures:
    # verdicts per document, and claimed vs regenerated numbers
    input:
        cfg=rules.resolved_config.output.cfg,
        claims=rules.claims.output.csv,
    output:
        overview=report(
            f"{FIG}/claims_overview.png",
            caption="../report/claims_overview.rst",
            category="1. Claims",
            labels={"figure": "verdicts per document"},
        ),
        overview_svg=f"{FIG}/claims_overview.svg",
        overview_caption=f"{FIG}/claims_overview.caption.txt",
        estimates=report(
            f"{FIG}/claims_estimates.png",
            caption="../report/claims_estimates.rst",
            category="1. Claims",
            labels={"figure": "claimed vs regenerated"},
        ),
        estimates_svg=f"{FIG}/claims_estimates.svg",
        estimates_caption=f"{FIG}/claims_estimates.caption.txt",
    log:
        f"{WORK}/logs/claims_figures.log",
    benchmark:
        f"{WORK}/benchmarks/claims_figures.tsv"
    conda:
        ENV
    params:
        cmd=step("claims_figures"),
    shell:
        "{params.cmd} --config_path {input.cfg} --claims_csv {input.claims}"
        f" --out_overview {FIG}/claims_overview --out_estimates {FIG}/claims_estimates"
        " --log {log}"
