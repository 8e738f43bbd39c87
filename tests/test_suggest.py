"""Did-you-mean suggestions: case, separators, dropped words and small typos, never far guesses."""

from __future__ import annotations

import pytest

from ketamine_meta.core.suggest import closest, edit_distance

COLUMNS = ["study_id", "arm_id", "sd", "se", "n", "mean", "ci_low", "ci_high", "dose_mg", "dose_mg_per_kg",
           "n_responders", "proportion_relapsed", "time_h", "time_anchor"]  # fmt: skip


@pytest.mark.parametrize(
    "typed,meant",
    [
        ("SE", "se"),
        ("Study_ID", "study_id"),
        ("ci low", "ci_low"),
        ("ci-high", "ci_high"),
        ("Time.H", "time_h"),
        ("dose_mg_kg", "dose_mg_per_kg"),
        ("n_respondents", "n_responders"),
        ("proportion_relapse", "proportion_relapsed"),
        ("time_ancor", "time_anchor"),
        ("maen", "mean"),  # two neighbours swapped: one step
        ("sdd", "sd"),
    ],
)
def test_near_names_are_suggested(typed, meant):
    assert closest(typed, COLUMNS) == meant


@pytest.mark.parametrize("typed", ["comment", "estimate", "xyz", "", "weight"])
def test_far_names_get_no_guess(typed):
    assert closest(typed, COLUMNS) is None


@pytest.mark.parametrize("a,b,d", [("", "abc", 3), ("kitten", "sitting", 3), ("abcd", "abdc", 1), ("se", "se", 0)])
def test_edit_distance(a, b, d):
    assert edit_distance(a, b) == d
