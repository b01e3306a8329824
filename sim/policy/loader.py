"""Read YAML files into plain data, remembering the line of every field.

This is the only code that sees raw YAML.  It rejects duplicate keys (ruamel does), keeps
a map from dotted field paths to line numbers, and turns pydantic's validation errors
into :class:`~sim.errors.Problem` s that name the file, the line and the field, so that a
user sees ``policies/x.yaml:42: programs.voucher.cap.amount: '万万' is not an amount``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from sim.errors import InputError, Problem

Lines = dict[tuple, int]


def read_yaml(path: Path, error: type[InputError]) -> tuple[Any, Lines]:
    """Parse ``path``; return plain data and the line (1-based) of each field path."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error.one(path, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error.one(path, "", f"cannot be read: {exc}") from None
    try:
        doc = YAML(typ="rt", pure=True).load(text)
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
    """One Problem per pydantic error, with file, line and dotted field."""
    out = []
    for err in exc.errors():
        loc = prefix + tuple(p for p in err["loc"] if not _is_tag(p))
        msg = err["msg"]
        for lead in ("Value error, ", "Assertion failed, "):
            if msg.startswith(lead):
                msg = msg[len(lead):]
        if msg.startswith("@"):  # a validator named a deeper field: "@a.b: message"
            sub, _, msg = msg[1:].partition(": ")
            loc = loc + tuple(sub.split("."))
        if err["type"] == "extra_forbidden":
            msg = f"unknown field {loc[-1]!r}; check its spelling against the documented fields"
        elif err["type"] == "missing":
            msg = "is required but missing"
        out.append(Problem(file, dotted(loc), msg, line_of(lines, loc)))
    return out


def _is_tag(part: object) -> bool:
    """Pydantic adds union/tag names to locations; they are not fields in the file."""
    return isinstance(part, str) and part.startswith("function-")
