"""`sim validate FILE…`: check policy and scenario files before anything runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.output import console
from sim.errors import InputError
from sim.scenario.load import load_any


def validate(files: Annotated[list[Path], typer.Argument(help="Policy or scenario YAML files.")]) -> None:
    """Validate policy and scenario files; exit 0 only when every one is valid.

    Example: sim validate policies/*.yaml scenarios/binjiang.yaml
    """
    out = console()
    problems = []
    for path in files:
        try:
            kind, obj = load_any(path)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        out.print(f"ok  {path}  ({kind} {obj.id if hasattr(obj, 'id') else obj.name})", markup=False)
    if problems:
        raise InputError(problems)
