"""config/README.md lists every column the loader accepts, in the right place."""

from __future__ import annotations

import re

import pytest
from helpers import ROOT

from ketamine_meta.data.contract import TABLES

README = (ROOT / "config" / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(TABLES))
def test_readme_lists_the_columns_of_each_table(name):
    spec = TABLES[name]
    (line,) = [ln for ln in README.splitlines() if ln.startswith(f"| `{spec.filename}`")]
    cells = [set(re.findall(r"`([a-z0-9_]+)`", c)) for c in line.split("|")[2:5]]
    required, optional, free = cells
    assert required == {c.name for c in spec.columns if c.required}
    assert optional == {c.name for c in spec.columns if not c.required}
    assert free == {c.name for c in spec.columns if c.kind == "str"}
    assert "notes" in required | optional
