"""One error hierarchy for everything a user can get wrong.

The command line turns a :class:`SimError` into one clear message and a non-zero exit;
anything else is a bug and keeps its traceback.  Input errors carry every problem found,
each with the file, the line and the dotted field it concerns, so a user fixes a file in
one pass instead of one error at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class SimError(Exception):
    """Base of every error `sim` reports to a user."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an input file, with where it is."""

    file: str
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class InputError(SimError):
    """A file or value that does not follow its schema; lists every problem found."""

    kind = "input"

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, file: str | Path, field: str, message: str, line: int | None = None) -> "InputError":
        return cls([Problem(str(file), field, message, line)])


class PolicyError(InputError):
    kind = "policy"


class ScenarioError(InputError):
    kind = "scenario"


class MoneyError(SimError, ValueError):
    """An amount that is not a non-negative whole number of yuan."""


class OutputError(SimError):
    """An output directory that is missing, incomplete or would be overwritten."""


class EngineError(SimError):
    """A scenario no engine can run as asked: a rationing rule without a row in the engines' table."""
