"""``provenance.json``: enough to tell whether two results folders came from the same inputs."""

from __future__ import annotations

import hashlib
import json
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "ketamine-meta",
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "PyMARE",
    "matplotlib",
    "seaborn",
    "snakemake",
    "PyYAML",
    "jsonschema",
    "Jinja2",
)
#: Paths whose last commit identifies the code and data that produced the results (the results
#: folder itself is left out, so committing regenerated results does not change provenance).
SOURCE_PATHS = ("Snakefile", "workflow", "src", "config", "data", "pyproject.toml")


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def git_state(repo: str | Path = ".") -> dict:
    repo = Path(repo)
    commit = _git(["log", "-1", "--format=%H", "--", *SOURCE_PATHS], repo)
    status = _git(["status", "--porcelain", "--untracked-files=no", "--", *SOURCE_PATHS], repo)
    return {"source_commit": commit or None, "source_dirty": bool(status) if status is not None else None}


def exact_versions() -> dict:
    """Every package's installed version as the machine has it (logged, never committed)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def major_minor(version: str | None) -> str | None:
    """``3.11.2`` -> ``3.11``; ``2.3.0rc1`` -> ``2.3``: what a committed file records, so a patch
    release (which changes no result) does not rewrite ``results/provenance.json``. A ``0.0.x``
    release keeps its third number, which is the one that moves there (PyMARE 0.0.13)."""
    if not version:
        return version
    parts = re.findall(r"\d+", version)[:3]
    parts = parts if parts[:2] == ["0", "0"] else parts[:2]
    return ".".join(parts) if parts else version


def versions() -> dict:
    """Major.minor of Python and of every package that computes or writes results."""
    return {name: major_minor(v) for name, v in exact_versions().items()}


def build(inputs: dict[str, list[str]], config: dict, repo: str | Path = ".") -> dict:
    """Hashes of every input file (grouped by role), package versions (major.minor), the config, git
    state. The exact versions go to the step's log (:func:`exact_versions`)."""
    return {
        "inputs": {role: {str(p): sha256(p) for p in sorted(paths)} for role, paths in sorted(inputs.items())},
        "config": config,
        "versions": versions(),
        "git": git_state(repo),
    }


def dumps(prov: dict) -> str:
    return json.dumps(prov, indent=2, sort_keys=True) + "\n"
