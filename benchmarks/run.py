"""Speed of the pooling engines and of the pipeline; prints one JSON object (benchmarks/README.md).

Run from anywhere with the project's virtualenv: ``.venv/bin/python benchmarks/run.py``.
Options: ``--batch D`` (columns in the batched fit, default 20000), ``--single N`` (fits in the
one-at-a-time loops, default 1000), ``--repeats N`` (cold pipeline runs, default 3),
``--scale F ...`` (cold runs on F copies of the data, default 10 50), ``--skip-pipeline``,
``--skip-r``, ``--skip-pymare``.

Besides the k = 10 comparison, ``by_k`` gives fits/s of the batched engine against metafor's loop
and PyMARE's loop at k = 3, 10 and 50, and ``batch_size`` the per-fit rate of ~50-column calls
against large batches (the engine's fixed per-call cost).

Nothing here asserts a time: the JSON reports the numbers and, under ``meets``, whether each
target of the "Fast at every scale" issue is met on this machine.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # the checkout's library even without `pip install -e`

from ketamine_meta.stats.batch import pool_arrays, pool_many  # noqa: E402
from ketamine_meta.stats.pooling import rma  # noqa: E402

K = 10
METHOD, TEST = "REML", "knha"
TARGETS = {
    "batched_vs_single": 100.0,
    "batched_vs_metafor": 50.0,
    "pipeline_cold_seconds": 20.0,
    "pipeline_noop_seconds": 2.0,
    "large_over_small_batch": 3.0,
}

R_LOOP = r"""
suppressPackageStartupMessages(library(metafor))
a <- commandArgs(TRUE)
y <- as.matrix(read.csv(a[1], header = FALSE)); v <- as.matrix(read.csv(a[2], header = FALSE))
n <- ncol(y)
invisible(rma(y[, 1], v[, 1], method = "REML", test = "knha"))  # warm-up: byte-compile, load
est <- numeric(n)
t0 <- proc.time()[["elapsed"]]
for (j in seq_len(n)) est[j] <- rma(y[, j], v[, j], method = "REML", test = "knha")$beta[1]
el <- proc.time()[["elapsed"]] - t0
writeLines(format(est, digits = 17), a[3])
cat(sprintf('{"fits": %d, "seconds": %.6f, "metafor": "%s", "r": "%s"}\n', n, el,
            as.character(packageVersion("metafor")), paste(R.version$major, R.version$minor, sep = ".")))
"""


def ketamine_like_batch(d: int, k: int = K, seed: int = 1):
    """k trials per meta-analysis as in the coverage simulation: per-arm n 15..120, SMD 0.6, τ² = 0.05."""
    rng = np.random.default_rng(seed)
    n1 = rng.integers(15, 121, (k, d))
    n2 = rng.integers(15, 121, (k, d))
    se2 = 1 / n1 + 1 / n2
    yi = rng.normal(0.6, np.sqrt(se2 + 0.05))
    vi = se2 + yi**2 / (2 * (n1 + n2))
    return yi, vi


def time_single(yi, vi, n: int) -> dict:
    rma(yi[:, 0], vi[:, 0], method=METHOD, test=TEST)  # warm-up
    t0 = time.perf_counter()
    for j in range(n):
        rma(yi[:, j], vi[:, j], method=METHOD, test=TEST)
    sec = time.perf_counter() - t0
    return {"fits": n, "seconds": round(sec, 4), "fits_per_second": round(n / sec, 1)}


def time_batched(yi, vi, repeats: int = 5) -> dict:
    """Best of ``repeats`` calls of pool_many (the DataFrame API); pool_arrays (no DataFrame) too."""
    pool_many(yi[:, :100], vi[:, :100], method=METHOD, test=TEST, axis=0)  # warm-up
    best_df = best_arr = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        pool_many(yi, vi, method=METHOD, test=TEST, axis=0)
        best_df = min(best_df, time.perf_counter() - t0)
        t0 = time.perf_counter()
        pool_arrays(yi, vi, method=METHOD, test=TEST, axis=0)
        best_arr = min(best_arr, time.perf_counter() - t0)
    d = yi.shape[1]
    return {
        "fits": d,
        "seconds": round(best_df, 4),
        "fits_per_second": round(d / best_df, 1),
        "arrays_fits_per_second": round(d / best_arr, 1),
    }


def time_metafor(yi, vi, n: int) -> dict | None:
    """The same loop in R (metafor::rma, REML + knha) on the first ``n`` columns of the same data."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        np.savetxt(tmp / "y.csv", yi[:, :n], delimiter=",", fmt="%.17g")
        np.savetxt(tmp / "v.csv", vi[:, :n], delimiter=",", fmt="%.17g")
        (tmp / "loop.R").write_text(R_LOOP)
        cmd = [rscript, str(tmp / "loop.R"), str(tmp / "y.csv"), str(tmp / "v.csv"), str(tmp / "est.txt")]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            return {"error": proc.stderr.strip()[-500:]}
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        est = np.loadtxt(tmp / "est.txt")
    ours = pool_arrays(yi[:, :n], vi[:, :n], method=METHOD, test=TEST, axis=0)["estimate"]
    out["fits_per_second"] = round(out["fits"] / out["seconds"], 1)
    # metafor stops Fisher scoring when τ² moves < 1e-5, so estimates agree to ~1e-6, not 1e-12
    out["max_abs_diff_estimate_vs_pool_many"] = float(np.max(np.abs(est - ours)))
    return out


def time_small_batches(yi, vi, size: int = 50, repeats: int = 3) -> dict:
    """Per-fit rate of pool_many called on consecutive ``size``-column slices (best of ``repeats``)."""
    d = yi.shape[1] - yi.shape[1] % size
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for j in range(0, d, size):
            pool_many(yi[:, j : j + size], vi[:, j : j + size], method=METHOD, test=TEST, axis=0)
        best = min(best, time.perf_counter() - t0)
    return {"columns_per_call": size, "fits": d, "fits_per_second": round(d / best, 1)}


def time_numpy_floor(yi, vi, size: int = 50, passes: int = 6, repeats: int = 3) -> float:
    """Milliseconds per ``size``-column call of the least a REML fit can do in NumPy: ``passes``
    bare Newton steps on the REML score (the median number a 50-column call takes), ~20 NumPy
    calls each, with no bracket, no convergence test, no proof of one peak, no inference and no
    output. Not an estimator (it can step past the root or below 0): the floor under the fixed
    cost of a call, to set beside the budget that "within 3x of a large batch" leaves. The score
    is written out here, not taken from ``tau2.Intercept``: the evaluator's set-up and branches
    double this at k = 3 (0.21 against 0.11 ms), which would measure the engine, not the floor."""
    add = np.add.reduce
    d = yi.shape[1] - yi.shape[1] % size

    def newton(y, v):
        t = np.zeros(y.shape[1])
        for _ in range(passes):
            w = 1 / (v + t)
            sw = add(w, 0)
            a = w * (y - add(w * y, 0) / sw)
            w2 = w * w
            sw2 = add(w2, 0)
            wa = w * a
            swa = add(wa, 0)
            d1 = -2 * (add(wa * a, 0) - swa * swa / sw) + sw2 - 2 * add(w2 * w, 0) / sw + (sw2 / sw) ** 2
            t = t - (add(a * a, 0) - sw + sw2 / sw) / d1
        return t

    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for j in range(0, d, size):
            newton(yi[:, j : j + size], vi[:, j : j + size])
        best = min(best, time.perf_counter() - t0)
    return round(1e3 * best / (d // size), 3)


def time_pymare(yi, vi, n: int) -> dict | None:
    """PyMARE's REML estimator (VarianceBasedLikelihoodEstimator) in a loop, one meta-analysis per fit."""
    try:
        from pymare import Dataset
        from pymare.estimators import VarianceBasedLikelihoodEstimator
    except ImportError as err:
        return {"error": f"PyMARE not importable: {err}"}
    est = VarianceBasedLikelihoodEstimator(method="REML")
    est.fit_dataset(Dataset(y=yi[:, 0], v=vi[:, 0]))  # warm-up
    t0 = time.perf_counter()
    for j in range(n):
        est.fit_dataset(Dataset(y=yi[:, j], v=vi[:, j]))
    sec = time.perf_counter() - t0
    return {"fits": n, "seconds": round(sec, 4), "fits_per_second": round(n / sec, 1)}


def by_k(args) -> dict:
    """Batched engine vs metafor's loop vs PyMARE's loop, and ~50-column calls vs large batches, per k."""
    out = {}
    for k in (3, 10, 50):
        yi, vi = ketamine_like_batch(args.batch, k=k)
        big = time_batched(yi, vi, repeats=3)
        small = time_small_batches(yi, vi)
        n = min(args.single, 300)
        mf = None if args.skip_r else time_metafor(yi, vi, n)
        pm = None if args.skip_pymare else time_pymare(yi, vi, n)
        rate = big["fits_per_second"]
        out[f"k{k}"] = {
            "batched_fits_per_second": rate,
            "batch_size": {
                "large": big["fits"],
                "small": small,
                "large_over_small": round(rate / small["fits_per_second"], 2),
                # what a call costs beyond its fits at the large-batch rate (the fixed cost)
                "fixed_ms_per_call": round(
                    1e3 * small["columns_per_call"] * (1 / small["fits_per_second"] - 1 / rate), 3
                ),
                # what "within 3x" allows a whole 50-column call, and the least NumPy can spend on one
                "budget_ms_per_call_within_3x": round(1e3 * 3 * small["columns_per_call"] / rate, 3),
                "numpy_floor_ms_per_call": time_numpy_floor(yi, vi, size=small["columns_per_call"]),
            },
            "metafor_loop_fits_per_second": mf.get("fits_per_second") if mf else None,
            "pymare_loop_fits_per_second": pm.get("fits_per_second") if pm else None,
            "batched_vs_metafor": round(rate / mf["fits_per_second"], 1) if mf and mf.get("fits_per_second") else None,
            "batched_vs_pymare": round(rate / pm["fits_per_second"], 1) if pm and pm.get("fits_per_second") else None,
        }
    return out


def time_multiverse() -> tuple[float | None, str]:
    """Specifications (claim x choice-set rows) per second of ketamine_meta.claims.multiverse, if it exists yet.

    Run on the shipped data and config/config.yaml; the time includes building the effect sizes
    for every multi-arm and bin variant, as a pipeline run would.
    """
    try:
        mv = importlib.import_module("ketamine_meta.claims.multiverse")
    except ModuleNotFoundError:
        return None, "ketamine_meta.claims.multiverse does not exist yet"
    run = getattr(mv, "run_multiverse", None)
    if run is None:
        return None, "ketamine_meta.claims.multiverse has no run_multiverse(ds, cfg, registry)"
    try:
        from ketamine_meta.claims.registry import load_claims
        from ketamine_meta.core.config import load_config
        from ketamine_meta.data.load import load_dataset

        cfg = load_config(ROOT / "config" / "config.yaml")
        ds = load_dataset(ROOT / cfg.data_dir)
        registry = load_claims(ROOT / cfg.claims_file)
        t0 = time.perf_counter()
        table = run(ds, cfg, registry)
        sec = time.perf_counter() - t0
    except Exception as err:  # a module another engineer is still writing: report, do not crash
        return None, f"ketamine_meta.claims.multiverse.run_multiverse failed: {type(err).__name__}: {err}"[:500]
    n = len(table)
    return round(n / sec, 1), (
        f"{n} claim x specification rows ({table['spec_id'].nunique()} distinct choice sets) in {sec:.2f} s"
    )


def cpu_reference(repeats: int = 3) -> dict[str, float]:
    """Seconds of three fixed workloads, best of ``repeats`` each: the speed of this machine at
    this moment, so that runs on different machines, or on a shared machine under different load,
    can be compared. ``python``: a pure-Python loop (10 million additions); ``numpy_small``: 20,000
    NumPy operations on 50-element arrays (the engine's per-call regime); ``pandas``: sorting and
    grouping a 200,000-row frame (the pipeline's regime). A neighbour's load on a shared machine
    slows memory-bound work more than the Python loop: compare the ratio of each to a quiet run."""
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.integers(0, 500, 200_000), "b": rng.normal(size=200_000)})
    small = rng.normal(size=50)

    def python_loop():
        total = 0
        for i in range(10_000_000):
            total += i

    def numpy_small():
        x = small
        for _ in range(20_000):
            x = np.add(x, small)

    def pandas_work():
        frame.sort_values(["a", "b"]).groupby("a")["b"].agg(["mean", "size"])

    out = {}
    for name, work in (("python", python_loop), ("numpy_small", numpy_small), ("pandas", pandas_work)):
        best = math.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            work()
            best = min(best, time.perf_counter() - t0)
        out[name] = round(best, 4)
    return out


def _rule_seconds(work: Path) -> dict[str, float]:
    """Wall seconds of each job of a run, from its Snakemake ``benchmark:`` file."""
    out = {}
    for tsv in sorted((work / "benchmarks").glob("*.tsv")):
        lines = tsv.read_text(encoding="utf-8").splitlines()
        if len(lines) >= 2:
            out[tsv.stem] = float(lines[1].split("\t")[0])
    return out


def time_pipeline(tmp: Path, repeats: int = 3) -> dict:
    """``repeats`` cold ``snakemake -c2`` runs on the shipped data, each into new temporary folders,
    then a no-op rerun of the last. A shared machine's load moves single runs by 30 % or more, so
    the median and the fastest run are both given, with each job's seconds of the median run."""
    env = dict(os.environ)
    # the rules call `python`: the virtualenv's, as when it is activated
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    out: dict = {"cold_runs_seconds": []}
    rules = []
    for i in range(repeats):
        work = tmp / f"work_{i}"
        cmd = [sys.executable, "-m", "snakemake", "-c2", "--config", f"results_dir={tmp / f'results_{i}'}",
               f"work_dir={work}"]  # fmt: skip
        for name in ("cold", "noop") if i == repeats - 1 else ("cold",):
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
            sec = round(time.perf_counter() - t0, 2)
            if proc.returncode != 0:
                out[f"{name}_error"] = proc.stderr.strip()[-1500:]
                return out
            if name == "cold":
                out["cold_runs_seconds"].append(sec)
                rules.append(_rule_seconds(work))
            else:
                out["noop_seconds"] = sec
                out["noop_did_nothing"] = "Nothing to be done" in (proc.stdout + proc.stderr)
    runs = out["cold_runs_seconds"]
    median = sorted(runs)[len(runs) // 2]
    out["cold_seconds"] = median
    out["cold_fastest_seconds"] = min(runs)
    out["jobs_seconds_of_median_run"] = rules[runs.index(median)]
    out["jobs_cpu_sum_seconds"] = round(sum(rules[runs.index(median)].values()), 2)
    return out


#: tables whose rows belong to a study (study_id first); screening's overlaps_with lists ids too
STUDY_TABLES = (
    "studies",
    "arms",
    "outcomes_binary",
    "outcomes_continuous",
    "contrasts",
    "relapse",
    "screening",
    "risk_of_bias",
    "adverse_events",
)


def _copy_id(study_id: str, copy: int) -> str:
    """A study id for copy ``copy`` (0 = the original) that still fits the contract's id rule:
    letters inserted before the year, e.g. lapidus2014 -> lapidusqb2014."""
    if copy == 0:
        return study_id
    tag = "q" + "".join(chr(ord("a") + int(d)) for d in str(copy))
    return re.sub(r"^([a-z]+)", lambda m: m.group(1) + tag, study_id)


def scaled_copy(factor: int, dest: Path) -> Path:
    """The shipped extraction with every study present ``factor`` times under new ids (same numbers):
    ``factor`` times the studies, rows and cells to pool, with the same claims and time bins."""
    import csv

    src = ROOT / "data" / "extracted"
    dest.mkdir(parents=True, exist_ok=True)
    for path in src.glob("*.csv"):
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        if path.stem in STUDY_TABLES:
            sid = header.index("study_id")
            ov = header.index("overlaps_with") if "overlaps_with" in header else None
            out = []
            for c in range(factor):
                for r in body:
                    r = list(r)
                    r[sid] = _copy_id(r[sid], c)
                    if ov is not None and r[ov]:
                        r[ov] = ";".join(_copy_id(x.strip(), c) for x in r[ov].split(";") if x.strip())
                    out.append(r)
            body = out
        with open(dest / path.name, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows([header, *body])
    for folder in ("search", "km"):
        if (src / folder).is_dir():
            shutil.copytree(src / folder, dest / folder)
    return dest


def time_scaled(factors: list[int], tmp: Path) -> dict:
    """Cold pipeline runs on ``factor`` x the shipped studies: wall time and the peak memory of the
    largest job (each run in its own process, so the peaks are that run's)."""
    out = {}
    wrapper = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "print(round(time.perf_counter() - t, 2), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)"
    )
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for factor in factors:
        data = scaled_copy(factor, tmp / f"data_x{factor}")
        cmd = [sys.executable, "-c", wrapper, sys.executable, "-m", "snakemake", "-c2", "--config",
               f"data_dir={data}", f"results_dir={tmp / f'results_x{factor}'}", f"work_dir={tmp / f'work_x{factor}'}",
               ]  # fmt: skip
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=7200)
        wall, rss, rc = proc.stdout.split()
        n_studies = sum(1 for _ in open(data / "studies.csv", encoding="utf-8")) - 1
        out[f"x{factor}"] = {"studies": n_studies, "cold_seconds": float(wall),
                             "peak_job_memory_mb": round(int(rss) / 1024, 1), "ok": rc == "0"}  # fmt: skip
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=20_000, help="columns in the batched fit")
    ap.add_argument("--single", type=int, default=1_000, help="fits in the one-at-a-time loops")
    ap.add_argument("--skip-pipeline", action="store_true")
    ap.add_argument("--skip-r", action="store_true")
    ap.add_argument("--skip-pymare", action="store_true")
    ap.add_argument("--repeats", type=int, default=3, help="cold pipeline runs (median and fastest reported)")
    ap.add_argument(
        "--scale",
        type=int,
        nargs="*",
        default=[10, 50],
        help="also run the pipeline cold on this many copies of the shipped studies (default 10 50)",
    )
    args = ap.parse_args(argv)

    reference_before = cpu_reference()
    yi, vi = ketamine_like_batch(max(args.batch, args.single))
    single = time_single(yi, vi, args.single)
    batched = time_batched(yi[:, : args.batch], vi[:, : args.batch])
    metafor = None if args.skip_r else time_metafor(yi, vi, args.single)
    per_k = by_k(args)
    mv_rate, mv_note = time_multiverse()

    tmp = Path(tempfile.mkdtemp(prefix="ketamine-meta-bench-"))
    try:
        pipeline = None if args.skip_pipeline else time_pipeline(tmp, args.repeats)
        scaled = None if args.skip_pipeline or not args.scale else time_scaled(args.scale, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ratio = batched["fits_per_second"] / single["fits_per_second"]
    mf_rate = metafor.get("fits_per_second") if metafor else None
    ratio_mf = batched["fits_per_second"] / mf_rate if mf_rate else None
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        "k": K,
        "model": f"{METHOD} + {TEST}",
        "single_rma": single,
        "batched_pool_many": batched,
        "batched_vs_single": round(ratio, 1),
        "metafor_loop": metafor,
        "batched_vs_metafor": round(ratio_mf, 1) if ratio_mf else None,
        "by_k": per_k,
        "multiverse_specs_per_second": mv_rate,
        "multiverse_note": mv_note,
        "pipeline": pipeline,
        "scaled_pipeline": scaled,
        "peak_memory_mb": {"benchmark_process": round(peak_self, 1), "largest_child_process": round(peak_child, 1)},
        "targets": TARGETS,
        "meets": {
            "batched_vs_single": ratio >= TARGETS["batched_vs_single"],
            "batched_vs_metafor": None if ratio_mf is None else ratio_mf >= TARGETS["batched_vs_metafor"],
            "large_over_small_batch": all(
                v["batch_size"]["large_over_small"] <= TARGETS["large_over_small_batch"] for v in per_k.values()
            ),
            "pipeline_cold_seconds": None
            if not pipeline or "cold_error" in pipeline
            else pipeline["cold_seconds"] < TARGETS["pipeline_cold_seconds"],
            "pipeline_noop_seconds": None
            if not pipeline or "noop_seconds" not in pipeline
            else pipeline["noop_seconds"] < TARGETS["pipeline_noop_seconds"],
        },
        "machine": {
            "cpu_reference_seconds": {"before": reference_before, "after": cpu_reference()},
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
        },
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
