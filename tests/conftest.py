"""Shared fixtures: the pinned metafor reference values and small data sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference" / "metafor_reference.json"


@pytest.fixture(scope="session")
def metafor_ref() -> dict:
    return json.loads(REFERENCE.read_text())
