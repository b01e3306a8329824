"""Where the command line prints: text exactly as written, tables never cut, JSON for programs.

Rich would read ``[bold]`` in a program title as markup and ``:100:`` in a message about
line 100 as an emoji; neither may ever alter what sim prints, so every console here has
markup and emoji off and styles are given explicitly.  Output piped to a file or another
program has no width to fit: it is printed at the tables' natural width, so that no
number is ever cut to ``11,3…``; in a narrow terminal a table too wide to fit is printed
one block per row instead (:func:`sim.report.terminal.show`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from typing import Any

from rich.console import Console

PIPED_WIDTH = 10_000  # no terminal: tables take their natural width


def console(*, stderr: bool = False) -> Console:
    """A console for tables and messages: no markup, no emoji, no highlighting, full width when piped."""
    stream = sys.stderr if stderr else sys.stdout
    tty = hasattr(stream, "isatty") and stream.isatty()
    return Console(stderr=stderr, highlight=False, markup=False, emoji=False, width=None if tty else PIPED_WIDTH)


def print_json(data: Any) -> None:
    """``data`` as JSON on stdout: dates as ISO text, NaN as null, Chinese as is."""
    print(json.dumps(_plain(data), ensure_ascii=False, indent=2))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "to_dicts"):  # a polars DataFrame: one object per row
        return [_plain(r) for r in value.to_dicts()]
    return value
