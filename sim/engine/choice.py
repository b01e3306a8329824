"""Engine choice: which engine runs a scenario, and why.

The fast engine runs a scenario whenever it supports everything the scenario uses; the
SimPy engine, the reference semantics, runs anything.  Both give the same tables.
"""

from __future__ import annotations

from typing import Callable, Literal

from sim.engine import fast
from sim.engine.simpy import run as run_simpy
from sim.errors import OptionError
from sim.scenario.model import Model

Engine = Literal["auto", "simpy", "fast"]
ENGINES: dict[str, Callable] = {"simpy": run_simpy, "fast": fast.run}


def check_engine(engine: str) -> None:
    """Refuse an engine name no run can take, naming the option."""
    if engine not in ("auto", *ENGINES):
        raise OptionError("--engine", engine, "must be auto (the fast engine when it supports the scenario), simpy or fast")


def choose_engine(model: Model, engine: Engine) -> tuple[str, str]:
    """The engine to run and why: the fast one whenever it supports the scenario's features."""
    check_engine(engine)
    reason = fast.supports(model)
    if engine == "fast" and reason:
        raise OptionError("--engine", engine, f"cannot run this scenario: {reason}")
    if engine == "auto":
        return ("simpy", reason) if reason else ("fast", "the scenario uses only features the fast engine supports")
    return engine, "chosen with --engine"
