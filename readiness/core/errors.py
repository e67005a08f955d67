"""Exception types: one per kind of failure, each printable as one line.

The CLI catches these once and prints ``str(error)``; nothing below the CLI prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["MAX_PROBLEMS", "InputError", "Problem", "ReadinessError", "ReportError", "StoreError"]

#: How many problems one validation pass collects before it stops looking.
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in an input file.

    ``row`` counts as a spreadsheet does: the header is row 1, the first data row is
    row 2. For JSON it is the record number (1-based). ``column`` is the column name;
    ``key`` is the path to a key in a YAML document (``dimensions[0].facets[1].weight``).
    """

    source: str
    message: str
    row: int | None = None
    column: str | None = None
    severity: str = "error"
    key: str | None = None  # path to a key in a YAML/JSON document

    def __str__(self) -> str:
        where = [self.source]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            # a name holding a line break or other control character is shown escaped
            where.append(f"column {self.column}" if self.column.isprintable() else f"column {self.column!r}")
        if self.key is not None:
            where.append(f"at {self.key}")
        text = ", ".join(where) + ": " + self.message
        # one line, whatever the message held; spaces inside a quoted value stay as written
        return " ".join(part.strip() for part in text.splitlines())


class ReadinessError(Exception):
    """Base class for errors the CLI reports without a traceback."""

    exit_code = 1


class InputError(ReadinessError):
    """A file (or a value in it) the framework cannot use: exit status 2.

    Carries every problem found; ``str()`` is a single line naming the first one and
    how many more there are.
    """

    exit_code = 2

    def __init__(
        self,
        message: str | None = None,
        *,
        source: str = "<input>",
        row: int | None = None,
        column: str | None = None,
        key: str | None = None,
        problems: Sequence[Problem] | None = None,
    ) -> None:
        if problems:
            self.problems: tuple[Problem, ...] = tuple(problems)
        else:
            self.problems = (Problem(source, message or "invalid input", row, column, key=key),)
        super().__init__(self.one_line())

    def one_line(self) -> str:
        first = str(self.problems[0])
        extra = len(self.problems) - 1
        if extra:
            first += f" (and {extra} more problem{'s' if extra > 1 else ''})"
        return first

    @classmethod
    def from_problems(cls, problems: Iterable[Problem]) -> InputError:
        return cls(problems=[p for p in problems if p.severity == "error"])


class StoreError(ReadinessError):
    """The peer or session database cannot be used (locked, corrupt, wrong schema)."""

    exit_code = 2


class ReportError(ReadinessError):
    """The report could not be produced (the notebook failed, or a renderer is missing)."""

    exit_code = 1
