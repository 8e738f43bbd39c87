# Validation of the default inference by simulation: coverage and bias of DL-z, REML-z and
# REML-knha on ketamine-like trials (src/ketamine_meta/stats/simulation.py, docs/scaling.md).
# Not part of `all`: run `snakemake -c2 simulate`. One job per k x tau2 cell, each with its own
# seeded stream, so the cells fan out over a cluster (profiles/slurm) and give the same numbers
# wherever they run; `simulate` joins them.
SIM_K = [2, 3, 5, 10, 20]
SIM_TAU2 = ["0", "0.05", "0.2"]
SIM_REPS = 10000
SIM_SEED = 20240521
SIM_CODE = [
    "src/ketamine_meta/stats/simulation.py",
    "src/ketamine_meta/stats/batch.py",
    "src/ketamine_meta/stats/tau2.py",
]


rule simulate_cell:
    # one k x tau2 cell: every model's coverage and bias over SIM_REPS meta-analyses
    input:
        code=SIM_CODE,
    output:
        csv=f"{WORK}/validation/cells/k{{k}}_tau2_{{tau2}}.csv",
    log:
        f"{WORK}/logs/simulate_cell_k{{k}}_tau2_{{tau2}}.log",
    benchmark:
        f"{WORK}/benchmarks/simulate_cell_k{{k}}_tau2_{{tau2}}.tsv"
    wildcard_constraints:
        k=r"\d+",
        tau2=r"\d+(\.\d+)?",
    conda:
        ENV
    params:
        cmd=step("simulate"),
        reps=SIM_REPS,
        seed=SIM_SEED,
    shell:
        "{params.cmd} cell --k {wildcards.k} --tau2 {wildcards.tau2} --reps {params.reps}"
        " --seed {params.seed} --out_csv {output.csv} --log {log}"


rule simulate:
    # the coverage table and its figure, written straight to RESULTS/validation (not published
    # by `publish`, which never touches that folder)
    input:
        expand(rules.simulate_cell.output.csv, k=SIM_K, tau2=SIM_TAU2),
    output:
        csv=f"{RESULTS}/validation/coverage.csv",
        figure=multiext(
            f"{RESULTS}/validation/coverage", ".png", ".svg", ".caption.txt"
        ),
    log:
        f"{WORK}/logs/simulate.log",
    benchmark:
        f"{WORK}/benchmarks/simulate.tsv"
    conda:
        ENV
    params:
        cmd=step("simulate"),
        stem=lambda wildcards, output: output.figure[0][: -len(".png")],
    shell:
        "{params.cmd} summary --cells {input} --out_csv {output.csv}"
        " --out_stem {params.stem} --log {log}"
