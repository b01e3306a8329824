"""A progress bar for long commands, on stderr so that the tables on stdout stay clean."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


@contextmanager
def stages(title: str, *, show: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """Yield ``update(stage, done, total)``: one bar per stage (e.g. base run, confirmation, variant).

    The bars appear at the first update, so a command refused before any run (a bad value,
    an occupied folder) prints its one error message and nothing else.  No bar is drawn
    when ``show`` is false (``--quiet``, ``--json``) or stderr is not a terminal (a log file
    would fill with redrawn bars).
    """
    if not show or not sys.stderr.isatty():
        yield lambda stage, done, total: None
        return
    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
                   TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True))
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        if not tasks:
            bar.start()
        if stage not in tasks:
            tasks[stage] = bar.add_task(f"{title} {stage}".strip(), total=total)
        bar.update(tasks[stage], completed=done, total=total)

    try:
        yield update
    finally:
        if tasks:
            bar.stop()
