"""Overrides: dotted paths that change a policy or scenario before it is validated.

A what-if ("a pool of 5000万 instead of 1亿"), a blank date a scenario fills, a sweep's
``--set``: each is a dotted path into the raw YAML data and a value, applied before
validation so that the changed file is checked exactly as a written one would be.  A
scenario reaches its policies' fields under ``overrides.<policy>.``.
"""

from __future__ import annotations

from typing import Any

from sim.errors import ScenarioError


def set_path(data: dict, dotted_path: str, value: Any, error: type, file: str) -> None:
    """Set ``a.b.c`` in nested dicts; every part but the last must already exist.

    A key that itself holds dots (``take_up: {binjiang.compute_voucher: …}``) is matched
    whole: ``segments.0.take_up.binjiang.compute_voucher.p`` reaches its ``p``.  An item of
    a list of named items is reached by its index or by its ``name``:
    ``segments.ai_smes.firms_at_start`` is the same field as ``segments.0.firms_at_start``
    while ai_smes is the first segment, and stays the same field if segments are reordered.
    """
    parts = dotted_path.split(".")
    node: Any = data
    i = 0
    while i < len(parts) - 1:
        part = parts[i]
        if isinstance(node, dict) and part not in node:
            joined = next((j for j in range(len(parts), i + 1, -1) if ".".join(parts[i:j]) in node), None)
            if joined == len(parts):
                node[".".join(parts[i:])] = value
                return
            if joined is not None:
                node, i = node[".".join(parts[i:joined])], joined
                continue
        key: Any = _list_key(node, part) if isinstance(node, list) else part
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            known = ", ".join(map(str, node)) if isinstance(node, dict) else ""
            if isinstance(node, list):
                known = ", ".join(f"{i} or {item['name']}" if isinstance(item, dict) and "name" in item else str(i)
                                  for i, item in enumerate(node))
            raise error.one(file, dotted_path, f"no field {'.'.join(parts[: i + 1])!r} to override" + (f"; known here: {known}" if known else "")) from None
        i += 1
    if not isinstance(node, dict):
        raise error.one(file, dotted_path, "can only override a field of a mapping")
    node[parts[-1]] = value


def _list_key(items: list, part: str) -> Any:
    """The index of a list item named by its position or by its ``name`` field (as is, if neither)."""
    if part.isdigit():
        return int(part)
    return next((i for i, item in enumerate(items) if isinstance(item, dict) and item.get("name") == part), part)


def locate(data: Any, dotted_path: str) -> tuple:
    """The path as a tuple of keys and list indices (dotted keys and named items resolved), for finding its line.

    As far as the path exists in ``data``; the rest is split at its dots.
    """
    parts = dotted_path.split(".")
    node, i, out = data, 0, []
    while i < len(parts):
        part = parts[i]
        if isinstance(node, dict):
            joined = next((j for j in range(len(parts), i, -1) if ".".join(parts[i:j]) in node), None)
            if joined is None:
                return tuple(out + parts[i:])
            key = ".".join(parts[i:joined])
            node, i = node[key], joined
            out.append(key)
        elif isinstance(node, list):
            key = _list_key(node, part)
            if not isinstance(key, int) or key >= len(node):
                return tuple(out + parts[i:])
            node, i = node[key], i + 1
            out.append(key)
        else:
            return tuple(out + parts[i:])
    return tuple(out)


def exists(data: Any, dotted_path: str) -> bool:
    """True when every part of the path names a field (or list item) present in ``data``."""
    return value_at(data, locate(data, dotted_path), _MISSING) is not _MISSING


_MISSING = object()


def value_at(data: Any, loc: tuple, default: Any = None) -> Any:
    """The field (or list item) at ``loc`` in ``data``; ``default`` where a part of it is absent."""
    for key in loc:
        if isinstance(data, dict) and key in data:
            data = data[key]
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        else:
            return default
    return data


def apply_path(raw: dict, path: str, value: Any, file: str) -> None:
    """Set a scenario field; under ``overrides.`` the rest of the path is a policy path."""
    if path.startswith("overrides."):
        key = path[len("overrides."):]
        entry = raw.setdefault("overrides", {}).get(key)
        why = entry["why"] if isinstance(entry, dict) and "why" in entry else "set on the command line"
        raw["overrides"][key] = {"value": value, "why": why}
        return
    set_path(raw, path, value, ScenarioError, file)
