"""Read YAML files into plain data, remembering the line of every field.

This is the only code that sees raw YAML.  It rejects duplicate keys (ruamel does), keeps
a map from dotted field paths to line numbers, and turns pydantic's validation errors
into :class:`~sim.errors.Problem` s that name the file, the line and the field, so that a
user sees ``policies/x.yaml:42: programs.voucher.cap.amount: '万万' is not an amount``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from sim.errors import InputError, Problem

Lines = dict[tuple, int]
NAME_PATTERN = r"^[A-Za-z0-9_\-]+$"  # names that become file and folder names


def read_yaml(path: Path, error: type[InputError]) -> tuple[Any, Lines]:
    """Parse ``path``; return plain data and the line (1-based) of each field path."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error.one(path, "", "file not found") from None
    except IsADirectoryError:
        raise error.one(path, "", "is a folder, not a YAML file") from None
    except OSError as exc:
        raise error.one(path, "", f"cannot be read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise error.one(path, "", f"is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be read); save it as UTF-8 "
                        "(an editor's \"Save with encoding\", or iconv -f GBK -t UTF-8)", line) from None
    try:
        doc = YAML(typ="rt", pure=True).load(text)
    except ValueError as exc:  # a date that is not in the calendar, such as 2025-02-30
        raise error([_bad_date(path, text, exc)]) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or str(exc)
        if "duplicate key" in str(exc):
            problem = "duplicate key " + (exc.problem or "").split('"')[1 if '"' in (exc.problem or "") else 0]
        raise error.one(path, "", f"invalid YAML: {problem}", line) from None
    except YAMLError as exc:
        raise error.one(path, "", f"invalid YAML: {exc}") from None
    lines: Lines = {}
    data = _plain(doc, (), lines)
    if not isinstance(data, dict):
        raise error.one(path, "", "must be a YAML mapping of fields (key: value)", 1)
    return data, lines


def _bad_date(path: Path, text: str, exc: ValueError) -> Problem:
    """The field holding an impossible date: read the file again with dates left as text."""
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _DatesAsText
    lines: Lines = {}
    data = _plain(yaml.load(text), (), lines)
    for loc, value in _leaves(data, ()):
        if isinstance(value, str) and _DATE.fullmatch(value.strip()):
            try:
                dt.date.fromisoformat(value.strip())
            except ValueError:
                return Problem(str(path), dotted(loc), f"{value!r} is not a date in the calendar ({exc}); "
                               "write it as YYYY-MM-DD, e.g. 2025-02-28", line_of(lines, loc))
    return Problem(str(path), "", f"a date is not in the calendar ({exc}); write dates as YYYY-MM-DD")


class _DatesAsText(RoundTripConstructor):
    """Reads dates as the text they are written as (add_constructor on a subclass changes only it)."""


_DatesAsText.add_constructor("tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str)

_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


def _leaves(node: Any, loc: tuple):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, loc + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, loc + (i,))
    else:
        yield loc, node


def _plain(node: Any, path: tuple, lines: Lines) -> Any:
    if isinstance(node, CommentedMap):
        out = {}
        for key in node:
            lines[path + (str(key),)] = node.lc.key(key)[0] + 1
            out[str(key)] = _plain(node[key], path + (str(key),), lines)
        return out
    if isinstance(node, CommentedSeq):
        for i in range(len(node)):
            lines[path + (i,)] = node.lc.item(i)[0] + 1
        return [_plain(v, path + (i,), lines) for i, v in enumerate(node)]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, dt.datetime):
        return node.date()
    if isinstance(node, dt.date):
        return dt.date(node.year, node.month, node.day)
    return str(node)


def line_of(lines: Lines, loc: tuple) -> int | None:
    """The line of the deepest known prefix of ``loc``."""
    for n in range(len(loc), 0, -1):
        if tuple(loc[:n]) in lines:
            return lines[tuple(loc[:n])]
    return None


def dotted(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def problems_from(exc: ValidationError, file: str, lines: Lines, prefix: tuple = ()) -> list[Problem]:
    """One Problem per root cause of pydantic's errors, with file, line and dotted field.

    A misspelt required field makes pydantic report two errors, an unknown field and a
    missing one; they are one mistake, reported once at the misspelling's line with the
    field it was meant to be.
    """
    errors = [(prefix + tuple(p for p in err["loc"] if not _is_tag(p)), err) for err in exc.errors()]
    # a list whose items failed is also "too short" once they are dropped: the items are the cause
    errors = [(loc, err) for loc, err in errors
              if not (err["type"] == "too_short" and any(o[:len(loc)] == loc and len(o) > len(loc) for o, _ in errors))]
    missing = {loc: err for loc, err in errors if err["type"] == "missing"}
    meant: dict[tuple, str] = {}
    for loc, err in errors:
        if err["type"] == "extra_forbidden":
            siblings = [str(m[-1]) for m in missing if m[:-1] == loc[:-1]]
            close = difflib.get_close_matches(str(loc[-1]), siblings, n=1, cutoff=0.7)
            if close:
                meant[loc] = close[0]
                missing.pop(loc[:-1] + (close[0],), None)
    out = []
    for loc, err in errors:
        if err["type"] == "missing" and loc not in missing:
            continue
        msg = err["msg"]
        for lead in ("Value error, ", "Assertion failed, "):
            if msg.startswith(lead):
                msg = msg[len(lead):]
        if msg.startswith("@"):  # a validator named a deeper field: "@a.b: message"
            sub, _, msg = msg[1:].partition(": ")
            loc = loc + tuple(sub.split("."))
        if err["type"] == "extra_forbidden":
            msg = (f"unknown field {loc[-1]!r}; did you mean {meant[loc]!r}?" if loc in meant
                   else f"unknown field {loc[-1]!r}; check its spelling against the documented fields")
        elif err["type"] == "missing":
            msg = "is required but missing"
        elif err["type"] == "string_pattern_mismatch" and err["ctx"].get("pattern") == NAME_PATTERN:
            msg = f"{err['input']!r} may hold only letters, digits, _ and - (it names files and folders)"
        out.append(Problem(file, dotted(loc), msg, line_of(lines, loc)))
    return out


def _is_tag(part: object) -> bool:
    """Pydantic adds union/tag names to locations; they are not fields in the file."""
    return isinstance(part, str) and part.startswith("function-")
