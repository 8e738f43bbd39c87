"""The coverage simulation: seeded, deterministic, chunk-independent and sane; and its workflow rules."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT

from ketamine_meta.pipeline.cli import run_step
from ketamine_meta.pipeline.publish_steps import simulation_cell_step, simulation_summary_step
from ketamine_meta.stats import simulation
from ketamine_meta.stats.batch import pool_many
from ketamine_meta.stats.effects import smd, smd_from_d

REPS = 400  # small: these tests check the machinery, not the coverage to three decimals


def test_cell_is_deterministic_and_has_every_model():
    a = simulation.simulate_cell(5, 0.05, reps=REPS, seed=7)
    b = simulation.simulate_cell(5, 0.05, reps=REPS, seed=7)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a["model"].tolist() == ["DL-z", "REML-z", "REML-knha"]
    assert list(a.columns) == simulation.COLUMNS
    assert (a["reps"] == REPS).all() and (a["not_converged"] == 0).all()
    c = simulation.simulate_cell(5, 0.05, reps=REPS, seed=8)
    assert not np.array_equal(a["bias"], c["bias"]), "a different seed must give different draws"


def test_a_cell_gives_the_same_numbers_alone_or_in_the_grid():
    grid = simulation.simulate_grid(ks=(2, 10), tau2s=(0.0, 0.2), reps=REPS, seed=3)
    alone = simulation.simulate_cell(10, 0.2, reps=REPS, seed=3)
    got = grid[(grid["k"] == 10) & (grid["tau2"] == 0.2)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, alone, check_exact=True)
    assert len(grid) == 2 * 2 * len(simulation.MODELS)


def test_simulated_effects_are_escalc_smds():
    rng = simulation.cell_rng(1, 10, 0.0)
    yi, vi, theta_new = simulation.simulate_smd(rng, 10, 0.0, 2000)
    assert yi.shape == vi.shape == (10, 2000)
    assert np.all(theta_new == simulation.TRUE_EFFECT)  # τ² = 0: every true effect is μ
    # v = 1/n1 + 1/n2 + g²/(2(n1+n2)) with n1, n2 in 15..120: bounded by the extreme sizes
    assert vi.min() > 2 / 120 and vi.max() < 2 / 15 + 1
    # g is (nearly) unbiased for θ: mean over 20,000 draws within ~4 SE of 0.6
    assert abs(yi.mean() - simulation.TRUE_EFFECT) < 4 * yi.std() / np.sqrt(yi.size)
    # g from d is escalc's g from means and SDs: d = 1.2 / 2 = 0.6 with n = 30 and 40
    g, v = smd(1.2, 2.0, 30, 0.0, 2.0, 40)
    g2, v2 = smd_from_d(0.6, 30, 40)
    assert float(g2) == pytest.approx(float(g), abs=1e-12)
    assert float(v2) == pytest.approx(float(v), abs=1e-12)


def test_summaries_match_a_direct_computation():
    k, tau2, reps, seed = 3, 0.05, 300, 11
    row = simulation.simulate_cell(k, tau2, reps=reps, seed=seed).set_index("model").loc["REML-knha"]
    yi, vi, theta_new = simulation.simulate_smd(simulation.cell_rng(seed, k, tau2), k, tau2, reps)
    fits = pool_many(yi, vi, method="REML", test="knha", axis=0)
    mu = simulation.TRUE_EFFECT
    assert row["coverage"] == np.mean((fits["ci_low"] <= mu) & (mu <= fits["ci_high"]))
    assert row["bias"] == pytest.approx(fits["estimate"].mean() - mu, abs=1e-14)
    assert row["tau2_zero"] == np.mean(fits["tau2"] == 0)
    assert row["pi_coverage"] == np.mean((fits["pi_low"] <= theta_new) & (theta_new <= fits["pi_high"]))


def test_reml_knha_coverage_is_near_nominal_at_k10_tau2_005():
    """Sanity band, not a precision claim: 2,000 replicates have a Monte Carlo SE of ~0.005."""
    cell = simulation.simulate_cell(10, 0.05, reps=2000, seed=simulation.SEED).set_index("model")
    assert 0.93 <= cell.loc["REML-knha", "coverage"] <= 0.97
    # the z interval ignores the uncertainty of τ̂²: it must undercover here, and knha must be wider
    assert cell.loc["REML-z", "coverage"] < cell.loc["REML-knha", "coverage"]
    assert cell.loc["REML-knha", "ci_width"] > cell.loc["REML-z", "ci_width"]
    assert abs(cell.loc["REML-knha", "bias"]) < 0.03


def test_steps_write_byte_identical_outputs(tmp_path):
    digests = []
    for run in ("a", "b"):
        out = tmp_path / run
        cells = []
        for k, tau2 in ((2, "0"), (5, "0.2")):
            path = out / f"k{k}_tau2_{tau2}.csv"
            # through the command line, as the workflow runs it: the arguments arrive typed
            argv = ["--k", str(k), "--tau2", tau2, "--out_csv", str(path), "--reps", "200", "--seed", "5"]
            assert run_step(simulation_cell_step, argv) == 0
            cells.append(str(path))
        argv = ["--cells", *cells, "--out_csv", str(out / "coverage.csv"), "--out_stem", str(out / "coverage")]
        assert run_step(simulation_summary_step, argv) == 0
        files = ["coverage.csv", "coverage.svg", "coverage.png", "coverage.caption.txt"]
        digests.append({f: hashlib.sha256((out / f).read_bytes()).hexdigest() for f in files})
    assert digests[0] == digests[1]
    table = pd.read_csv(tmp_path / "a" / "coverage.csv")
    assert table[["k", "tau2"]].drop_duplicates().values.tolist() == [[2, 0.0], [5, 0.2]]
    caption = (tmp_path / "a" / "coverage.caption.txt").read_text()
    assert "REML-knha: coverage" in caption and "seed 5" in caption


def _snakemake(*args, tmp_path):
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"}
    config = [f"results_dir={tmp_path / 'res'}", f"work_dir={tmp_path / 'work'}"]
    cmd = [sys.executable, "-m", "snakemake", "-n", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(ROOT)]
    cmd += [*args, "--config", *config]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


def test_simulate_is_not_part_of_the_default_target(tmp_path):
    proc = _snakemake(tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "simulate_cell" not in proc.stdout and "rule simulate:" not in proc.stdout


def test_slurm_profile_dry_run_fans_out_one_job_per_cell(tmp_path):
    proc = _snakemake("--profile", str(ROOT / "profiles" / "slurm"), "simulate", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    stats = proc.stdout[proc.stdout.index("Job stats") :]
    assert "simulate_cell       15" in stats
    assert f"{tmp_path / 'res'}/validation/coverage.csv" in proc.stdout  # results_dir, not results/
