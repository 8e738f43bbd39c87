"""Contract-table loading: valid data load; each broken input names file, row, column and rule."""

from __future__ import annotations

import csv
import io

import pytest
from helpers import copy_valid, edit_csv, make_config

from ketamine_meta.claims.registry import load_claims
from ketamine_meta.core.config import validate_config
from ketamine_meta.core.errors import ConfigError, InputError
from ketamine_meta.data.load import load_dataset


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
        ("arms.csv", lambda t: t.replace(",", ";"), "cells are separated by ';' (semicolons), not by commas"),
        ("contrasts.csv", lambda t: "", "file is empty"),
        ("arms.csv", lambda t: t.replace("role,", "rolle,", 1), "required column is missing"),
    ],
    ids=["semicolons", "empty", "missing-column"],
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


# --- every kind of bad input, by table: file, spreadsheet row, column and rule --------------------
# (file, old text, new text, expected row, expected column, words of the rule). The first data row is
# spreadsheet row 2. Cases above are not repeated here.
BROKEN_MORE = [
    # a value that is not one of the column's allowed values
    ("outcomes_binary.csv", "ket_0.5,response,24", "ket_0.5,responder,24", 2, "outcome", "unknown value 'responder'"),
    ("outcomes_continuous.csv", "madrs,endpoint,18.0", "madrs,final,18.0", 2, "measure", "unknown value 'final'"),
    ("outcomes_continuous.csv", "ket_0.5,24,first_dose", "ket_0.5,24,dose1", 2, "time_anchor", "unknown value"),
    ("contrasts.csv", "pbo,depression,24,first_dose,md", "pbo,mood,24,first_dose,md", 2, "outcome", "unknown value"),
    ("contrasts.csv", "first_dose,md,6.0", "first_dose,wmd,6.0", 2, "effect", "unknown value 'wmd'"),
    ("arms.csv", "alpha2001,ket_0.5,ketamine", "alpha2001,ket_0.5,drug", 2, "role", "unknown value 'drug'"),
    ("studies.csv", "double-blind,trd,racemic,iv", "double-blind,depressed,racemic,iv", 2, "population", "unknown"),
    ("studies.csv", "trd,racemic,iv", "trd,ketalar,iv", 2, "drug", "unknown value 'ketalar'"),
    ("studies.csv", ",iv,single,saline", ",iv,once,saline", 2, "dosing", "unknown value 'once'"),
    ("studies.csv", "single,saline,60", "single,water,60", 2, "control", "unknown value 'water'"),
    ("studies.csv", "parallel,true,double-blind,trd", "parallel,maybe,double-blind,trd", 2, "randomized", "true/false"),
    ("contrasts.csv", "d=0.3,reported", "d=0.3,estimated", 3, "derivation", "unknown derivation code"),
    ("studies.csv", "alpha2001,Alpha 2001", "Alpha2001,Alpha 2001", 2, "study_id", "does not match"),
    ("outcomes_binary.csv", ",madrs,15,30", ",MADRS total,15,30", 2, "scale", "does not match"),
    # counts: events above total, negative events, zero or negative n
    ("outcomes_binary.csv", ",madrs,3,30", ",madrs,-3,30", 3, "events", "must be >= 0"),
    ("outcomes_binary.csv", ",madrs,15,30", ",madrs,0,0", 2, "total", "must be >= 1"),
    ("outcomes_continuous.csv", "18.0,8.0,,30", "18.0,8.0,,0", 2, "n", "must be >= 1"),
    ("outcomes_continuous.csv", "18.0,8.0,,30", "18.0,8.0,,-30", 2, "n", "must be >= 1"),
    ("contrasts.csv", "0.3,0.2,,,30,30", "0.3,0.2,,,-30,30", 3, "n_treatment", "must be >= 1"),
    ("relapse.csv", "none,16,10,28", "none,0,0,28", 2, "n_responders", "must be >= 1"),
    ("studies.csv", "single,saline,60,", "single,saline,0,", 2, "n_randomized", "must be >= 1"),
    # spreads: zero or negative SD/SE
    ("outcomes_continuous.csv", "18.0,8.0,,30", "18.0,0,,30", 2, "sd", "must be > 0"),
    ("outcomes_continuous.csv", "-10.0,,1.5,30", "-10.0,,-1.5,30", 6, "se", "must be > 0"),
    ("contrasts.csv", "md,6.0,2.5,", "md,6.0,0,", 2, "se", "must be > 0"),
    ("contrasts.csv", "0.3,0.2,,,30,30", "0.3,,0.5,0.1,30,30", 3, "ci_low", "is above ci_high"),
    # time: negative, not a number, missing where required
    ("outcomes_binary.csv", "ket_0.5,response,24,", "ket_0.5,response,-24,", 2, "time_h", "must be >= 0"),
    ("contrasts.csv", "depression,24,first_dose,md", "depression,24h,first_dose,md", 2, "time_h", "has a unit"),
    ("outcomes_continuous.csv", "ket_0.5,24,first_dose", "ket_0.5,,first_dose", 2, "time_h", "is empty but required"),
    ("outcomes_binary.csv", "ket_0.5,response,24,", "ket_0.5,response,,", 2, "time_h", "required here"),
    ("relapse.csv", "16,10,28,18", "16,10,0,18", 2, "followup_days", "must be > 0"),
    ("relapse.csv", "16,10,28,18", "16,10,28,-18", 2, "median_days_to_relapse", "must be >= 0"),
    # numbers that are not plain numbers (never guessed: '1_5' is not 15, a full-width digit is not 5)
    ("outcomes_binary.csv", ",madrs,15,30", ",madrs,fifteen,30", 2, "events", "is not a number"),
    ("outcomes_binary.csv", ",madrs,15,30", ",madrs,15.5,30", 2, "events", "is not a whole number"),
    ("outcomes_binary.csv", ",madrs,15,30", ",madrs,1_5,30", 2, "events", "is not a number"),
    ("outcomes_binary.csv", ",madrs,15,30", ",madrs,\uff115,30", 2, "events", "is not a number"),
    ("outcomes_binary.csv", ",madrs,15,30", ",madrs,15,1e20", 2, "total", "too large for a count"),
    ("outcomes_continuous.csv", "18.0,8.0,,30", "18.0 (8.0),8.0,,30", 2, "mean", "is not a number"),
    ("outcomes_continuous.csv", "18.0,8.0,,30", '"18,0",8.0,,30', 2, "mean", "has a decimal comma"),
    ("contrasts.csv", "smd,0.3,0.2", "smd,n/a,0.2", 3, "estimate", "is not a number"),
    ("studies.csv", "Alpha 2001,2001,", "Alpha 2001,MMI,", 2, "year", "is not a number"),
    # NaN and infinities, however they are spelled
    ("outcomes_binary.csv", ",madrs,15,30", ",madrs,NaN,30", 2, "events", "not a finite number"),
    ("outcomes_continuous.csv", "18.0,8.0,,30", "18.0,-inf,,30", 2, "sd", "not a finite number"),
    ("outcomes_continuous.csv", "18.0,8.0,,30", "1e400,8.0,,30", 2, "mean", "not a finite number"),
    ("reference_values.csv", "test,0.3,0.25", "test,Infinity,0.25", 2, "value", "not a finite number"),
    # duplicate keys (reported at the second row, naming the first)
    ("studies.csv", "beta2002,Beta 2002", "alpha2001,Beta 2002", 3, "study_id", "duplicate key"),
    ("arms.csv", "beta2002,ket_1.0,ketamine", "beta2002,ket_0.5,ketamine", 5, "study_id", "duplicate key"),
    ("outcomes_continuous.csv", "alpha2001,sal,24,", "alpha2001,ket_0.5,24,", 3, "study_id", "duplicate key"),
    (
        "reference_values.csv",
        "\n",
        "\nantidepressant_smd_test,0.2,,,smd,x,https://e.org,T1,0.2,reported\n",
        3,
        "quantity",
        "duplicate key",
    ),  # fmt: skip
    # an arm or study used but not defined
    ("outcomes_continuous.csv", "alpha2001,ket_0.5,24", "alpha2001,ket_1.0,24", 2, "arm_id", "not in arms.csv"),
    ("contrasts.csv", "esk_84,pbo,depression", "esk_84,placebo,depression", 2, "control_arm", "not in arms.csv"),
    ("contrasts.csv", "alpha2001,ket_0.5,sal", "alpha2001,ket_5,sal", 3, "treatment_arm", "not in arms.csv"),
    ("relapse.csv", "delta2004,none", "delta2005,none", 2, "study_id", "'delta2005' is not in studies.csv"),
    ("outcomes_binary.csv", "gamma2003,esk_84,response", "gamma2030,esk_84,response", 7, "study_id", "not in studies"),
    # a row without its provenance
    ("outcomes_continuous.csv", ",https://example.org/alpha,Table 2,18.0", ",,Table 2,18.0", 2, "source_url", "empty"),
    ("outcomes_binary.csv", "Table 4,15/30,reported", "Table 4,,reported", 2, "evidence", "is empty but required"),
    ("contrasts.csv", "d=0.3,reported", "d=0.3,", 3, "derivation", "is empty but required"),
    ("studies.csv", ",https://example.org/alpha,test data", ",,test data", 2, "source_url", "is empty but required"),
    ("relapse.csv", "/delta,Abstract,10 of 16", "/delta,,10 of 16", 2, "locator", "is empty but required"),
    # ragged rows: too few fields, an unclosed quote swallowing the rest of the row
    (
        "arms.csv",
        "Table 1,n=30,reported\nalpha2001,sal",
        "Table 1,n=30\nalpha2001,sal",
        2,
        None,
        "fields but the header",
    ),
    ("outcomes_binary.csv", "alpha2001,sal,response", '"alpha2001,sal,response', 3, None, "fields but the header"),
    # rows that cannot be used for what they claim
    ("outcomes_continuous.csv", "-10.0,,1.5,30", "-10.0,,1.5,", 6, "n", "se is given without n"),
    ("relapse.csv", "16,10,28,18,,,MADRS back above 50% of baseline,", "16,10,,18,,,,", 2, "followup_days", "without"),
]


def _one_problem(exc: InputError, fname: str, row, column, rule: str):
    hits = [p for p in exc.problems if rule in p.rule and p.file.endswith(fname)]
    assert hits, str(exc)
    assert (hits[0].row, hits[0].column) == (row, column), str(exc)
    msg = str(exc)
    assert fname in msg and rule in msg
    if row is not None:
        assert f"{fname}, row {row}" in msg
    if column is not None:
        assert f"column '{column}'" in msg
    return hits[0]


@pytest.mark.parametrize(
    "fname,old,new,row,column,rule", BROKEN_MORE, ids=[f"{b[0]}:{b[4]}:{b[5][:24]}" for b in BROKEN_MORE]
)
def test_every_broken_cell_names_file_row_column_rule(tmp_path, fname, old, new, row, column, rule):
    d = copy_valid(tmp_path / "d")
    edit_csv(d / fname, old, new)
    with pytest.raises(InputError) as exc:
        load_dataset(d)
    problem = _one_problem(exc.value, fname, row, column, rule)
    assert problem.hint, problem  # every problem says how to fix it


def _drop_column(path, name: str) -> None:
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    i = rows[0].index(name)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:i] + r[i + 1 :] for r in rows])
    path.write_text(out.getvalue(), encoding="utf-8")


@pytest.mark.parametrize(
    "fname,column",
    [
        ("studies.csv", "route"),
        ("outcomes_binary.csv", "events"),
        ("outcomes_continuous.csv", "sd"),
        ("contrasts.csv", "derivation"),  # a provenance column
        ("relapse.csv", "source_url"),
        ("screening.csv", "decision"),
        ("reference_values.csv", "value"),
    ],
)
def test_missing_column_names_header_row_and_column(tmp_path, fname, column):
    d = copy_valid(tmp_path / "d")
    _drop_column(d / fname, column)
    with pytest.raises(InputError) as exc:
        load_dataset(d)
    _one_problem(exc.value, fname, 1, column, "required column is missing")


@pytest.mark.parametrize("table", ["studies", "arms", "outcomes_binary", "outcomes_continuous", "contrasts", "relapse"])
def test_every_required_table_missing_is_reported(tmp_path, table):
    d = copy_valid(tmp_path / "d")
    (d / f"{table}.csv").unlink()
    with pytest.raises(InputError) as exc:
        load_dataset(d)
    _one_problem(exc.value, f"{table}.csv", None, None, "file is missing")


@pytest.mark.parametrize("table", ["screening", "reference_values"])
def test_optional_tables_may_be_absent(tmp_path, table):
    d = copy_valid(tmp_path / "d")
    (d / f"{table}.csv").unlink()
    assert table not in load_dataset(d).tables


# (file, how the whole file is broken, row, column, rule)
BROKEN_FILES = [
    ("arms.csv", lambda b: b.replace(b",", b"\t"), 1, None, "separated by tabs, not by commas"),
    ("arms.csv", lambda b: b.replace(b",", b"|"), 1, None, "separated by '|', not by commas"),
    ("studies.csv", lambda b: b.replace(b",", b";"), 1, None, "separated by ';' (semicolons), not by commas"),
    ("relapse.csv", lambda b: b"", None, None, "file is empty"),
    ("relapse.csv", lambda b: b" \r\n\n\t\n", None, None, "file is empty"),
    ("studies.csv", lambda b: b.split(b"\n")[0] + b"\n", None, None, "table has no data rows"),
    ("arms.csv", lambda b: b.replace(b"Table 1", b"T\xe4ble 1", 1), 2, None, "not valid UTF-8"),
    ("arms.csv", lambda b: b.replace(b"role,", b"role,role,", 1), 1, "role", "column appears twice"),
    ("arms.csv", lambda b: b.replace(b"derivation\n", b"derivation,_row\n", 1), 1, "_row", "reserved"),
]


@pytest.mark.parametrize(
    "fname,mutate,row,column,rule", BROKEN_FILES, ids=[f"{b[0]}:{b[4][:20]}" for b in BROKEN_FILES]
)
def test_broken_file_names_file_row_and_rule(tmp_path, fname, mutate, row, column, rule):
    d = copy_valid(tmp_path / "d")
    p = d / fname
    p.write_bytes(mutate(p.read_bytes()))
    with pytest.raises(InputError) as exc:
        load_dataset(d)
    _one_problem(exc.value, fname, row, column, rule)


def test_a_folder_in_place_of_a_table_is_a_problem_not_a_crash(tmp_path):
    d = copy_valid(tmp_path / "d")
    (d / "arms.csv").unlink()
    (d / "arms.csv").mkdir()
    with pytest.raises(InputError) as exc:
        load_dataset(d)
    _one_problem(exc.value, "arms.csv", None, None, "cannot be read")


def test_missing_data_folder_is_reported(tmp_path):
    with pytest.raises(InputError, match="data directory does not exist"):
        load_dataset(tmp_path / "nowhere")


def test_harmless_variations_still_load(tmp_path):
    """What Excel's "CSV UTF-8" writes (a byte-order mark, Windows line ends), blank lines and rows
    of empty cells, spaces around header names and cells, a free-text notes column, an unnamed
    empty column, TRUE/1.0: read, not refused, and every value lands in its column."""
    d = copy_valid(tmp_path / "d")
    p = d / "outcomes_binary.csv"
    text = p.read_text(encoding="utf-8").replace(",madrs,15,30,", ", madrs , 15.0 ,  30,", 1)
    text = text.replace("derivation\n", "derivation,notes,\n", 1).replace("reported\n", "reported,checked twice,\n")
    text = text.replace(",total,", ", total ,", 1).replace("\nalpha2001,sal", "\n,,,,,,,,,,,,,,,\n\nalpha2001,sal", 1)
    p.write_bytes(b"\xef\xbb\xbf" + (text + "\n\n").replace("\n", "\r\n").encode("utf-8"))
    edit_csv(d / "studies.csv", "parallel,true", "parallel,TRUE")
    ds = load_dataset(d)
    t = ds["outcomes_binary"]
    row = t.iloc[0]
    assert (row["study_id"], row["scale"], row["events"], row["total"]) == ("alpha2001", "madrs", 15, 30)
    assert t["_row"].tolist()[:2] == [2, 5]  # rows 3 and 4 were empty: the next keeps its spreadsheet number
    assert t["total"].sum() == 30 * 5 + 20 * 2 + 24
    assert t["notes"].tolist()[0] == "checked twice"
    assert ds["studies"]["randomized"].tolist()[0] is True


def test_one_message_lists_problems_of_several_tables_and_kinds(tmp_path):
    d = copy_valid(tmp_path / "d")
    edit_csv(d / "outcomes_continuous.csv", "18.0,8.0,,30", "18.0,-8.0,,0")
    edit_csv(d / "contrasts.csv", "d=0.3,reported", "d=0.3,")
    (d / "relapse.csv").write_text("")
    with pytest.raises(InputError) as exc:
        load_dataset(d)
    where = {(p.file.rsplit("/", 1)[-1], p.row, p.column) for p in exc.value.problems}
    assert {
        ("outcomes_continuous.csv", 2, "sd"),
        ("outcomes_continuous.csv", 2, "n"),
        ("contrasts.csv", 3, "derivation"),
        ("relapse.csv", None, None),
    } <= where


# --- the other two inputs a user edits: the claims registry and the configuration ---------------
# (unknown metric and rule: tests/test_claims.py; unknown config key and estimator: tests/test_config.py)

_CLAIM = (
    "{claim_id: a, document: d, section: s, quote: q, "
    "metric: rate.response.ketamine.all.h24, claimed: 0.5, rule: within"
)


@pytest.mark.parametrize(
    "entry,words",
    [
        (_CLAIM.replace("rate.response.ketamine", "rate.response.placebo") + "}", "field 'metric': unknown metric"),
        (_CLAIM.replace("within", "about") + "}", "field 'rule': unknown rule 'about'"),
        (_CLAIM + ", toleranse: 0.1}", "unknown field(s) ['toleranse']; 'toleranse': did you mean 'tolerance'?"),
        (_CLAIM.replace("within", "Within") + "}", "unknown rule 'Within' (did you mean 'within'?"),
        (_CLAIM.replace("quote: q, ", "") + "}", "missing field(s) ['quote']"),
        (_CLAIM.replace("claimed: 0.5", "claimed: [0.6, 0.4]") + "}", "field 'claimed': a range must be"),
        (_CLAIM.replace("claimed: 0.5", "claimed: half") + "}", "field 'claimed': 'half' is not a number"),
        (_CLAIM.replace("rule: within", "rule: arithmetic, expression: 'open(1)'") + "}", "field 'expression'"),
    ],
    ids=["metric", "rule", "unknown-field", "rule-case", "missing-field", "range", "claimed", "expression"],
)
def test_bad_claims_entry_names_claim_and_field(tmp_path, entry, words):
    p = tmp_path / "claims.yaml"
    p.write_text(f"claims:\n  - {entry}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_claims(p)
    msg = str(exc.value)
    assert f"{p}, claim #1 (a)" in msg and words in msg, msg


def test_duplicate_claim_id_is_refused(tmp_path):
    p = tmp_path / "claims.yaml"
    p.write_text(f"claims:\n  - {_CLAIM}}}\n  - {_CLAIM}}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"claim #2 \(a\), field 'claim_id': duplicate id"):
        load_claims(p)


@pytest.mark.parametrize(
    "key,value,words",
    [
        ("estimator", "REML", "at '(top level)': Additional properties are not allowed ('estimator' was unexpected)"),
        ("model.method", "reml", "at 'model.method': 'reml' is not one of"),
        ("model.method", "Reml", "(did you mean 'REML'?)"),
        ("modle", {"method": "REML"}, "('modle' was unexpected) ('modle': did you mean 'model'?)"),
        ("model.tset", "knha", "('tset' was unexpected) ('tset': did you mean 'test'?)"),
        ("model.method", "FE", "at 'model.method': 'FE' is not one of"),
        ("handling.crossover", "drop", "at 'handling.crossover'"),
    ],
)
def test_bad_config_names_the_key(key, value, words):
    cfg = make_config(results_dir="r")
    node = cfg
    *parents, last = key.split(".")
    for k in parents:
        node = node[k]
    node[last] = value
    with pytest.raises(ConfigError) as exc:
        validate_config(cfg)
    assert words in str(exc.value), str(exc.value)


def test_blank_first_line_is_named_as_such(tmp_path):
    d = copy_valid(tmp_path / "d")
    p = d / "arms.csv"
    p.write_text("\n" + p.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_dataset(d)
    problems = [pr for pr in exc.value.problems if pr.file.endswith("arms.csv")]
    assert [(pr.row, pr.rule) for pr in problems] == [(1, "first line is blank")]


def test_absurd_sd_is_refused_before_it_overflows_the_smd(tmp_path):
    d = copy_valid(tmp_path / "d")
    edit_csv(d / "outcomes_continuous.csv", "18.0,8.0,,30", "18.0,1e200,,30")
    with pytest.raises(InputError) as exc:
        load_dataset(d)
    (pr,) = [p for p in exc.value.problems if p.column == "sd"]
    assert (pr.row, pr.rule) == (2, "value 1e200 must be <= 1e+12")
