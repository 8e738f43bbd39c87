rule claims:
    # a verdict and a checkable reason for every claim in the registry
    input:
        cfg=rules.resolved_config.output.cfg,
        metrics=rules.metrics.output.metrics,
        robustness=rules.multiverse.output.summary,
        regtest=rules.sensitivity.output.regtest,
        registry=config["claims_file"],
        documents=DOCUMENTS,
    output:
        csv=report(
            f"{WORK}/claims.csv",
            caption="../report/claims.rst",
            category="1. Claims",
            labels={"table": "claims.csv"},
        ),
        md=f"{WORK}/claims.md",
    log:
        f"{WORK}/logs/claims.log",
    benchmark:
        f"{WORK}/benchmarks/claims.tsv"
    conda:
        ENV
    params:
        cmd=step("claims"),
    shell:
        "{params.cmd} --config_path {input.cfg} --metrics_csv {input.metrics}"
        " --multiverse_summary_csv {input.robustness} --regtest_csv {input.regtest}"
        " --out_csv {output.csv} --out_md {output.md} --log {log}"
