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
    """Bad input: one or more :class:`Problem` s, all reported together."""

    def __init__(self, problems: list[Problem]):
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems = list(problems)
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        lines = [f"{len(self.problems)} problem(s) in the input:"]
        lines += [f"  - {p}" for p in shown]
        if len(self.problems) > len(shown):
            lines.append(f"  ... and {len(self.problems) - len(shown)} more")
        super().__init__("\n".join(lines))


class ConfigError(KetamineMetaError):
    """A configuration or claims-registry entry that is not allowed."""
