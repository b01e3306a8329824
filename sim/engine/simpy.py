"""The SimPy engine: one run of the model on the clock, the reference semantics.

The clock is days since the horizon's start.  On each day things happen in a fixed order,
never in SimPy's scheduling order: budget years open first (pool resets), then
applications in order of firm and program, then the rounds that close that day.  A single
process walks this presorted list of events and yields a timeout to move the clock
between days.  Each pool's rationing rule (:mod:`sim.engine.rationing`) says whether an
application is decided when it is made or kept for the pool's round at its review date,
in which order a round is taken, and which decision of the ledger
(:mod:`sim.engine.ledger`) decides it.

Examples
--------
>>> from sim.scenario.load import load_scenario
>>> from sim.scenario.model import build
>>> from sim.engine.population import sample
>>> model = build(load_scenario("scenarios/binjiang.yaml"))
>>> decisions = run(model, sample(model, run=0))
"""

from __future__ import annotations

import numpy as np
import simpy

from sim.engine.decisions import Decisions, new_decisions
from sim.engine.ledger import Ledger
from sim.engine.outcomes import CANDIDATE, SKIPPED
from sim.engine.population import Applications
from sim.engine.rationing import order_keys, rule_of
from sim.scenario.model import Model

RESET, APPLY, REVIEW = 0, 1, 2


def events(model: Model, apps: Applications) -> list[tuple]:
    """Every event of the run, sorted by (day, kind, firm, program): resets, applications, reviews."""
    out: list[tuple] = []
    for pool in model.pools:
        rule = rule_of(pool)
        for year in model.years:
            out.append((model.year_start[year], RESET, -1, pool.index, year))
            if rule.round:
                out.append((pool.review[year], REVIEW, -1, pool.index, year))
    candidates = np.flatnonzero(apps.status == CANDIDATE)
    for i in candidates.tolist():
        out.append((int(apps.day[i]), APPLY, int(apps.firm[i]), int(apps.program[i]), i))
    out.sort(key=lambda e: e[:4])
    return out


def run(model: Model, apps: Applications) -> Decisions:
    """Run the model's pools over one run's applications; return every decision."""
    env = simpy.Environment()
    walk = _Walk(model, apps)
    env.process(walk.process(env, events(model, apps)))
    env.run()
    walk.decisions.exhausted_on = dict(walk.ledger.exhausted_on)
    return walk.decisions.settled()


class _Walk:
    """One run's state as the clock moves: the ledger, the decisions, the rounds gathering."""

    def __init__(self, model: Model, apps: Applications):
        self.model = model
        self.apps = apps
        self.rules = [rule_of(pool) for pool in model.pools]
        self.ledger = Ledger(model)
        self.decisions = new_decisions(apps)
        self.rounds: dict[tuple[int, int], list[int]] = {}

    def process(self, env: simpy.Environment, todo: list[tuple]):
        for day, kind, _, index, extra in todo:
            if day > env.now:
                yield env.timeout(day - env.now)
            if kind == RESET:
                self.ledger.reset(index, extra)
            elif kind == APPLY:
                self.apply(extra)
            else:
                self.decide(self.rounds.pop((index, extra), []), index, extra, day)

    def apply(self, i: int) -> None:
        """An application is made: kept for the pool's round, or decided now."""
        pool = self.model.programs[self.apps.program[i]].pool
        year = int(self.apps.year[i])
        if self.rules[pool].round:
            self.rounds.setdefault((pool, year), []).append(i)
        else:
            self.decide([i], pool, year, int(self.apps.day[i]))

    def decide(self, rows: list[int], pool: int, year: int, day: int) -> None:
        """Decide ``rows`` of one pool and year on ``day`` by the pool's rule, in the rule's order."""
        rule, apps, d = self.rules[pool], self.apps, self.decisions
        if len(rows) > 1:
            index = np.asarray(rows, dtype=np.int64)
            rows = index[np.lexsort(order_keys(rule.order, apps, index))].tolist()
        items = [(self.model.programs[apps.program[i]], int(apps.firm[i]), int(apps.entitled[i]), i) for i in rows]
        decided = rule.reference(self.ledger, items, pool, year, day)
        if len(decided) < len(items):  # some firms did not apply after all
            d.outcome[sorted(set(rows) - {row for row, *_ in decided})] = SKIPPED
        for row, want, granted, outcome, balance in decided:
            d.asked[row] = want
            d.granted[row] = granted
            d.outcome[row] = outcome
            d.day[row] = day
            d.balance[row] = -1 if balance is None else balance
