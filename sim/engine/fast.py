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
        # per pool: whether any of its programs has a count limit, pays all or nothing
        self.limited = [bool((self.limit[list(pool.programs)] >= 0).any()) for pool in model.pools]
        self.whole = [bool(self.all_or_nothing[list(pool.programs)].any()) for pool in model.pools]
        self.caps = [sorted({c for p in pool.programs for c in progs[p].firm_caps}) for pool in model.pools]
        remember = self.top_up | self.one_time | (self.max_years > 0)
        self.remembers = [bool(remember[list(pool.programs)].any()) for pool in model.pools]
        self.reason = supports(model)


def run(model: Model, apps: Applications) -> Decisions:
    """Decide every application of one run; same result as :func:`sim.engine.simpy.run`."""
    tables = model.cache.get("fast") or model.cache.setdefault("fast", _Tables(model))
    if tables.reason:
        raise ValueError(tables.reason)
    d = new_decisions(apps)
    cand = np.flatnonzero(apps.status == CANDIDATE)
    if len(cand) == 0:
        return d.settled()
    cand = cand[_order(model, tables, apps, cand)]
    run = _Run(model, tables, apps, cand)
    group = run.year.astype(np.int64) * len(model.pools) + tables.pool[run.program]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], len(cand)]
    for a, b in zip(starts.tolist(), ends.tolist()):
        spec = model.pools[int(tables.pool[run.program[a]])]
        year = int(run.year[a])
        _open(model, spec, year, run.balance, run.opened)
        _decide(model, tables, run, spec, year, a, b)
    d.asked[cand], d.granted[cand], d.outcome[cand] = run.asked, run.granted, run.outcome
    d.day[cand], d.balance[cand] = run.day, run.after
    d.exhausted_on = run.exhausted_on
    return d.settled()


class _Run:
    """One run's candidates in the order they are decided, and what carries from one pool-year to the next."""

    def __init__(self, model: Model, t: _Tables, apps: Applications, cand: np.ndarray):
        self.program = apps.program[cand]
        self.firm = apps.firm[cand]
        self.year = apps.year[cand]
        self.asked = apps.entitled[cand]  # becomes what each asks (an earlier top-up deducted)
        self.granted = np.zeros(len(cand), dtype=np.int64)
        self.outcome = np.full(len(cand), CANDIDATE, dtype=np.int8)
        self.day = apps.day[cand]  # becomes the day each is decided
        self.after = np.full(len(cand), -1, dtype=np.int64)  # the pool's balance after each
        self.exhausted_on: dict[tuple[int, int], int] = {}
        self.balance: list[int | None] = [None] * len(model.pools)
        self.opened: set[tuple[int, int]] = set()
        if t.history:  # what each firm was paid by each program, and in how many years
            self.pair = np.unique(self.firm * len(model.programs) + self.program, return_inverse=True)[1]
            self.paid = np.zeros(self.pair.max() + 1, dtype=np.int64)
            self.years_paid = np.zeros(self.pair.max() + 1, dtype=np.int64)
        firms = int(apps.firm.max()) + 1
        self.life_caps = {c.index: np.zeros(firms, dtype=np.int64) for c in model.firm_caps if c.period != "year"}


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


def _decide(model: Model, t: _Tables, run: _Run, spec, year: int, a: int, b: int) -> None:
    """One pool-year, the run's rows a…b: the firms' history first, then the pool's rule over what is left."""
    rows = slice(a, b)
    prog, want = run.program[rows], run.asked[rows]
    remembers = t.remembers[spec.index]
    if remembers:
        pairs = run.pair[rows]
        before = run.paid[pairs]
        want = np.where(t.top_up[prog], want - before, want)
        skip = np.where(t.top_up[prog], want <= 0,
                        (t.one_time[prog] & (before > 0)) | ((t.max_years[prog] > 0) & (run.years_paid[pairs] >= t.max_years[prog])))
        if skip.any():
            run.outcome[rows][skip] = SKIPPED
            keep = np.flatnonzero(~skip)
            rows, pairs, prog, want = keep + a, pairs[keep], prog[keep], want[keep]
            if len(keep) == 0:
                return
    rule = t.rules[spec.index]
    day = np.full(len(want), spec.review[year], dtype=np.int32) if rule.round else run.day[rows]
    caps = _caps(model, t, run, t.caps[spec.index], rows, prog)
    out = rule.vectorised(PoolYear(
        want=want, program=prog, day=day, balance=run.balance[spec.index],
        limit=t.limit[prog] if t.limited[spec.index] else None,
        all_or_nothing=t.all_or_nothing[prog] if t.whole[spec.index] else None,
        caps=tuple(cap for _, cap in caps)))
    if out.dry_day is not None:
        run.exhausted_on.setdefault((spec.index, year), out.dry_day)
    if run.balance[spec.index] is not None:
        run.balance[spec.index] -= int(out.granted.sum())
    run.asked[rows], run.granted[rows], run.outcome[rows], run.day[rows], run.after[rows] = (
        want, out.granted, out.outcome, day, out.after)
    if remembers:  # a firm claims a program once a year: each pair appears once here
        run.paid[pairs] += out.granted
        run.years_paid[pairs] += out.granted > 0
    for cap_index, cap in caps:
        if cap_index in run.life_caps:
            np.add.at(run.life_caps[cap_index], cap.firm, out.granted[cap.rows])


def _caps(model: Model, t: _Tables, run: _Run, pool_caps: list[int], rows, prog: np.ndarray) -> list[tuple[int, Cap]]:
    """The pool's shared caps over the pool-year's applications, with what each firm used of them before.

    A cap for the year starts from nothing each budget year; one over the policy's life
    starts from what the firm was granted under it in earlier years.
    """
    out = []
    for c in pool_caps:
        at = np.flatnonzero(t.cap[prog] == c)
        if len(at) == 0:
            continue
        firm = run.firm[rows][at]
        used = run.life_caps[c][firm] if c in run.life_caps else np.zeros(len(at), dtype=np.int64)
        out.append((c, Cap.over(model.firm_caps[c].amount, at, firm, used)))
    return out
