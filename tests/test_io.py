"""Contract-table loading: valid data load; each broken input names file, row, column and rule."""

from __future__ import annotations

import pytest
from helpers import copy_valid, edit_csv

from ketamine_meta.errors import InputError
from ketamine_meta.io import load_dataset


def test_valid_dataset_loads_with_types(tmp_path):
    ds = load_dataset(copy_valid(tmp_path / "d"))
    assert len(ds["studies"]) == 4
    assert ds["outcomes_binary"]["events"].sum() == 72
    assert ds["studies"]["randomized"].tolist() == [True, True, True, False]
    assert ds["outcomes_continuous"]["sd"].dtype == float


# (file, old text, new text, expected row, expected column, words of the rule)
BROKEN = [
    ("studies.csv", ",iv,single,saline", ",iv_drip,single,saline", 2, "route", "unknown value 'iv_drip'"),
    ("studies.csv", "parallel,true,double-blind,trd", "paralel,true,double-blind,trd", 2, "design", "unknown value"),
    (
        "outcomes_binary.csv",
        "response,24,first_dose,,>=50% MADRS reduction,madrs,15,30",
        "response,24,first_dose,,>=50% MADRS reduction,madrs,35,30",
        2,
        "events",
        "exceed total",
    ),
    (
        "arms.csv",
        "0.5,,30,https://example.org/alpha",
        "0.5,,0,https://example.org/alpha",
        2,
        "n_randomized",
        "must be >= 1",
    ),
    ("outcomes_continuous.csv", "18.0,8.0,,30", "18.0,-8.0,,30", 2, "sd", "must be > 0"),
    ("outcomes_continuous.csv", "alpha2001,ket_0.5,24,", "alpha2001,ket_0.5,-24,", 2, "time_h", "must be >= 0"),
    ("outcomes_continuous.csv", "alpha2001,ket_0.5,24,", "alpha2001,ket_0.5,one day,", 2, "time_h", "is not a number"),
    ("outcomes_continuous.csv", "18.0,8.0,,30", "nan,8.0,,30", 2, "mean", "not a finite number"),
    ("outcomes_continuous.csv", "18.0,8.0,,30", "inf,8.0,,30", 2, "mean", "not a finite number"),
    ("outcomes_binary.csv", "alpha2001,sal,response", "alpha2001,ket_0.5,response", 3, "study_id", "duplicate key"),
    (
        "outcomes_binary.csv",
        "alpha2001,sal,response",
        "alpha2001,plc,response",
        3,
        "arm_id",
        "arm 'plc' of study 'alpha2001' is not in arms.csv",
    ),
    ("arms.csv", "beta2002,mdz,control", "betta2002,mdz,control", 6, "study_id", "not in studies.csv"),
    (
        "arms.csv",
        "Table 1,n=30,reported\nalpha2001,sal",
        ",n=30,reported\nalpha2001,sal",
        2,
        "locator",
        "is empty but required",
    ),
    ("outcomes_binary.csv", "15/30,reported", "15/30,guessed", 2, "derivation", "unknown derivation code"),
    (
        "outcomes_binary.csv",
        "Table 4,15/30,reported",
        "Table 4,15/30,reported,extra",
        2,
        None,
        "fields but the header has",
    ),
    ("relapse.csv", "16,10,28", "16,20,28", 2, "n_relapsed", "exceeds n_responders"),
]


@pytest.mark.parametrize("fname,old,new,row,column,rule", BROKEN, ids=[f"{b[0]}:{b[4]}:{b[5][:20]}" for b in BROKEN])
def test_broken_cell_names_file_row_column_rule(tmp_path, fname, old, new, row, column, rule):
    d = copy_valid(tmp_path / "d")
    edit_csv(d / fname, old, new)
    with pytest.raises(InputError) as exc:
        load_dataset(d)
    hits = [p for p in exc.value.problems if rule in p.rule and p.file.endswith(fname)]
    assert hits, str(exc.value)
    assert hits[0].row == row
    assert hits[0].column == column
    msg = str(exc.value)
    assert fname in msg and f"row {row}" in msg


@pytest.mark.parametrize(
    "fname,mutate,rule",
    [
        ("studies.csv", lambda t: "\ufeff" + t, "byte-order mark"),
        ("arms.csv", lambda t: t.replace(",", ";"), "not comma-separated"),
        ("contrasts.csv", lambda t: "", "file is empty"),
        ("arms.csv", lambda t: t.replace("role,", "rolle,", 1), "required column is missing"),
    ],
    ids=["bom", "semicolons", "empty", "missing-column"],
)
def test_broken_file_is_named(tmp_path, fname, mutate, rule):
    d = copy_valid(tmp_path / "d")
    p = d / fname
    p.write_text(mutate(p.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_dataset(d)
    assert any(rule in pr.rule and pr.file.endswith(fname) for pr in exc.value.problems), str(exc.value)


def test_missing_table_is_reported(tmp_path):
    d = copy_valid(tmp_path / "d")
    (d / "relapse.csv").unlink()
    with pytest.raises(InputError, match=r"relapse.csv: file is missing"):
        load_dataset(d)


def test_all_problems_of_a_table_are_reported_together(tmp_path):
    d = copy_valid(tmp_path / "d")
    edit_csv(d / "outcomes_binary.csv", ",madrs,15,30", ",madrs,45,30")
    edit_csv(d / "outcomes_binary.csv", ",madrs,3,30", ",madrs,-3,30")
    edit_csv(d / "studies.csv", ",intranasal,single,placebo", ",nasal,single,placebo")
    with pytest.raises(InputError) as exc:
        load_dataset(d)
    rows = {(p.file.rsplit("/", 1)[-1], p.row, p.column) for p in exc.value.problems}
    assert {
        ("outcomes_binary.csv", 2, "events"),
        ("outcomes_binary.csv", 3, "events"),
        ("studies.csv", 4, "route"),
    } <= rows


def test_study_missing_from_screening_log(tmp_path):
    d = copy_valid(tmp_path / "d")
    edit_csv(d / "screening.csv", "delta2004,Delta 2004,iv,https://example.org/delta,included,test,\n", "")
    with pytest.raises(InputError, match="delta2004' is missing from screening.csv"):
        load_dataset(d)
