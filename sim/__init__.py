"""sim: Monte Carlo simulation of AI and compute subsidy policies.

The Python API, for notebooks and scripts (the `sim` command is a thin shell over it).
The data path is one package a stage: :mod:`sim.policy` → :mod:`sim.scenario` →
:mod:`sim.engine` → :mod:`sim.runs` → :mod:`sim.report` → :mod:`sim.planning`.  Names
below are imported on first use, so ``import sim`` stays light.

>>> import sim
>>> scenario = sim.load_scenario("scenarios/binjiang.yaml")
>>> what_if = scenario.with_overrides({"overrides.binjiang.pools.compute_vouchers.budget": "5000万"})
>>> result = sim.simulate(what_if, runs=200, out="outputs/what_if", force=True)   # doctest: +SKIP
>>> result.frame("pool_years")                                                     # doctest: +SKIP
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_API = {
    "load_policy": "sim.policy.load",
    "parse_firm": "sim.policy.quote",
    "quote": "sim.policy.quote",
    "load_scenario": "sim.scenario.load",
    "simulate": "sim.runs.runner",
    "RunResult": "sim.runs.runner",
    "scan": "sim.runs.storage",
    "Report": "sim.report.figures",
    "build_report": "sim.report.figures",
    "write_report": "sim.report.render",
    "compare_runs": "sim.planning.compare",
    "tornado": "sim.planning.tornado",
}

__all__ = [*_API, "__version__"]


def __getattr__(name: str):
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
