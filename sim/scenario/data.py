"""Data files: the applicant lists and accounts a finance office already holds.

A finance office that adopts `sim` has tables the policy texts do not: last year's
applicants with their revenue and compute bills, a sample of firms' accounts.  They come
as CSV (often saved by Excel, sometimes in GBK), Excel workbooks or Parquet, with amounts
written as people write them (``350万``, ``1.2亿``, ``2,000``).  This module reads such a
table as text, then turns one column into numbers the way the rest of `sim` reads
amounts, reporting every blank, negative or unreadable cell with its file, row and
column, so that a user fixes the file in one pass.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is
row 2.  Amounts become integer yuan; an amount with fractions of a yuan (cents in an
account) is rounded to the nearest yuan.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import polars as pl

from sim.errors import InputError, Problem
from sim.policy.attributes import VOCABULARY, coerce_value
from sim.policy.money import UNITS

SUFFIXES = (".csv", ".txt", ".parquet", ".xlsx")
FIRST_ROW = 2  # the header is row 1


class DataError(InputError):
    """A data file that cannot be read, or cells that are not what the column needs."""

    kind = "data"


@dataclass(frozen=True)
class Column:
    """One column of a data file, as numbers, with where it came from."""

    file: str
    name: str
    values: np.ndarray  # int64 yuan for amounts, float64 otherwise
    rows: np.ndarray  # the file's row number of each value
    money: bool  # values are yuan (some cell carried 万/亿 or the attribute is money)


def read_table(path: str | Path) -> pl.DataFrame:
    """Every cell of the file's first sheet or table as text (None for a blank cell).

    Raises :class:`DataError` for a missing or unreadable file or an unknown format.
    """
    path = Path(path)
    if not path.exists():
        raise DataError.one(path, "", "file not found")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError.one(path, "", f"cannot read a {suffix or 'suffix-less'} file; give CSV (.csv), Excel (.xlsx) or Parquet (.parquet)")
    try:
        if suffix == ".parquet":
            frame = pl.read_parquet(path)
            return frame.select(pl.all().cast(pl.String))
        if suffix == ".xlsx":
            return pl.read_excel(path, engine="openpyxl", drop_empty_rows=False, infer_schema_length=0)
        return _read_csv(path)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's problem, said once
        raise DataError.one(path, "", f"cannot be read as {suffix[1:]}: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None


def _read_csv(path: Path) -> pl.DataFrame:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel saves Chinese CSV in either
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise DataError.one(path, "", "is neither UTF-8 nor GBK text")
    frame = pl.read_csv(text.encode("utf-8"), infer_schema=False, truncate_ragged_lines=False)
    return frame.with_columns(pl.col(pl.String).str.strip_chars().replace("", None))


def column(frame: pl.DataFrame, name: str, file: str | Path, *, attribute: str | None = None) -> tuple[Column, list[Problem]]:
    """Column ``name`` as numbers, and one problem per blank, negative or unreadable cell.

    With ``attribute`` (a name of the firm vocabulary) the cells are read as that attribute
    (money in yuan, a share between 0 and 1, …).  Without it, a cell may be a plain number or
    an amount with 万/亿; the column is money if any cell carries a unit.
    """
    file = str(file)
    if name not in frame.columns:
        raise DataError.one(file, name, f"no such column; the columns are {', '.join(frame.columns)}", 1)
    cells = frame[name].to_list()
    kind = VOCABULARY[attribute].kind if attribute else None
    money = kind == "money" or (kind is None and any(isinstance(c, str) and _has_unit(c) for c in cells))
    values, rows, problems = [], [], []
    for i, cell in enumerate(cells):
        row = FIRST_ROW + i
        try:
            value = _cell(cell, money, attribute)
        except ValueError as exc:
            problems.append(Problem(file, f"row {row}, column {name}", str(exc)))
            continue
        values.append(value)
        rows.append(row)
    dtype = np.int64 if money else np.float64
    return Column(file, name, np.array(values, dtype=dtype), np.array(rows, dtype=np.int64), money), problems


def _has_unit(cell: str) -> bool:
    text = cell.strip().removesuffix("元")
    return bool(text) and text[-1] in UNITS


def _cell(cell: object, money: bool, attribute: str | None) -> float | int:
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        raise ValueError("blank cell")
    text = str(cell).strip()
    if money:
        return _yuan(text)
    if attribute is not None and VOCABULARY[attribute].kind not in ("number", "share", "count"):
        raise ValueError(f"{attribute} is a {VOCABULARY[attribute].kind}; only numeric attributes can be read as numbers here")
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{text!r} is not a finite number")
    if number < 0:
        raise ValueError(f"{text!r} is negative")
    return coerce_value(attribute, number) if attribute else number


def _yuan(text: str) -> int:
    """An amount in any form the money parser reads, rounded to the yuan."""
    body = text.replace(" ", "").replace(",", "").removesuffix("元")
    if body.startswith("-"):
        raise ValueError(f"{text!r} is negative")
    scale = 1
    if body and body[-1] in UNITS:
        scale, body = UNITS[body[-1]], body[:-1]
    try:
        amount = Decimal(body) * scale
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount of money (e.g. 350万, 1.2亿 or 3500000)") from None
    if not amount.is_finite():
        raise ValueError(f"{text!r} is not an amount of money (e.g. 350万, 1.2亿 or 3500000)")
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Rows:
    """A segment's data file read for resampling: each attribute's value in each row, in the attribute's unit."""

    file: str
    sha256: str
    values: dict[str, np.ndarray]  # attribute -> one value per row (yuan, a share, a flag, a category, …)
    rows: int


def read_rows(path: str | Path, file: str, columns: dict[str, str]) -> Rows:
    """Read the columns a segment takes from a data file, each cell as its attribute (see :class:`FromData`).

    Every blank or unreadable cell is reported with the file, its row and column, so that
    one pass fixes the file.  Raises :class:`DataError`.
    """
    import hashlib

    frame = read_table(path)
    values: dict[str, np.ndarray] = {}
    problems: list[Problem] = []
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError([Problem(file, c, f"no such column; the columns are {', '.join(frame.columns)}", 1) for c in missing])
    for name, attr in columns.items():
        kind = VOCABULARY[attr].kind
        if kind in ("flag", "category"):
            cells, bad = _typed_cells(frame[name].to_list(), attr)
            problems += [Problem(file, f"row {row}, column {name}", message) for row, message in bad]
            values[attr] = np.array(cells, dtype=bool if kind == "flag" else object)
        else:
            col, bad = column(frame, name, file, attribute=attr)
            problems += bad
            values[attr] = col.values.astype(np.int64 if kind == "money" else np.float64)
    if problems:
        raise DataError(problems)
    if frame.height == 0:
        raise DataError.one(file, "", "has no rows of firms to resample")
    return Rows(file, hashlib.sha256(Path(path).read_bytes()).hexdigest(), values, frame.height)


def _typed_cells(cells: list, attr: str) -> tuple[list, list[tuple[int, str]]]:
    """Cells read as a flag (yes/no, 是/否, true/false, 1/0) or a category of ``attr``, with each bad one's row."""
    out, bad = [], []
    for i, cell in enumerate(cells):
        if cell is None:
            bad.append((FIRST_ROW + i, "blank cell"))
            out.append(None)
            continue
        try:
            out.append(coerce_value(attr, cell))
        except ValueError as exc:
            bad.append((FIRST_ROW + i, str(exc)))
            out.append(None)
    return out, bad
