"""The house rules of the package layout (docs/architecture.md): layers import one way, no cycles,
small modules, thin workflow scripts that name the function they run."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "ketamine_meta"
LAYERS = ["pipeline", "outputs", "claims", "evidence", "stats", "data", "core"]  # top to bottom
MAX_LINES = 500


def _lint_imports(src: Path) -> subprocess.CompletedProcess:
    """import-linter on the package under ``src`` with the contract of pyproject.toml."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    exe = Path(sys.executable).with_name("lint-imports")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "importlinter.cli"]
    return subprocess.run([*cmd, "--no-cache", str(ROOT / "pyproject.toml")], cwd=src, env=env,
                          capture_output=True, text=True)  # fmt: skip


def test_layer_contract_is_the_documented_one():
    contract = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]
    assert [layer.removeprefix("ketamine_meta.") for layer in contract["layers"]] == LAYERS
    assert sorted(p.name for p in PKG.iterdir() if (p / "__init__.py").exists()) == sorted(LAYERS)


def test_layers_point_one_way():
    run = _lint_imports(ROOT / "src")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 kept, 0 broken" in run.stdout


@pytest.mark.parametrize("low, high", [("stats/tau2.py", "ketamine_meta.pipeline.cli"),
                                       ("data/load.py", "ketamine_meta.outputs.writers")])  # fmt: skip
def test_an_upward_import_breaks_the_contract(tmp_path, low, high):
    src = tmp_path / "src"
    shutil.copytree(PKG, src / "ketamine_meta", ignore=shutil.ignore_patterns("__pycache__"))
    target = src / "ketamine_meta" / low
    target.write_text(target.read_text() + f"\nimport {high}  # noqa: E402\n")
    run = _lint_imports(src)
    assert run.returncode != 0
    assert "BROKEN" in run.stdout and high in run.stdout


def test_no_import_cycles_between_modules():
    graph = grimp.build_graph("ketamine_meta")
    cycles = sorted(
        (a, b)
        for a in graph.modules
        for b in graph.find_modules_directly_imported_by(a)
        if a != b and not a.startswith(b + ".") and not b.startswith(a + ".") and graph.chain_exists(b, a)
    )
    assert cycles == []


def test_no_module_over_500_lines():
    sizes = {str(p.relative_to(PKG)): len(p.read_text().splitlines()) for p in PKG.rglob("*.py")}
    assert {m: n for m, n in sizes.items() if n > MAX_LINES} == {}


def test_each_workflow_script_names_the_step_it_runs():
    for script in sorted((ROOT / "workflow" / "scripts").glob("*.py")):
        tree = ast.parse(script.read_text())
        imported = {a.asname or a.name: node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    for a in node.names}  # fmt: skip
        steps = {
            n: m
            for n, m in imported.items()
            if m.startswith("ketamine_meta.pipeline.") and m != "ketamine_meta.pipeline.cli"
        }  # noqa: E501
        assert steps, f"{script.name} imports no step function"
        assert imported.get("run_step") == "ketamine_meta.pipeline.cli", script.name
        assert imported.get("exit_with") == "ketamine_meta.pipeline.cli", script.name  # fast exit (cli.exit_with)
        # nothing but imports and the call: the work is in the library
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        assert calls == [], script.name


def test_the_metric_key_grammar_is_the_one_config_readme_prints():
    """config/README.md's 'Metric keys' block and claims/keys.py define the same families."""
    import re

    from ketamine_meta.claims.keys import GRAMMAR, MetricKey, family_of

    text = (ROOT / "config" / "README.md").read_text()
    block = text.split("## Metric keys", 1)[1].split("```", 2)[1]
    covered = set()
    for line in block.splitlines():
        pattern = line.split()[0] if line.strip() and not line.startswith(" ") else None
        if not pattern:
            continue
        sample = re.sub(r"\[[^\]]*\]", "", pattern)  # optional parts left out
        for field, value in {"<study_id>": "abcd2000", "<a>_vs_<b>": "iv_vs_oral", "<group>": "control"}.items():
            sample = sample.replace(field, value)
        sample = re.sub(r"<([a-z_0-9]+)(\|[^>]*)?>", lambda m: m.group(1) if m.group(2) else "x1", sample)
        fam = family_of(sample)
        assert fam is not None, f"README key {pattern!r} (sample {sample!r}) follows no rule of keys.GRAMMAR"
        assert str(MetricKey.parse(sample)) == sample
        covered.add(fam)
    assert covered == set(GRAMMAR) - {"arithmetic", "none"}


def test_exit_with_flushes_the_log_and_returns_the_code(tmp_path):
    """Steps end by ``os._exit`` (no interpreter teardown): the job's log and stdout must still be
    complete, and the exit code the step's."""
    import os
    import subprocess
    import sys

    script = tmp_path / "step.py"
    script.write_text(
        "import logging\n"
        "from ketamine_meta.pipeline.cli import exit_with, run_step\n"
        "def step(n: int) -> None:\n"
        "    for i in range(n):\n"
        "        logging.info('line %d', i)\n"
        "    print('printed', flush=False)\n"
        "    if n == 3:\n"
        "        from ketamine_meta.core.errors import ConfigError\n"
        "        raise ConfigError('bad input')\n"
        "exit_with(run_step(step))\n"
    )
    # stdout block-buffered, as in a Snakemake job (PYTHONUNBUFFERED would flush every print)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    for n, code in ((2000, 0), (3, 2)):
        log = tmp_path / f"log{n}.txt"
        proc = subprocess.run([sys.executable, str(script), "--n", str(n), "--log", str(log)],
                              capture_output=True, text=True, timeout=120, env=env)  # fmt: skip
        assert proc.returncode == code, proc.stderr
        assert "printed" in proc.stdout
        lines = log.read_text().splitlines()
        assert f"INFO line {n - 1}" in lines
        assert lines[-1] == ("INFO done" if code == 0 else "ERROR bad input")
