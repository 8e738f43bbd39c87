"""Helpers shared by the tests: copy the valid test data set and break one thing in it."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "data" / "valid"


def copy_valid(dst: Path) -> Path:
    shutil.copytree(VALID, dst)
    return dst


def edit_csv(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def make_config(**overrides) -> dict:
    cfg = yaml.safe_load((ROOT / "tests" / "data" / "config_test.yaml").read_text())
    cfg.update(overrides)
    return cfg
