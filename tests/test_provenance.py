"""provenance.json does not depend on a dependency's patch release; the run summary."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from helpers import ROOT

from ketamine_meta.outputs import provenance
from ketamine_meta.pipeline import summary


@pytest.mark.parametrize(
    ("exact", "recorded"),
    [("3.11.2", "3.11"), ("2.3.0rc1", "2.3"), ("0.0.13", "0.0.13"), ("9.27.1", "9.27"), (None, None), ("6", "6")],
)
def test_major_minor(exact, recorded):
    assert provenance.major_minor(exact) == recorded


def test_patch_versions_leave_provenance_byte_identical(tmp_path, monkeypatch):
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    data = tmp_path / "x.csv"
    data.write_text("a\n1\n")
    texts = []
    for patch in ("1", "7"):
        monkeypatch.setattr(provenance, "exact_versions", lambda p=patch: {"python": f"3.11.{p}", "numpy": f"2.4.{p}"})
        monkeypatch.setattr(provenance, "git_state", lambda repo=".": {"source_commit": "abc", "source_dirty": False})
        texts.append(provenance.dumps(provenance.build({"data": [str(data)]}, cfg)))
    assert texts[0] == texts[1]
    assert json.loads(texts[0])["versions"] == {"python": "3.11", "numpy": "2.4"}


def test_run_summary_names_the_report_and_counts_verdicts(tmp_path):
    claims = pd.DataFrame({"verdict": ["reproduced", "not_testable", "reproduced", "contradicted"],
                           "central": [True, False, False, True]})  # fmt: skip
    claims.to_csv(tmp_path / "claims.csv", index=False)
    text = summary.run_summary(tmp_path)
    assert f"report: {tmp_path / 'report.html'}" in text
    assert "claims: 4 (2 reproduced, 1 contradicted, 1 not_testable)" in text
    assert "headline claims: 2 (1 reproduced, 1 contradicted)" in text
    assert ".work" not in text
