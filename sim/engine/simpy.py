"""The SimPy engine: one run of the model on the clock, the reference semantics.

The clock is days since the horizon's start.  On each day things happen in a fixed order,
never in SimPy's scheduling order: budget years open first (pool resets), then
applications in order of firm and program, then the rounds that close that day, then the
applications released that day by a 不重复 group (below).  A single process takes the
events in that order from a queue and yields a timeout to move the clock between days.
Each pool's rationing rule (:mod:`sim.engine.rationing`) says whether an application is
decided when it is made or kept for the pool's round at its review date, in which order a
round is taken, and which decision of the ledger (:mod:`sim.engine.ledger`) decides it.

从优就高不重复, decided after selection.  A firm's applications to the programs of one
group in one budget year are ranked by its preference (``Applications.rank``, made by
:func:`sim.engine.population.preference`).  An application waits ("held") while one the
firm prefers is undecided (made and waiting for its round, or not made yet).  When that
one is paid, every application held behind it is refused as ``stacked``; when it is
refused (ranked out, pool empty, count full, stacked, not made after all), the next one is
released: decided on that day, after the day's other events — at once in a first-come
pool, in its pool's round if the round is still to come, else alone against what the pool
has left.  An application of a firm that another program of the group already paid within
the group's span (the horizon, or the year) is refused as ``stacked`` when it is made or
released.  So a firm is paid by one program of a group at most, and a project ranked out
of the program it prefers may still be paid by the other.

Examples
--------
>>> from sim.scenario.load import load_scenario
>>> from sim.scenario.model import build
>>> from sim.engine.population import sample
>>> model = build(load_scenario("scenarios/binjiang.yaml"))
>>> decisions = run(model, sample(model, run=0))
"""

from __future__ import annotations

import heapq
from collections import defaultdict

import numpy as np
import simpy

from sim.engine.decisions import Decisions, new_decisions
from sim.engine.ledger import Ledger
from sim.engine.outcomes import CANDIDATE, SKIPPED, STACKED
from sim.engine.population import Applications
from sim.engine.rationing import order_keys, rule_of
from sim.scenario.model import Model

RESET, APPLY, REVIEW, RELEASE = 0, 1, 2, 3


def events(model: Model, apps: Applications) -> list[tuple]:
    """Every event known before the run, sorted by (day, kind, firm, program): resets, applications, reviews."""
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


def release_key(model: Model, apps: Applications, row: int, day: int) -> tuple:
    """Where a released application falls among the events: after the day's others, by firm, then its
    place in the firm's preference, then program (so a chain of releases on one day keeps its order)."""
    return (day, RELEASE, int(apps.firm[row]), int(apps.rank[row]) * len(model.programs) + int(apps.program[row]), row)


def run(model: Model, apps: Applications) -> Decisions:
    """Run the model's pools over one run's applications; return every decision."""
    env = simpy.Environment()
    walk = _Walk(model, apps)
    env.process(walk.process(env, events(model, apps)))
    env.run()
    walk.decisions.exhausted_on = dict(walk.ledger.exhausted_on)
    return walk.decisions.settled()


class _Walk:
    """One run's state as the clock moves: the ledger, the decisions, the rounds gathering, the held."""

    def __init__(self, model: Model, apps: Applications):
        self.model = model
        self.apps = apps
        self.rules = [rule_of(pool) for pool in model.pools]
        self.ledger = Ledger(model)
        self.decisions = new_decisions(apps)
        self.rounds: dict[tuple[int, int], list[int]] = {}
        self.decided: dict[tuple[int, int], int] = defaultdict(int)  # how many each pool-year has decided
        self.queue: list[tuple] = []
        # a firm's undecided applications in each 不重复 group and year, and those of them held
        self.undecided: dict[tuple[int, int, int], set[int]] = defaultdict(set)
        self.held: set[int] = set()
        for i in np.flatnonzero(apps.rank >= 0).tolist():
            if apps.status[i] == CANDIDATE:
                self.undecided[self._unit(i)].add(i)

    def _unit(self, i: int) -> tuple[int, int, int]:
        return int(self.apps.firm[i]), self.model.programs[self.apps.program[i]].group, int(self.apps.year[i])

    def process(self, env: simpy.Environment, todo: list[tuple]):
        self.queue = todo  # sorted, hence a heap; releases are pushed onto it as they come
        while self.queue:
            day, kind, _, index, extra = heapq.heappop(self.queue)
            if day > env.now:
                yield env.timeout(day - env.now)
            if kind == RESET:
                self.ledger.reset(index, extra)
            elif kind == APPLY:
                self.apply(extra)
            elif kind == REVIEW:
                self.decide(self.rounds.pop((index, extra), []), index, extra, day)
            else:
                self.release(extra, day)

    def apply(self, i: int) -> None:
        """An application is made: held behind one the firm prefers, refused as stacked, kept for
        the pool's round, or decided now."""
        if self.apps.rank[i] >= 0:
            if self._blocked(i):
                self.held.add(i)
                return
            if self._stacked(i, int(self.apps.day[i])):
                return
        pool = self.model.programs[self.apps.program[i]].pool
        year = int(self.apps.year[i])
        if self.rules[pool].round:
            self.rounds.setdefault((pool, year), []).append(i)
        else:
            self.decide([i], pool, year, int(self.apps.day[i]))

    def release(self, i: int, day: int) -> None:
        """A held application whose preferred one was refused: decided now, or in its pool's round to come."""
        if self._stacked(i, day):
            return
        pool = self.model.programs[self.apps.program[i]].pool
        year = int(self.apps.year[i])
        if self.rules[pool].round and self.model.pools[pool].review[year] > day:
            self.rounds.setdefault((pool, year), []).append(i)
        else:  # first come, or a round that has closed: alone against what is left
            self.decide([i], pool, year, day)

    def _blocked(self, i: int) -> bool:
        """Whether an application the firm prefers, in the same group and year, is undecided."""
        return any(self.apps.rank[j] < self.apps.rank[i] for j in self.undecided[self._unit(i)])

    def _stacked(self, i: int, day: int) -> bool:
        """Refuse ``i`` as stacked if another program of its group paid the firm within the group's span."""
        program = self.model.programs[self.apps.program[i]]
        if not self.ledger.paid_by_group(program, int(self.apps.firm[i]), int(self.apps.year[i])):
            return False
        d = self.decisions
        d.outcome[i], d.day[i], d.granted[i] = STACKED, day, 0
        self._settled(i, day)
        return True

    def decide(self, rows: list[int], pool: int, year: int, day: int) -> None:
        """Decide ``rows`` of one pool and year on ``day`` by the pool's rule, in the rule's order."""
        rule, apps, d = self.rules[pool], self.apps, self.decisions
        if len(rows) > 1:
            index = np.asarray(rows, dtype=np.int64)
            rows = index[np.lexsort(order_keys(rule.order, apps, index))].tolist()
        items = [(self.model.programs[apps.program[i]], int(apps.firm[i]), int(apps.entitled[i]), i, int(apps.grade[i]))
                 for i in rows]
        decided = rule.reference(self.ledger, items, pool, year, day)
        made = {row for row, *_ in decided}
        if len(decided) < len(items):  # some firms did not apply after all
            d.outcome[sorted(set(rows) - made)] = SKIPPED
        for row in rows:  # the pool-year's decisions in the rule's order
            if row in made:
                d.place[row] = self.decided[(pool, year)]
                self.decided[(pool, year)] += 1
        for row, want, granted, outcome, balance in decided:
            d.asked[row] = want
            d.granted[row] = granted
            d.outcome[row] = outcome
            d.day[row] = day
            d.balance[row] = -1 if balance is None else balance
        for row in rows:
            if apps.rank[row] >= 0:
                self._settled(row, day)

    def _settled(self, i: int, day: int) -> None:
        """``i`` is decided: if it paid, those held behind it are stacked; if not, the next one is released."""
        unit = self._unit(i)
        left = self.undecided[unit]
        left.discard(i)
        if not left:
            return
        d = self.decisions
        if d.granted[i] > 0:
            for j in sorted(left & self.held):
                self.held.discard(j)
                d.outcome[j], d.day[j], d.granted[j] = STACKED, day, 0
                left.discard(j)
            return
        j = min(left, key=lambda r: self.apps.rank[r])
        if j in self.held:
            self.held.discard(j)
            heapq.heappush(self.queue, release_key(self.model, self.apps, j, day))
