"""One error hierarchy for everything a user can get wrong.

The command line turns a :class:`SimError` into one clear message and a non-zero exit
(2; 130 for :class:`RunInterrupted`); anything else is a bug and keeps its traceback.

- :class:`InputError` (:class:`PolicyError`, :class:`ScenarioError`): a file; carries
  every problem found, each with the file, the line and the dotted field it concerns, so
  a user fixes a file in one pass instead of one error at a time.
- :class:`OptionError`: a command-line option (or its keyword in the Python API), named
  after the option.
- :class:`OutputError` (:class:`FolderBusy`): an output folder that is missing,
  incomplete, damaged, busy or cannot be written.
- :class:`ExecutorError`: a cluster that cannot be reached or gave up on a batch.
- :class:`RunInterrupted`: Ctrl-C during a run, with what was kept and how to finish.
- :class:`MoneyError`: an amount that is not one.
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
    """An output folder that is missing, incomplete, damaged, busy or cannot be written."""


class FolderBusy(OutputError):
    """Another process is writing the output folder; names that process."""


class RunInterrupted(SimError):
    """A run stopped by Ctrl-C: what it kept and the command that finishes it."""


class ExecutorError(SimError):
    """The cluster cannot be reached or gave up on a batch."""


class OptionError(SimError):
    """A command-line option (or its keyword in the Python API) with a value it cannot take.

    Named after the option, never blamed on the scenario: ``--runs 0`` is the option's
    fault even though the scenario's ``monte_carlo.runs`` holds the same setting.
    """

    def __init__(self, option: str, value: object, message: str):
        self.option = option if option.startswith("-") else "--" + option.replace("_", "-")
        self.value = value
        shown = "" if value is None else " ''" if value == "" else f" {value}"
        super().__init__(f"{self.option}{shown}: {message}")


class EngineError(SimError):
    """A scenario no engine can run as asked: a rationing rule without a row in the engines' table."""
