"""The fast engine: the SimPy engine's decisions, computed over whole arrays.

Pools do not interact (a cap shared by several programs stays within one pool), and
within a pool and budget year the reference engine's decisions follow from the order of
the applications alone.  So instead of walking the clock, this engine sorts a run's
applications once by (year, pool, the pool's order: time or rank) and hands each
pool-year to its rationing rule's vectorised decision (:mod:`sim.engine.rationing`,
:mod:`sim.engine.vectorised`): cumulative sums for the pool, cumulative sums per firm for
shared caps, ranks within a program for count limits.  Between pool-years it carries
what the ledger carries: each pool's balance (opened by the pool-year rule,
:meth:`~sim.scenario.model.PoolSpec.openings`), what each firm was paid by each program
(one-time awards, top-ups, duration limits) and what it used of caps over the policy's
life.

It gives the same tables as :mod:`sim.engine.simpy`, to the yuan (tests prove it on
generated scenarios and on every shipped one).  :func:`supports` says which scenarios it
declines: a rationing rule without a vectorised decision, or a program under two shared
caps at once.
"""

from __future__ import annotations

import numpy as np

from sim.engine.decisions import Decisions, new_decisions
from sim.engine.outcomes import CANDIDATE, SKIPPED
from sim.engine.population import Applications
from sim.engine.rationing import order_keys, rule_of
from sim.engine.vectorised import Cap, PoolYear
from sim.scenario.model import Model


def supports(model: Model) -> str | None:
    """None if the fast engine can run the model, else the reason it cannot."""
    for pool in model.pools:
        rule = rule_of(pool)
        if rule.vectorised is None:
            return f"pool {pool.key}: {rule.name} rationing has no vectorised decision"
    for p in model.programs:
        if len(p.firm_caps) > 1:
            return f"{p.key} is under {len(p.firm_caps)} caps shared with other programs; the fast engine takes one a program"
    return None


class _Tables:
    """Per-program and per-pool lookups as arrays, indexed by program or pool."""

    def __init__(self, model: Model):
        progs = model.programs
        self.rules = [rule_of(pool) for pool in model.pools]
        self.pool = np.array([p.pool for p in progs], dtype=np.int64)
        self.top_up = np.array([p.top_up for p in progs], dtype=bool)
        self.one_time = np.array([p.one_time for p in progs], dtype=bool)
        self.max_years = np.array([p.max_years or 0 for p in progs], dtype=np.int64)
        self.limit = np.array([p.count_limit if p.count_limit is not None else -1 for p in progs], dtype=np.int64)
        self.all_or_nothing = np.array([p.program.all_or_nothing for p in progs], dtype=bool)
        self.cap = np.array([p.firm_caps[0] if p.firm_caps else -1 for p in progs], dtype=np.int64)
        self.ranked = np.array([self.rules[p.pool].order == "rank" for p in progs], dtype=bool)
        self.history = bool(self.top_up.any() or self.one_time.any() or (self.max_years > 0).any())


def run(model: Model, apps: Applications) -> Decisions:
    """Decide every application of one run; same result as :func:`sim.engine.simpy.run`."""
    reason = supports(model)
    if reason:
        raise ValueError(reason)
    tables = model.cache.get("fast") or model.cache.setdefault("fast", _Tables(model))
    d = new_decisions(apps)
    cand = np.flatnonzero(apps.status == CANDIDATE)
    if len(cand) == 0:
        return d.settled()
    cand = cand[_order(model, tables, apps, cand)]
    history = None
    if tables.history:
        pair = np.unique(apps.firm[cand] * len(model.programs) + apps.program[cand], return_inverse=True)[1]
        history = (pair, np.zeros(pair.max() + 1, dtype=np.int64), np.zeros(pair.max() + 1, dtype=np.int64))
    firms = int(apps.firm.max()) + 1
    life_caps = {c.index: np.zeros(firms, dtype=np.int64) for c in model.firm_caps if c.period != "year"}
    group = apps.year[cand].astype(np.int64) * len(model.pools) + tables.pool[apps.program[cand]]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], len(cand)]
    balance: list[int | None] = [None] * len(model.pools)
    opened: set[tuple[int, int]] = set()
    for a, b in zip(starts.tolist(), ends.tolist()):
        rows = cand[a:b]
        spec = model.pools[int(tables.pool[apps.program[rows[0]]])]
        year = int(apps.year[rows[0]])
        _open(model, spec, year, balance, opened)
        _decide(model, tables, apps, d, spec, year, rows, history and (history[0][a:b],) + history[1:], balance, life_caps)
    return d.settled()


def _order(model: Model, t: _Tables, apps: Applications, cand: np.ndarray) -> np.ndarray:
    """Sort by year, pool, then the pool's order: time (day, firm, program) or rank.

    The fields are packed into one int64 key when they fit (one argsort of unique keys
    is several times faster than a lexsort), else sorted with lexsort.
    """
    program = apps.program[cand].astype(np.int64)
    pool = t.pool[program]
    firm = apps.firm[cand].astype(np.int64)
    day = apps.day[cand].astype(np.int64)
    ranked = t.ranked[program]
    then = day
    if ranked.any():
        r = np.flatnonzero(ranked)
        by_rank = r[np.lexsort(order_keys("rank", apps, cand[r]))]
        then = day.copy()
        then[by_rank] = np.arange(len(by_rank))  # a ranked pool's order is its ranking alone
        firm, program = np.where(ranked, 0, firm), np.where(ranked, 0, program)
    fields = [apps.year[cand].astype(np.int64) - model.years[0], pool, then, firm, program]  # time: day, firm, program
    widths = [max(int(f.max()), 1).bit_length() for f in fields]
    if sum(widths) > 62:
        return np.lexsort(fields[::-1])
    key = np.zeros(len(cand), dtype=np.int64)
    for field, width in zip(fields, widths):
        key = (key << width) | field
    return np.argsort(key)


def _open(model: Model, spec, year: int, balance: list, opened: set) -> None:
    """Open the pool for every budget year up to ``year`` not yet opened, as the resets do."""
    openings = spec.openings()
    for y in model.years:
        if y > year or (spec.index, y) in opened:
            continue
        opened.add((spec.index, y))
        if y in openings:
            balance[spec.index] = openings[y]


def _decide(model, t: _Tables, apps, d: Decisions, spec, year, rows, history, balance, life_caps) -> None:
    """One pool-year: the firms' history first, then the pool's rule over what is left."""
    prog = apps.program[rows]
    want = apps.entitled[rows]
    if history is not None:
        pairs, paid, years_paid = history
        before = paid[pairs]
        want = np.where(t.top_up[prog], want - before, want)
        skip = np.where(t.top_up[prog], want <= 0,
                        (t.one_time[prog] & (before > 0)) | ((t.max_years[prog] > 0) & (years_paid[pairs] >= t.max_years[prog])))
        d.outcome[rows[skip]] = SKIPPED
        keep = ~skip
        rows, pairs, prog, want = rows[keep], pairs[keep], prog[keep], want[keep]
    if len(rows) == 0:
        return
    rule = t.rules[spec.index]
    day = np.full(len(rows), spec.review[year], dtype=np.int32) if rule.round else apps.day[rows]
    caps = _caps(model, t, apps, rows, prog, life_caps)
    out = rule.vectorised(PoolYear(want=want, program=prog, limit=t.limit[prog], all_or_nothing=t.all_or_nothing[prog],
                                   day=day, caps=tuple(cap for _, cap in caps), balance=balance[spec.index]))
    if out.dry_day is not None:
        d.exhausted_on.setdefault((spec.index, year), out.dry_day)
    if balance[spec.index] is not None:
        balance[spec.index] -= int(out.granted.sum())
    d.asked[rows] = want
    d.granted[rows] = out.granted
    d.outcome[rows] = out.outcome
    d.day[rows] = day
    d.balance[rows] = out.after
    if history is not None:  # a firm claims a program once a year: each pair appears once here
        paid[pairs] += out.granted
        years_paid[pairs] += out.granted > 0
    for cap_index, cap in caps:
        if cap_index in life_caps:
            np.add.at(life_caps[cap_index], cap.firm, out.granted[cap.rows])


def _caps(model: Model, t: _Tables, apps: Applications, rows: np.ndarray, prog: np.ndarray, life_caps: dict) -> list[tuple[int, Cap]]:
    """The shared caps over the pool-year's applications, with what each firm used of them before.

    A cap for the year starts from nothing each budget year; one over the policy's life
    starts from what the firm was granted under it in earlier years.
    """
    if not model.firm_caps:
        return []
    which = t.cap[prog]
    out = []
    for c in np.unique(which[which >= 0]).tolist():
        at = np.flatnonzero(which == c)
        firm = apps.firm[rows[at]]
        used = life_caps[c][firm] if c in life_caps else np.zeros(len(at), dtype=np.int64)
        out.append((c, Cap.over(model.firm_caps[c].amount, at, firm, used)))
    return out
