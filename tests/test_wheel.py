"""The package as users install it: a wheel carries its schema and template, and the pipeline's
validation step runs from it (not from the checkout)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from helpers import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel built from the checkout, unpacked (a pure-Python wheel installs by unpacking)."""
    out = tmp_path_factory.mktemp("wheel")
    # built from a copy of what the wheel is made of, so the checkout gets no build/ folder
    source = out / "source"
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        source.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
                           capture_output=True, text=True, timeout=600)  # fmt: skip
    assert build.returncode == 0, build.stderr
    (wheel,) = out.glob("ketamine_meta-*.whl")
    target = out / "site"
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        z.extractall(target)
    assert "ketamine_meta/core/config.schema.yaml" in names
    assert "ketamine_meta/outputs/templates/report.html.j2" in names
    return target


def _run(target: Path, code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(target)}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_wheel_validates_the_shipped_data(installed, tmp_path):
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg |= {"data_dir": str(ROOT / "data" / "extracted"), "claims_file": str(ROOT / "config" / "claims.yaml"),
            "documents_file": str(ROOT / "config" / "documents.yaml"), "seeds_dir": ""}  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    code = (
        "import ketamine_meta, sys\n"
        "from ketamine_meta.pipeline.cli import run_step\n"
        "from ketamine_meta.pipeline.data_steps import validate\n"
        "from ketamine_meta.outputs.report import environment\n"
        "environment().get_template('report.html.j2')\n"
        "print(ketamine_meta.__file__)\n"
        "sys.exit(run_step(validate, ['--config_path', 'config.json', '--report_path', 'validation.txt']))\n"
    )
    run = _run(installed, code, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().startswith(str(installed))  # the wheel's copy, not the checkout's
    report = (tmp_path / "validation.txt").read_text()
    assert "studies.csv: " in report and "claims: " in report


def test_the_wheel_refuses_a_bad_config_with_its_schema(installed, tmp_path):
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["model"]["method"] = "REMl"
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    code = "from ketamine_meta.core.config import load_config\nload_config('config.json')\n"
    run = _run(installed, code, tmp_path)
    assert run.returncode != 0
    assert "model.method" in run.stderr and "REML" in run.stderr
