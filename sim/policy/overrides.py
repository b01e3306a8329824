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
    whole: ``segments.0.take_up.binjiang.compute_voucher.p`` reaches its ``p``.
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
        key: Any = int(part) if isinstance(node, list) and part.isdigit() else part
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            known = ", ".join(map(str, node)) if isinstance(node, dict) else ""
            raise error.one(file, dotted_path, f"no field {'.'.join(parts[: i + 1])!r} to override" + (f"; known here: {known}" if known else "")) from None
        i += 1
    if not isinstance(node, dict):
        raise error.one(file, dotted_path, "can only override a field of a mapping")
    node[parts[-1]] = value


def apply_path(raw: dict, path: str, value: Any, file: str) -> None:
    """Set a scenario field; under ``overrides.`` the rest of the path is a policy path."""
    if path.startswith("overrides."):
        key = path[len("overrides."):]
        entry = raw.setdefault("overrides", {}).get(key)
        why = entry["why"] if isinstance(entry, dict) and "why" in entry else "set on the command line"
        raw["overrides"][key] = {"value": value, "why": why}
        return
    set_path(raw, path, value, ScenarioError, file)
