"""Small hand-checkable policies and scenarios for engine tests, written as YAML files."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import polars as pl
from ruamel.yaml import YAML

from sim.runs.runner import simulate
from sim.scenario.load import load_scenario


def program(amount: str | None = None, *, pool: str | None = "pool", rate: str | None = None, base: str | None = None,
            cap: str | None = None, **extra: Any) -> dict:
    """A program paying a fixed ``amount`` or ``rate`` × ``base``, drawing on ``pool``."""
    benefit = {"kind": "fixed", "amount": amount} if amount else {"kind": "rate", "rate": rate, "base": base}
    out = {"clause": "1.", "source": "toy.txt", "title": "测试", "quote": "测试", "instrument": "subsidy",
           "selection": "entitlement", "benefit": benefit}
    if pool:
        out["pool"] = pool
    if cap:
        out["cap"] = {"amount": cap, "period": "year"}
    out.update(extra)
    return out


def policy(programs: dict, *, budget: str | None = "500万", rationing: str = "first_come", period: str = "year",
           start: str = "2025-01-01", end: str = "2026-12-31", **extra: Any) -> dict:
    out = {
        "id": "toy", "title": "测试政策", "issuer": "测试", "level": "district", "source": "toy.txt",
        "effective": {"clause": "x", "quote": "x", "start": start, "end": end},
        "funding": {"shares": {"city": "1/3", "district": "2/3"}},
        "pools": {"pool": {"title": "池", "clause": "x", "quote": "x", "budget": budget, "rationing": rationing, "period": period}},
        "programs": programs,
    }
    out.update(extra)
    return out


def segment(name: str, n: int, attributes: dict[str, Any], take_up: dict[str, float], **extra: Any) -> dict:
    attrs = {}
    for k, v in attributes.items():
        attrs[k] = v if isinstance(v, dict) else {"dist": "constant", "value": v, "why": "test"}
    out = {"name": name, "why": "test", "firms_at_start": n, "attributes": attrs,
           "take_up": {f"toy.{k}": {"p": p, "why": "test"} for k, p in take_up.items()}}
    out.update(extra)
    return out


def scenario(segments: list[dict], *, programs: dict | None = None, runs: int = 1, seed: int = 7,
             start: str = "2025-01-01", end: str = "2026-12-31", **extra: Any) -> dict:
    out = {
        "name": "toy", "policies": ["toy"], "horizon": {"start": start, "end": end},
        "monte_carlo": {"runs": runs, "seed": seed, "batch_size": 1},
        "segments": segments,
    }
    if programs:
        out["programs"] = {f"toy.{k}": {"why": "test", **v} for k, v in programs.items()}
    out.update(extra)
    return out


def write(folder: Path, policy_doc: dict, scenario_doc: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    yaml = YAML()
    with open(folder / "toy.yaml", "w", encoding="utf-8") as fh:
        yaml.dump(copy.deepcopy(policy_doc), fh)
    path = folder / "scenario.yaml"
    with open(path, "w", encoding="utf-8") as fh:
        yaml.dump(copy.deepcopy(scenario_doc), fh)
    return path


def run(folder: Path, policy_doc: dict, scenario_doc: dict, *, workers: int = 1, events: bool = True,
        batch_size: int | None = None, out: str = "out", engine: str = "auto") -> dict[str, pl.DataFrame]:
    """Run the toy scenario; return its tables sorted by their keys."""
    path = write(folder, policy_doc, scenario_doc)
    result = simulate(load_scenario(path), workers=workers, out=folder / out, events=events, batch_size=batch_size,
                      engine=engine)
    return {t: result.frame(t) for t in result.tables}


def entitled(policy_doc, program_id: str, **values) -> int:
    """Yuan one firm with ``values`` is entitled to under a loaded policy's program."""
    import numpy as np

    from sim.policy.entitlement import entitlement

    attrs = {name: np.array([value]) for name, value in values.items()}
    return int(entitlement(policy_doc, program_id, attrs, 1)[0])
