# Everything published to the results folder, relative to WORK and RESULTS alike.
PUBLISHED = [
    "tables/effect_sizes.csv",
    "tables/unused_rows.csv",
    "tables/pooled.csv",
    "tables/moderators.csv",
    "tables/subgroups.csv",
    "tables/dose_response.csv",
    "tables/timecourse_model.csv",
    "tables/timecourse_summary.csv",
    "tables/relapse_studies.csv",
    "tables/relapse_pooled.csv",
    "tables/relapse_medians.csv",
    "tables/relapse_shares.csv",
    "tables/adverse_events_pooled.csv",
    "tables/prisma.csv",
    "tables/metrics.csv",
    "tables/multiverse.csv",
    "tables/multiverse_summary.csv",
    "tables/spec_curve_index.csv",
    "tables/leave1out.csv",
    "tables/influence.csv",
    "tables/cumulative.csv",
    "tables/regtest.csv",
    "tables/forest_index.csv",
    "tables/forest_rows.csv",
    "claims.csv",
    "claims.md",
    "provenance.json",
    "report.html",
    *[
        f"figures/{name}.{ext}"
        for name in (
            "timecourse",
            "moderators",
            "relapse",
            "claims_overview",
            "claims_estimates",
            "prisma",
        )
        for ext in FIG_EXT
    ],
]


rule provenance:
    # input hashes, package versions, the config used and the git state of the sources
    input:
        cfg=rules.resolved_config.output.cfg,
        tables=DATA_TABLES,
        registry=config["claims_file"],
        code=CODE_FILES,
    output:
        json=f"{WORK}/provenance.json",
    log:
        f"{WORK}/logs/provenance.log",
    benchmark:
        f"{WORK}/benchmarks/provenance.tsv"
    conda:
        ENV
    params:
        cmd=step("provenance"),
    shell:
        "{params.cmd} --config_path {input.cfg} --out_json {output.json}"
        " --code_files {input.code} --log {log}"


rule publish:
    # the only rule that writes RESULTS: it runs after every other job succeeded
    input:
        [f"{WORK}/{p}" for p in PUBLISHED],
        forest=rules.forest.output.folder,
        spec_curves=rules.claims.output.spec_curves,
        funnel=rules.pool.output.funnel,
    output:
        [f"{RESULTS}/{p}" for p in PUBLISHED],
        forest=directory(f"{RESULTS}/figures/forest"),
        spec_curves=directory(f"{RESULTS}/figures/spec_curve"),
        funnel=directory(f"{RESULTS}/figures/funnel"),
    log:
        f"{WORK}/logs/publish.log",
    benchmark:
        f"{WORK}/benchmarks/publish.tsv"
    conda:
        ENV
    params:
        cmd=step("publish"),
        published=" ".join(
            [*PUBLISHED, "figures/forest", "figures/spec_curve", "figures/funnel"]
        ),
        # the folders are the forest folders' parents, two levels up
        src=lambda wildcards, input: str(Path(input.forest).parent.parent),
        dst=lambda wildcards, output: str(Path(output.forest).parent.parent),
    shell:
        "{params.cmd} --src_root {params.src} --dst_root {params.dst}"
        " --items {params.published} --log {log}"


onsuccess:
    # where the report is and what the claims came to, after Snakemake's job log
    from ketamine_meta.pipeline.summary import run_summary

    if Path(RESULTS, "claims.csv").is_file():
        print(run_summary(RESULTS))
    stop_rescheduling_timers()
