"""Decisions: what an engine decided for each application of one run.

Both engines fill the same record, row for row with the run's
:class:`~sim.engine.population.Applications`, and :mod:`sim.runs.records` sums it into
tables; that the two records are equal, array by array, is what makes the engines
interchangeable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.outcomes import CANDIDATE
from sim.engine.population import Applications


@dataclass
class Decisions:
    """What happened to each application of a run (rows match the Applications)."""

    asked: np.ndarray  # int64 yuan asked of the pool (entitlement less any earlier top-up)
    granted: np.ndarray  # int64 yuan granted
    outcome: np.ndarray  # int8 outcome code (sim.engine.outcomes), SKIPPED if never made
    day: np.ndarray  # int32 day decided
    balance: np.ndarray  # int64 pool balance after the decision, -1 for a pool with no limit
    place: np.ndarray  # int64 its place among its pool-year's decisions (0 first), -1 if no pool decided it
    exhausted_on: dict[tuple[int, int], int]  # (pool, year) -> day the pool ran dry

    def settled(self) -> "Decisions":
        """This record, once checked that no application is left a candidate.

        Every candidate must end paid, refused or skipped; one left undecided would be
        missing from every total, so an engine that leaves one is wrong, and this says so.
        """
        left = np.flatnonzero(self.outcome == CANDIDATE)
        if len(left):
            raise RuntimeError(f"the engine left {len(left)} application(s) undecided (rows {left[:5].tolist()})")
        return self


def new_decisions(apps: Applications) -> Decisions:
    """The record before any decision: candidates, and what never reaches a pool, as sampled."""
    n = len(apps)
    return Decisions(
        asked=apps.entitled.copy(), granted=np.zeros(n, dtype=np.int64),
        outcome=apps.status.astype(np.int8).copy(), day=apps.day.copy(),
        balance=np.full(n, -1, dtype=np.int64), place=np.full(n, -1, dtype=np.int64), exhausted_on={},
    )
