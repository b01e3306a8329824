"""The baseline: first-come pools written the way a SimPy user would write them.

A process brings firms in on their arrival day and starts a process per firm; each firm
process sleeps (``env.timeout``) until its application day in each year and asks the
pool; a process opens each budget year by resetting the pools.  Pools are plain Python
state: a first-come pool pays what is asked while money lasts, the claim that crosses
the balance gets what is left, later claims get nothing.

It consumes the very applications and arrival days sim's engines consume
(``sim.engine.population.sample_runs``), so its grants per program and year must equal
theirs on first-come pools; ``run.py`` asserts that.  Only first-come pools are modelled
(competitive and pro-rata rounds are skipped); shared firm caps, count limits and
all-or-nothing programs are refused.

Clock: days.  Budget years open at midnight (day ``year_start``); firms apply during the
day (``day + 0.5``), so a reset and an application never share an instant.  Firms that
apply on the same day are served in SimPy's scheduling order, not by firm number; that
can change who gets the partial grant, but not the totals per program and year, which
are all this baseline reports — provided a pool that runs dry serves one program and that
program is not one-time, top-up or duration-limited (so who was paid cannot change a
later claim), as in both benchmark scenarios.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import simpy

from sim.engine.outcomes import CANDIDATE
from sim.engine.population import Applications
from sim.scenario.model import Model


class Pools:
    """Balances of the first-come pools and what they granted, per (program, year)."""

    def __init__(self, model: Model):
        self.model = model
        self.balance: dict[int, int | None] = {}
        self.granted: dict[tuple[int, int], int] = defaultdict(int)
        self.exhausted_on: dict[tuple[int, int], int] = {}

    def open_year(self, year: int) -> None:
        for pool in self.model.pools:
            if pool.period == "year" or year == self.model.years[0]:
                self.balance[pool.index] = pool.budgets[year]

    def claim(self, program: int, year: int, want: int, day: int) -> int:
        pool = self.model.programs[program].pool
        balance = self.balance[pool]
        granted = want if balance is None else min(want, balance)
        if balance is not None:
            self.balance[pool] = balance - granted
            if balance - granted == 0:
                self.exhausted_on.setdefault((pool, year), day)
        self.granted[(program, year)] += granted
        return granted


def budget_years(env: simpy.Environment, model: Model, pools: Pools):
    for year in model.years:
        yield env.timeout(model.year_start[year] - env.now)
        pools.open_year(year)


def arrivals(env: simpy.Environment, model: Model, pools: Pools, arrival_days, claims: dict):
    for firm_id in np.argsort(arrival_days, kind="stable").tolist():
        yield env.timeout(int(arrival_days[firm_id]) - env.now)
        env.process(firm(env, model, pools, claims.get(firm_id, ())))


def firm(env: simpy.Environment, model: Model, pools: Pools, my_claims):
    """One firm: wait for each application day, ask, remember what it was paid."""
    paid: dict[int, int] = defaultdict(int)
    years_paid: dict[int, int] = defaultdict(int)
    for day, program, year, entitled in my_claims:
        yield env.timeout(day + 0.5 - env.now)
        spec = model.programs[program]
        want = entitled - paid[program] if spec.top_up else entitled
        if want <= 0 or (spec.one_time and paid[program] > 0) or (spec.max_years and years_paid[program] >= spec.max_years):
            continue  # nothing left to claim: the firm does not apply
        granted = pools.claim(program, year, want, day)
        if granted > 0:
            paid[program] += granted
            years_paid[program] += 1


def run(model: Model, apps: Applications, arrival_days: np.ndarray) -> Pools:
    """Simulate one run's first-come applications with a process per firm.

    ``arrival_days`` is the arrival day of each firm of the run, by firm number
    (``Sample.arrival_days``).
    """
    if model.firm_caps or any(p.count_limit is not None or p.program.all_or_nothing
                              for p in model.programs if model.pools[p.pool].rationing == "first_come"):
        raise ValueError("the baseline models plain first-come pools only")
    first_come = np.array([model.pools[p.pool].rationing == "first_come" for p in model.programs], dtype=bool)
    rows = np.flatnonzero((apps.status == CANDIDATE) & first_come[apps.program])
    rows = rows[np.lexsort((apps.program[rows], apps.day[rows]))]  # each firm's claims in time order
    claims: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
    columns = (apps.firm, apps.day, apps.program, apps.year, apps.entitled)
    for firm_id, day, program, year, entitled in zip(*(c[rows].tolist() for c in columns)):
        claims[firm_id].append((day, program, year, entitled))

    env = simpy.Environment()
    pools = Pools(model)
    env.process(budget_years(env, model, pools))
    env.process(arrivals(env, model, pools, arrival_days, claims))
    env.run()
    return pools


def first_come_programs(model: Model) -> list[int]:
    return [p.index for p in model.programs if model.pools[p.pool].rationing == "first_come"]
