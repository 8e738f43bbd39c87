"""PRISMA flow: the counts add up, the logged search is counted, inconsistent screening is refused."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import copy_valid, make_settings

from ketamine_meta.data.load import load_dataset
from ketamine_meta.evidence.comparisons import build_effect_sizes
from ketamine_meta.evidence.prisma import prisma_counts


def _write_search(d):
    (d / "search").mkdir()
    pd.DataFrame({"helper": ["a", "a", "b"], "query_id": ["a-001", "a-002", "b-001"]}).to_csv(
        d / "search" / "queries.csv", index=False
    )
    pd.DataFrame(
        {"helper": ["a", "a", "a", "b"], "query_id": ["a-001", "a-001", "a-002", "b-001"], "rank": [1, 2, 1, 1],
         "url": ["u1", "u2", "u1", "u3"], "candidates": ["alpha2001", "", "alpha2001", "beta2002"]}
    ).to_csv(d / "search" / "hits.csv", index=False)  # fmt: skip


def test_counts_add_up_and_count_unique_pages(tmp_path):
    d = copy_valid(tmp_path / "d")
    _write_search(d)
    ds = load_dataset(d)
    es = build_effect_sizes(ds, make_settings())[0]
    n = prisma_counts(d, ds.tables, es).set_index("stage")["n"]
    assert n["queries run"] == 3 and n["records returned (unique pages)"] == 3
    screened = len(ds["screening"])
    assert n["candidate studies screened"] == screened == n["included"] + n["excluded"]
    assert n["included"] == len(ds["studies"])
    excluded_groups = n[[s for s in n.index if s.startswith("excluded: ")]].sum()
    assert excluded_groups == n["excluded"]
    designs = n[[s for s in n.index if s.startswith("included: ") and "relapse" not in s]].sum()
    assert designs == n["included"]
    assert n["in at least one primary pooled analysis"] == es.loc[es["primary"], "study_id"].nunique()


def test_screening_that_disagrees_with_studies_is_refused(tmp_path):
    d = copy_valid(tmp_path / "d")
    ds = load_dataset(d)
    tables = dict(ds.tables)
    tables["studies"] = tables["studies"].iloc[1:]
    with pytest.raises(ValueError, match="do not add up"):
        prisma_counts(d, tables, build_effect_sizes(ds, make_settings())[0])
