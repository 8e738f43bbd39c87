"""The committed ``results/`` are what the committed code and data produce.

Runs the whole pipeline on the shipped extraction into a temporary results folder (the session's
``shipped_run``, shared with the other tests of the shipped data) and compares
every file with ``results/`` byte for byte; ``provenance.json`` (package versions, git state) is
compared on its ``inputs`` and on its ``config`` without the keys naming this run's folders. A
failure means the results were not regenerated after a change: run ``.venv/bin/snakemake -c2`` and
commit ``results/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import ROOT

pytestmark = pytest.mark.pipeline

COMMITTED = ROOT / "results"
#: provenance.json config keys that name where this run wrote (differ by construction)
PATH_KEYS = ("results_dir", "work_dir")
HINT = "regenerate with `.venv/bin/snakemake -c2` and commit results/"


def published_files(folder: Path) -> dict[str, Path]:
    """Every file a reader gets, by path relative to ``folder`` (logs and hidden files left out)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if p.is_file() and rel.parts[0] != "logs" and not any(part.startswith(".") for part in rel.parts):
            out[rel.as_posix()] = p
    return out


@pytest.fixture(scope="module")
def regenerated(shipped_run) -> Path:
    return shipped_run


def test_same_files_as_committed(regenerated):
    new, old = published_files(regenerated), published_files(COMMITTED)
    assert "report.html" in new
    missing, extra = sorted(new.keys() - old.keys()), sorted(old.keys() - new.keys())
    assert not missing and not extra, f"not committed: {missing}; committed but not produced: {extra}; {HINT}"


def test_every_file_byte_identical_to_committed(regenerated):
    new, old = published_files(regenerated), published_files(COMMITTED)
    compared = sorted((new.keys() & old.keys()) - {"provenance.json"})
    assert len(compared) > 20
    differing = [rel for rel in compared if new[rel].read_bytes() != old[rel].read_bytes()]
    assert not differing, f"{len(differing)} of {len(compared)} files differ from results/: {differing[:30]}; {HINT}"


def test_provenance_inputs_and_config_match_committed(regenerated):
    new = json.loads((regenerated / "provenance.json").read_text())
    old = json.loads((COMMITTED / "provenance.json").read_text())
    assert new["inputs"] == old["inputs"], HINT

    def config(prov: dict) -> dict:
        return {k: v for k, v in prov["config"].items() if k not in PATH_KEYS}

    assert config(new) == config(old), HINT
    assert new["config"]["results_dir"] == str(regenerated)
