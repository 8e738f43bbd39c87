"""Helpers shared by the tests: copy the valid test data set and break one thing in it."""

from __future__ import annotations

import copy
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from ketamine_meta.core.config import in_time_order, validate_config
from ketamine_meta.core.settings import Config

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "data" / "valid"


#: (case, method) of tests/reference/metafor_reference.json whose likelihood has two peaks and where
#: metafor's fits (default start, and the tight control started there alike) stop at the lower one,
#: the boundary τ² = 0: the library finds the global maximum instead (ML log L 2.33 at τ² = 0.0479
#: against 1.94 at 0); tests/test_bimodal.py compares it with metafor started at the best grid point.
LOWER_PEAK_IN_REFERENCE = {("unequal_var", "ML")}


def copy_valid(dst: Path) -> Path:
    shutil.copytree(VALID, dst)
    return dst


def edit_csv(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def make_config(**overrides) -> dict:
    """The test configuration as the YAML reads (for Snakemake runs)."""
    cfg = yaml.safe_load((ROOT / "tests" / "data" / "config_test.yaml").read_text())
    cfg.update(overrides)
    return cfg


def make_settings(cfg: dict | None = None, handling: dict | None = None, **overrides) -> Config:
    """The typed Config the library reads: ``cfg`` (default: the test config) with ``handling``
    keys replaced, validated as a run validates it."""
    cfg = copy.deepcopy(cfg) if cfg is not None else make_config(**overrides)
    cfg["handling"].update(handling or {})
    return Config.from_dict(in_time_order(validate_config(cfg)))


def run_snakemake(cfg: dict, tmp: Path, *extra: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    """Run the workflow with ``cfg`` written to a config file in ``tmp`` (overrides config.yaml).

    Snakemake runs under this interpreter, and the workflow's steps use Snakemake's interpreter,
    so the package under test is the one imported here whatever ``python`` is on PATH.
    """
    cfg_path = tmp / f"config_{hashlib.sha256(yaml.safe_dump(cfg).encode()).hexdigest()[:12]}.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    cmd = [sys.executable, "-m", "snakemake", "-c2", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(ROOT),
           "--configfile", str(cfg_path), *extra]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder``, by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
