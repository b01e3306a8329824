"""Rationing: how a pool shares out money when it is asked for more than it holds.

One row per rule of the policy schema's ``Rationing`` literal (:mod:`sim.policy.models`):

- ``first_come`` (先到先得): each application is decided on the day it is made, in time
  order, and paid while money lasts;
- ``competitive`` (择优): applications are gathered into a round and paid at the pool's
  review date in rank order (score, highest first); those the money or the count does
  not reach are ranked out;
- ``pro_rata`` (按比例): applications are gathered into a round and, if together they ask
  more than the pool holds, every grant is scaled down by the same factor.

A row says in which order the rule takes applications (``time``: day, then firm, then
program; ``rank``: score first), whether it decides them in a round at the review date,
its reference decision (a :class:`~sim.engine.ledger.Ledger` method, which the SimPy
engine calls) and its vectorised decision (a function of :mod:`sim.engine.vectorised`,
which the fast engine calls; None if there is none, and then the fast engine declines
scenarios that use the rule).  Both engines dispatch through this table only.  Adding a
rule is: a value of the literal, a ledger method, a vectorised function or None, and a
row here; the equality test of the engines draws its rules from this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np

from sim.engine import vectorised
from sim.engine.ledger import Ledger
from sim.engine.population import Applications
from sim.errors import EngineError
from sim.scenario.model import PoolSpec


@dataclass(frozen=True)
class Rule:
    name: str
    order: Literal["time", "rank"]
    round: bool  # decided together at the pool's review date, not as each application comes
    reference: Callable  # Ledger method (ledger, items, pool, year, day) -> [(row, asked, granted, outcome)]
    vectorised: Callable[[vectorised.PoolYear], vectorised.Decided] | None


RULES: dict[str, Rule] = {rule.name: rule for rule in (
    Rule("first_come", order="time", round=False, reference=Ledger.first_come, vectorised=vectorised.first_come),
    Rule("competitive", order="rank", round=True, reference=Ledger.competitive, vectorised=vectorised.competitive),
    Rule("pro_rata", order="time", round=True, reference=Ledger.pro_rata, vectorised=vectorised.pro_rata),
)}


def rule_of(pool: PoolSpec) -> Rule:
    """The pool's rationing rule; an :class:`EngineError` if no engine knows it."""
    rule = RULES.get(pool.rationing)
    if rule is None:
        raise EngineError(f"pool {pool.key}: rationing {pool.rationing!r} has no rule in sim/engine/rationing.py "
                          f"(known: {', '.join(RULES)})")
    return rule


def order_keys(order: str, apps: Applications, rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """Keys for ``np.lexsort`` (the last is the first key) that put ``rows`` in the rule's order.

    ``time``: day, then firm, then program (a fixed tie-break, never SimPy's scheduling
    order); ``rank``: score, highest first, then time.
    """
    time = (apps.program[rows], apps.firm[rows], apps.day[rows])
    if order == "time":
        return time
    if order == "rank":
        return (*time, -apps.score[rows])
    raise ValueError(f"an order is time or rank, not {order!r}")
