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
