"""An Excel workbook a budget officer can open and compute with.

Each table is a sheet with a frozen header row, a filter, sensible column widths, and
numbers stored as numbers: amounts in 万元 (yuan / 10,000, exact to the yuan) shown with
a thousands separator, shares as percentages, dates as dates.  Text in a numeric column
would stop a SUM; a column of 9-digit yuan would be unreadable; both are avoided.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl
import xlsxwriter

Kind = Literal["text", "int", "year", "wan", "share", "date", "float"]
FORMATS: dict[str, dict] = {
    "int": {"num_format": "#,##0"},
    "year": {"num_format": "0"},
    "wan": {"num_format": "#,##0.00"},
    "share": {"num_format": "0.0%"},
    "date": {"num_format": "yyyy-mm-dd"},
    "float": {"num_format": "0.000"},
    "text": {},
}


@dataclass(frozen=True)
class Column:
    """A sheet column: its header, the frame column it shows, and how its numbers are stored."""

    header: str
    source: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Sheet:
    name: str
    frame: pl.DataFrame
    columns: tuple[Column, ...]


def display_width(text: str) -> int:
    """Width in character cells: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def write_workbook(path: str | Path, sheets: list[Sheet], *, about: list[tuple[str, str]] = ()) -> Path:
    """Write ``sheets`` (after a "Read me" sheet of ``about`` key/value lines) to ``path``.

    The caller writes to a temporary name and renames (see :func:`sim.report.render.write_report`).
    """
    path = Path(path)
    book = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True, "strings_to_numbers": False})
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    formats = {k: book.add_format(v) for k, v in FORMATS.items()}
    if about:
        _about(book, about, header)
    for sheet in sheets:
        _sheet(book, sheet, header, formats)
    book.close()
    return path


def _about(book, about: list[tuple[str, str]], header) -> None:
    ws = book.add_worksheet("Read me")
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    ws.write_row(0, 0, ["item", "value"], header)
    for i, (key, value) in enumerate(about, start=1):
        ws.write_string(i, 0, key)
        ws.write_string(i, 1, value, wrap)
    ws.set_column(0, 0, max(12, max(display_width(k) for k, _ in about) + 2))
    ws.set_column(1, 1, 100, wrap)
    ws.freeze_panes(1, 0)


def _sheet(book, sheet: Sheet, header, formats) -> None:
    ws = book.add_worksheet(sheet.name[:31])
    ws.write_row(0, 0, [c.header for c in sheet.columns], header)
    widths = [max(display_width(w) for w in c.header.split("\n")) + 2 for c in sheet.columns]
    for r, row in enumerate(sheet.frame.select([c.source for c in sheet.columns]).iter_rows(), start=1):
        for j, (col, value) in enumerate(zip(sheet.columns, row)):
            shown = _write(ws, r, j, col.kind, value, formats[col.kind])
            widths[j] = max(widths[j], min(shown + 2, 60))
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.set_row(0, 15 * max(c.header.count("\n") + 1 for c in sheet.columns))
    ws.freeze_panes(1, 0)
    if sheet.frame.height:
        ws.autofilter(0, 0, sheet.frame.height, len(sheet.columns) - 1)


def _write(ws, r: int, j: int, kind: Kind, value, fmt) -> int:
    """Write one cell as its kind; return its displayed width (for the column width)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        ws.write_blank(r, j, None, fmt)
        return 1
    if kind == "text":
        ws.write_string(r, j, str(value))
        return display_width(str(value))
    if kind == "date":
        ws.write_datetime(r, j, dt.datetime.combine(value, dt.time()), fmt)
        return 10
    number = value / 10_000 if kind == "wan" else value
    ws.write_number(r, j, int(number) if kind in ("int", "year") else float(number), fmt)
    return len(f"{number:,.2f}") if kind in ("wan", "float") else len(f"{number:,}") if kind in ("int", "year") else 6
