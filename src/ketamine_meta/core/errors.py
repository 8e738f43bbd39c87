"""The project's own error types.

Every problem with user input is reported as a :class:`Problem` naming the file, the row as a
spreadsheet numbers it (the header is row 1, so the first data row is row 2), the column and the
rule broken, plus a hint on how to fix it. A :class:`InputError` carries all problems found in one
pass, so a user fixes a whole table per run instead of one cell per run.
"""

from __future__ import annotations

from dataclasses import dataclass

#: How many problems one error message lists before it summarises the rest.
MAX_PROBLEMS_SHOWN = 50


class KetamineMetaError(Exception):
    """Base class of every error this package raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One broken rule in one place of one input file."""

    file: str
    row: int | None  # 1-based spreadsheet row (header = 1); None for whole-file problems
    column: str | None
    rule: str
    hint: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        text = f"{where}: {self.rule}"
        if self.hint:
            text += f" (fix: {self.hint})"
        return text


class InputError(KetamineMetaError):
    """Bad input: one or more :class:`Problem` s, all reported together.

    The message starts with the count, then lists the problems sorted by file and row (whole-file
    problems first, then the header, then the rows in spreadsheet order); beyond
    :data:`MAX_PROBLEMS_SHOWN` the rest are summarised per file and column, so none is left unsaid.
    """

    def __init__(self, problems: list[Problem]):
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems = sorted(problems, key=lambda p: (p.file, -1 if p.row is None else p.row))
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        files = len({p.file for p in self.problems})
        lines = [f"{len(self.problems)} problem(s) in {files} input file(s):"]
        lines += [f"  - {p}" for p in shown]
        rest = self.problems[len(shown) :]
        if rest:
            lines.append(f"  ... and {len(rest)} more:")
            groups: dict[tuple[str, str | None], list[Problem]] = {}
            for p in rest:
                groups.setdefault((p.file, p.column), []).append(p)
            for (file, column), ps in groups.items():
                rows = sorted({p.row for p in ps if p.row is not None})
                where = f"column '{column}'" if column else "whole rows"
                span = f", rows {rows[0]}-{rows[-1]}" if rows else ""
                lines.append(f"    {file}, {where}{span}: {len(ps)} problem(s), e.g. {ps[0].rule}")
        super().__init__("\n".join(lines))


class ConfigError(KetamineMetaError):
    """A configuration or claims-registry entry that is not allowed."""


#: The phrase that marks a step's failure as one the validate step reports in full (the workflow's
#: failure summary then names only validate; see workflow/rules/common.smk).
REPORTED_BY_VALIDATE = "the validate step reports them all"


class CheckedElsewhereError(KetamineMetaError):
    """Bad input met by a step that runs alongside the validate step (the multiverse starts with it,
    not after it, to use both cores): the same loaders fail the same way there, so this step says
    only how many problems there are and the first one, and leaves the full list to validate, once.
    Run on its own, the message still names a file, row, column and rule."""

    def __init__(self, err: KetamineMetaError):
        if isinstance(err, InputError):
            head = f"{len(err.problems)} problem(s) in the input data, the first: {err.problems[0]}"
        else:
            head = str(err).splitlines()[0] if str(err) else type(err).__name__
        super().__init__(f"{head}; {REPORTED_BY_VALIDATE} (workflow/scripts/validate.py, or its log)")
