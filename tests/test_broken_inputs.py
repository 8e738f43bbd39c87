"""Realistic broken extractions, one table: each names the file, spreadsheet row, column and rule
(and, where one exists, the fix) that the one validation message must contain.

The same cases feed the workflow-level test (tests/test_bad_input_pipeline.py), which applies every
case marked ``together`` to one copy of the test data and runs the workflow once on it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import copy_valid

from ketamine_meta.core.errors import InputError
from ketamine_meta.data.load import load_dataset


@dataclass(frozen=True)
class Expect:
    """One problem the message must hold: where (file, row, column) and words of its rule and fix."""

    file: str
    row: int | None
    column: str | None
    rule: str
    fix: str = ""

    @property
    def where(self) -> str:
        """The place as :class:`~ketamine_meta.core.errors.Problem` prints it (after the folder)."""
        out = self.file
        if self.row is not None:
            out += f", row {self.row}"
        if self.column is not None:
            out += f", column '{self.column}'"
        return out + ": "


@dataclass(frozen=True)
class Case:
    id: str
    breaks: Callable[[Path], None]
    expect: tuple[Expect, ...]
    together: bool = True  # also part of the one multi-error workflow run


def edit(fname: str, old: str, new: str, count: int = 1) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        p = d / fname
        text = p.read_text(encoding="utf-8")
        assert old in text, f"test setup: {old!r} not in {fname}"
        p.write_text(text.replace(old, new, count), encoding="utf-8")

    return apply


def header(fname: str, old: str, new: str) -> Callable[[Path], None]:
    """Rename one header cell."""

    def apply(d: Path) -> None:
        p = d / fname
        first, rest = p.read_text(encoding="utf-8").split("\n", 1)
        cells = first.split(",")
        assert old in cells, f"test setup: no column {old!r} in {fname}"
        cells[cells.index(old)] = new
        p.write_text(",".join(cells) + "\n" + rest, encoding="utf-8")

    return apply


def add_column(fname: str, name: str, values: dict[int, str]) -> Callable[[Path], None]:
    """Append a column; ``values`` by spreadsheet row, other rows empty."""

    def apply(d: Path) -> None:
        p = d / fname
        rows = list(csv.reader(io.StringIO(p.read_text(encoding="utf-8"))))
        rows = [r + [name if i == 1 else values.get(i, "")] for i, r in enumerate(rows, start=1)]
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        p.write_text(out.getvalue(), encoding="utf-8")

    return apply


def insert_line(fname: str, after_row: int, line: str = "") -> Callable[[Path], None]:
    """Insert a line of text after spreadsheet row ``after_row``."""

    def apply(d: Path) -> None:
        p = d / fname
        lines = p.read_text(encoding="utf-8").split("\n")
        p.write_text("\n".join(lines[:after_row] + [line] + lines[after_row:]), encoding="utf-8")

    return apply


def raw(fname: str, change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        p = d / fname
        p.write_bytes(change(p.read_bytes()))

    return apply


def both(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        for s in steps:
            s(d)

    return apply


def _european(b: bytes) -> bytes:
    """What Excel writes as "CSV" where ',' is the decimal symbol: ';' between cells, '18,0' numbers."""
    rows = list(csv.reader(io.StringIO(b.decode("utf-8"))))
    rows = [[c.replace(".", ",") if c.replace(".", "", 1).lstrip("-").isdigit() else c for c in r] for r in rows]
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


OC, OB, CT, AR, ST, RL = (
    "outcomes_continuous.csv",
    "outcomes_binary.csv",
    "contrasts.csv",
    "arms.csv",
    "studies.csv",
    "relapse.csv",
)

CASES = [
    # --- the header: every column is one the contract declares -------------------------------------
    Case(
        "header-case-optional-column",  # the issue: 'SE' was ignored, its rows silently dropped out
        header(OC, "se", "SE"),
        (Expect(OC, 1, "SE", "unknown column 'SE'", "did you mean 'se'?"),),
    ),
    Case(
        "header-case-required-column",
        header(ST, "route", "Route"),
        (
            Expect(ST, 1, "Route", "unknown column 'Route'", "did you mean 'route'?"),
            Expect(ST, 1, "route", "required column is missing", "rename the header's 'Route' to 'route'"),
        ),
        together=False,  # studies.csv without route: kept apart so the other cases' studies cells stay read
    ),
    Case(
        "header-space-for-underscore",
        header(CT, "ci_low", "ci low"),
        (
            Expect(CT, 1, "ci low", "unknown column 'ci low'", "did you mean 'ci_low'?"),
            Expect(CT, 1, "ci_low", "required column is missing", "rename the header's 'ci low'"),
        ),
        together=False,
    ),
    Case(
        "header-stray-spaces-still-name-the-column",
        both(header(OC, "sd", "  sd "), edit(OC, "26.0,9.0,,30", "26.0,-9.0,,30")),
        (Expect(OC, 3, "sd", "value -9.0 must be > 0"),),
    ),
    Case(
        "header-duplicated",
        header(AR, "dose_mg", "dose"),
        (
            Expect(AR, 1, "dose", "column appears twice", "delete one of them"),
            Expect(AR, 1, "dose_mg", "required column is missing"),
        ),
        together=False,  # the dose_mg cells of other cases would not be read
    ),
    Case(
        "events-above-total",
        edit(OB, "hamd17,12,30", "hamd17,40,30"),
        (Expect(OB, 4, "events", "events (40) exceed total (30)", "events <= total"),),
    ),
    Case(
        "header-duplicated-after-trailing-space",
        header(OB, "window", "definition "),
        (Expect(OB, 1, "definition", "column appears twice"),),
        together=False,
    ),
    Case(
        "header-unknown-column",
        add_column(OB, "comment", {2: "checked"}),
        (Expect(OB, 1, "comment", "unknown column 'comment'", "put free text in 'notes'"),),
    ),
    Case(
        "header-misspelled-required-column",
        header(RL, "n_responders", "n_respondents"),
        (
            Expect(RL, 1, "n_respondents", "unknown column 'n_respondents'", "did you mean 'n_responders'?"),
            Expect(RL, 1, "n_responders", "required column is missing"),
        ),
    ),
    Case(
        "header-misspelled-optional-column",  # an optional column was the silent kind of loss
        add_column(RL, "proportion_relapse", {2: "0.625"}),
        (Expect(RL, 1, "proportion_relapse", "unknown column", "did you mean 'proportion_relapsed'?"),),
    ),
    Case(
        "header-shortened-column",
        header(AR, "dose_mg_per_kg", "dose_mg_kg"),
        (Expect(AR, 1, "dose_mg_kg", "unknown column", "did you mean 'dose_mg_per_kg'?"),),
        together=False,
    ),
    Case(
        "header-unnamed-column-with-values",
        add_column("adverse_events.csv", "", {3: "see text"}),
        (Expect("adverse_events.csv", 1, None, "column 19 has no name in the header but holds values (rows 3)"),),
    ),
    # --- rows and cells ------------------------------------------------------------------------------
    Case(
        "empty-line-mid-file-keeps-row-numbers",
        both(insert_line("adverse_events.csv", 3), edit("adverse_events.csv", "12.5,6.1", "12.5 mmHg,6.1")),
        (Expect("adverse_events.csv", 5, "mean", "'12.5 mmHg' has a unit", "write 12.5 alone"),),
    ),
    Case(
        "number-with-unit-mg",
        edit(AR, "84 mg,,84,20", "84 mg,,84 mg,20"),
        (Expect(AR, 7, "dose_mg", "'84 mg' has a unit", "write 84 alone"),),
    ),
    Case(
        "per-kg-dose-in-fixed-dose-column",
        edit(AR, "1.0 mg/kg,1.0,,30", "1.0 mg/kg,,1.0 mg/kg,30"),
        (Expect(AR, 5, "dose_mg", "'1.0 mg/kg' is a per-kg dose", "put 1 in dose_mg_per_kg"),),
    ),
    Case(
        "time-point-24h",
        edit(OC, "alpha2001,ket_0.5,24,", "alpha2001,ket_0.5,24h,"),
        (Expect(OC, 2, "time_h", "'24h' has a unit", "write 24: time_h is in hours"),),
    ),
    Case(
        "time-point-in-days",
        edit(OC, "alpha2001,sal,168,", "alpha2001,sal,7 days,"),
        (Expect(OC, 7, "time_h", "'7 days' has a unit", "write 168: time_h is in hours"),),
    ),
    Case(
        "follow-up-in-weeks",
        edit(RL, "16,10,28,18", "16,10,4 weeks,18"),
        (Expect(RL, 2, "followup_days", "'4 weeks' has a unit", "write 28: followup_days is in days"),),
        together=False,  # relapse.csv is renamed-header in the multi-error run
    ),
    Case(
        "percentage-for-a-count",
        edit(OB, ",madrs,8,20", ",madrs,40%,20"),
        (Expect(OB, 7, "events", "'40%' is a percentage", "the count"),),
    ),
    Case(
        "decimal-comma-quoted",
        edit(
            OC,
            "beta2002,ket_1.0,24,first_dose,hamd17,endpoint,12.0",
            'beta2002,ket_1.0,24,first_dose,hamd17,endpoint,"12,0"',
        ),
        (Expect(OC, 9, "mean", "'12,0' has a decimal comma", "write 12.0"),),
    ),
    Case(
        "decimal-comma-unquoted-splits-the-row",
        edit(CT, "md,6.0,2.5,", "md,6,0,2.5,"),
        (Expect(CT, 2, None, "row has 19 fields but the header has 18", "decimal comma"),),
    ),
    Case(
        "thousands-separator",
        edit(ST, "single,midazolam,90,", 'single,midazolam,"1,090",'),
        (Expect(ST, 3, "n_randomized", "'1,090' has a comma in it", "write 1090"),),
    ),
    Case(
        "spreadsheet-error-value",
        edit(AR, "0.5 mg/kg x6,0.5,,24", "0.5 mg/kg x6,0.5,,#N/A"),
        (Expect(AR, 9, "n_randomized", "'#N/A' is a spreadsheet error value", "a formula failed"),),
    ),
    Case(
        "enum-value-capitalised",
        edit(AR, "beta2002,mdz,control", "beta2002,mdz,Control"),
        (Expect(AR, 6, "role", "unknown value 'Control'", "did you mean 'control'?"),),
    ),
    Case(
        "time-anchor-with-space",
        edit(OB, "delta2004,ket_0.5,response,336,first_dose", "delta2004,ket_0.5,response,336,first dose"),
        (Expect(OB, 9, "time_anchor", "unknown value 'first dose'", "did you mean 'first_dose'?"),),
    ),
    Case(
        "study-id-capitalised",
        edit(OC, "beta2002,mdz,24", "Beta2002,mdz,24"),
        (Expect(OC, 10, "study_id", "value 'Beta2002' does not match", "did you mean 'beta2002'?"),),
    ),
    Case(
        "derivation-typo",
        edit(OB, "16 of 24,reported", "16 of 24,reportd"),
        (Expect(OB, 9, "derivation", "unknown derivation code(s) ['reportd']", "did you mean 'reported'?"),),
        together=False,  # same row as time-anchor-with-space
    ),
    Case(
        "boolean-as-Y",
        edit(ST, "crossover,true", "crossover,Y"),
        (Expect(ST, 4, "randomized", "'Y' is not true/false", "write true or false"),),
    ),
    Case(
        "contrast-with-neither-se-nor-ci",
        edit(CT, "0.3,0.2,,,30,30", "0.3,,,,30,30"),
        (Expect(CT, 3, "se", "neither se nor both CI limits are given", "give se or ci_low and ci_high"),),
        together=False,  # contrasts.csv row 3 is swapped in the multi-error run
    ),
    Case(
        "relapse-count-above-responders",
        edit(RL, "16,10,28", "16,20,28"),
        (Expect(RL, 2, "n_relapsed", "n_relapsed (20) exceeds n_responders (16)"),),
        together=False,
    ),
    # --- references between tables, checked whatever else failed ------------------------------------
    Case(
        "arm-roles-swapped-in-a-contrast",
        edit(CT, "alpha2001,ket_0.5,sal,", "alpha2001,sal,ket_0.5,"),
        (
            Expect(CT, 3, "treatment_arm", "arm 'sal' has role 'control' in arms.csv", "flip the sign"),
            Expect(CT, 3, "control_arm", "arm 'ket_0.5' has role 'ketamine' in arms.csv"),
        ),
    ),
    Case(
        "no-ketamine-arm",
        edit(AR, "gamma2003,esk_84,ketamine", "gamma2003,esk_84,control"),
        (Expect(AR, 7, "role", "study 'gamma2003' has no arm with role 'ketamine' (rows 7, 8)"),),
        together=False,
    ),
    Case(
        "control-arm-in-a-single-arm-study",
        insert_line(AR, 9, "delta2004,sal,control,saline,,,24,https://example.org/delta,Abstract,24 patients,reported"),
        (Expect(AR, 10, "role", "study 'delta2004' is single_arm in studies.csv but this arm has role 'control'"),),
    ),
    Case(
        "arm-missing-from-arms-and-a-bad-cell-elsewhere",
        both(
            edit(OB, "alpha2001,sal,response", "alpha2001,plc,response"),
            edit(ST, ",iv,single,saline", ",iv_drip,single,saline"),
        ),
        (
            Expect(
                OB, 3, "arm_id", "arm 'plc' of study 'alpha2001' is not in arms.csv", "arms of alpha2001: ket_0.5, sal"
            ),
            Expect(ST, 2, "route", "unknown value 'iv_drip'"),
        ),
    ),
    Case(
        "arm-id-near-a-real-one",
        edit(OC, "alpha2001,ket_0.5,20,", "alpha2001,ket_05,20,"),
        (Expect(OC, 4, "arm_id", "arm 'ket_05' of study 'alpha2001' is not in arms.csv", "did you mean 'ket_0.5'?"),),
    ),
    Case(
        "study-id-typo-in-another-table",
        edit("risk_of_bias.csv", "beta2002,functional", "betta2002,functional"),
        (
            Expect(
                "risk_of_bias.csv", 4, "study_id", "study 'betta2002' is not in studies.csv", "did you mean 'beta2002'?"
            ),
        ),
        together=False,  # risk_of_bias.csv is UTF-16 in the multi-error run
    ),
    # --- the whole file ------------------------------------------------------------------------------
    Case(
        "bom-and-semicolons",  # the byte-order mark is read; the semicolons are what to fix
        raw("screening.csv", lambda b: b"\xef\xbb\xbf" + b.replace(b",", b";")),
        (Expect("screening.csv", 1, None, "cells are separated by ';' (semicolons), not by commas", "List separator"),),
    ),
    Case(
        "semicolons-and-decimal-commas",
        raw("reference_values.csv", _european),
        (
            Expect(
                "reference_values.csv",
                1,
                None,
                "numbers have decimal commas (e.g. '0,3' on row 2)",
                "Locale setting 'English (USA)'",
            ),
        ),
    ),
    Case(
        "tab-delimited",
        raw("screening.csv", lambda b: b.replace(b",", b"\t")),
        (Expect("screening.csv", 1, None, "cells are separated by tabs", "CSV UTF-8 (Comma delimited)"),),
        together=False,
    ),
    Case(
        "utf16-unicode-text",
        raw("risk_of_bias.csv", lambda b: b.decode("utf-8").encode("utf-16")),
        (Expect("risk_of_bias.csv", None, None, "file is UTF-16", "CSV UTF-8 (Comma delimited)"),),
    ),
    Case(
        "windows-1252-text",
        raw(RL, lambda b: b.replace(b"MADRS back above", b"MADRS r\xe9-above", 1)),
        (Expect(RL, 2, None, "not valid UTF-8 (on line(s) 2", "Character set 'Unicode (UTF-8)'"),),
    ),
    Case(
        "required-table-missing",
        lambda d: (d / OC).unlink(),
        (Expect(OC, None, None, "file is missing", "create outcomes_continuous.csv"),),
        together=False,
    ),
]


def problem_for(err: InputError, e: Expect):
    hits = [
        p
        for p in err.problems
        if p.file.endswith("/" + e.file) and (p.row, p.column) == (e.row, e.column) and e.rule in p.rule
    ]
    assert hits, f"{e} not among:\n{err}"
    assert e.fix in hits[0].hint, (e.fix, hits[0].hint)
    return hits[0]


def test_the_table_is_large_and_each_case_has_its_place():
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)
    assert sum(c.together for c in CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_input_names_file_row_column_rule_and_fix(tmp_path, case):
    d = copy_valid(tmp_path / "d")
    case.breaks(d)
    with pytest.raises(InputError) as exc:
        load_dataset(d)
    msg = str(exc.value)
    for e in case.expect:
        p = problem_for(exc.value, e)
        assert p.hint, p  # every problem says how to fix it
        line = next(line for line in msg.splitlines() if e.where in line and e.rule in line)
        assert f"(fix: {p.hint})" in line


def together_dataset(dst: Path) -> tuple[Path, list[Expect]]:
    """The test data with every ``together`` case applied at once, and what each must report."""
    d = copy_valid(dst)
    expected = []
    for case in CASES:
        if case.together:
            case.breaks(d)
            expected += case.expect
    return d, expected


def test_every_error_of_a_multi_error_extraction_is_in_the_one_message(tmp_path):
    d, expected = together_dataset(tmp_path / "d")
    with pytest.raises(InputError) as exc:
        load_dataset(d)
    msg = str(exc.value)
    for e in expected:
        problem_for(exc.value, e)
        assert any(e.where in line and e.rule in line for line in msg.splitlines()), (e, msg)
    n = len(exc.value.problems)
    files = {e.file for e in expected}
    assert msg.splitlines()[0] == f"{n} problem(s) in {len(files)} input file(s):"
    assert n >= len(expected) and "more:" not in msg  # every problem listed, none summarised away


def test_problems_are_sorted_by_file_then_row(tmp_path):
    d, _ = together_dataset(tmp_path / "d")
    with pytest.raises(InputError) as exc:
        load_dataset(d)
    keys = [(p.file, -1 if p.row is None else p.row) for p in exc.value.problems]
    assert keys == sorted(keys)
    assert [f"  - {p}" for p in exc.value.problems] == str(exc.value).splitlines()[1:]
