FIG = f"{WORK}/figures"
FIG_EXT = ["png", "svg", "caption.txt"]


rule forest:
    # one forest plot per primary outcome x effect x group x time bin (k >= min_k_forest)
    input:
        cfg=rules.resolved_config.output.cfg,
        effects=rules.validate.output.effects,
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
    priority: 10  # the longest job: started as soon as its inputs exist
    conda:
        ENV
    params:
        cmd=step("forest"),
    shell:
        "{params.cmd} --config_path {input.cfg} --effects_csv {input.effects}"
        " --pooled_csv {input.pooled} --moderators_csv {input.moderators}"
        " --out_dir {output.folder} --out_index {output.index} --log {log}"


rule figures:
    # the figures of the pooled tables: the time course by route with the study-clustered model,
    # subgroup estimates and moderator tests at 24 h, and the PRISMA flow of the logged search.
    # One job: small steps that would each pay for starting Python and matplotlib.
    input:
        cfg=rules.resolved_config.output.cfg,
        pooled=rules.pool.output.pooled,
        model=rules.pool.output.predictions,
        subgroups=rules.pool.output.subgroups,
        moderators=rules.pool.output.moderators,
        effects=rules.validate.output.effects,
        tables=DATA_TABLES,
        search=sorted(str(p) for p in (Path(DATA) / "search").glob("*.csv")),
    output:
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
        f"{WORK}/logs/figures.log",
    benchmark:
        f"{WORK}/benchmarks/figures.tsv"
    conda:
        ENV
    params:
        cmd=step("figures"),
        # figure stems: each is written as <stem>.png, .svg and .caption.txt
        timecourse=lambda wildcards, output: output.timecourse[: -len(".png")],
        moderators=lambda wildcards, output: output.moderators[: -len(".png")],
        prisma=lambda wildcards, output: output.prisma[0][: -len(".png")],
    shell:
        "{params.cmd} --config_path {input.cfg} --pooled_csv {input.pooled} --model_csv {input.model}"
        " --subgroups_csv {input.subgroups} --moderators_csv {input.moderators}"
        " --effects_csv {input.effects} --out_timecourse {params.timecourse}"
        " --out_moderators {params.moderators} --out_prisma_table {output.prisma_table}"
        " --out_prisma {params.prisma} --log {log}"
