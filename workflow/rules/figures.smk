FIG = f"{WORK}/figures"
FIG_EXT = ["png", "svg", "caption.txt"]


rule forest:
    # one forest plot per row of the pooling job's forest_index.csv (primary outcome x effect x
    # group x time bin with k >= min_k_forest), drawn from its rows in forest_rows.csv
    input:
        cfg=rules.resolved_config.output.cfg,
        index=rules.pool.output.forest_index,
        rows=rules.pool.output.forest_rows,
    output:
        folder=report(
            directory(f"{FIG}/forest"),
            patterns=["{name}.png"],
            caption="../report/forest.rst",
            category="2. Forest plots",
            labels={"figure": "{name}"},
        ),
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
        "{params.cmd} --config_path {input.cfg} --index_csv {input.index}"
        " --rows_csv {input.rows} --out_dir {output.folder} --log {log}"
