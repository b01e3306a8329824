"""The fast engine: the SimPy engine's decisions, computed over whole arrays.

Pools do not interact, and within a pool and budget year the reference engine's
decisions follow from the order of the applications alone.  So instead of walking the
clock, this engine sorts a run's applications once by (year, pool, order key) and decides
each pool-year with cumulative sums: first-come pays in time order until the running
total reaches the balance (the application that crosses it gets the rest); a competitive
round does the same in rank order at its review date; a pro-rata round scales every
grant by balance / demand.  Count limits are ranks within a program; one-time awards,
top-ups and duration limits read the firm's payments in earlier years.

It gives the same tables as :mod:`sim.engine.simpy`, to the yuan (tests prove it on generated
scenarios).  Shared firm caps and all-or-nothing programs make one grant depend on the
grants before it in ways a running total does not capture; scenarios using them run on
the SimPy engine (:func:`supports` says which).
"""

from __future__ import annotations

import numpy as np

from sim.engine.decisions import Decisions, new_decisions
from sim.engine.outcomes import (
    CANDIDATE,
    COUNT_LIMIT,
    FULL,
    PARTIAL,
    POOL_EMPTY,
    RANKED_OUT,
    SKIPPED,
)
from sim.engine.population import Applications
from sim.scenario.model import Model


def supports(model: Model) -> str | None:
    """None if the fast engine can run the model, else the reason it cannot."""
    if model.firm_caps:
        return "shared firm caps (e.g. Baoding's 100万 a year across vouchers) need the SimPy engine"
    if any(p.program.all_or_nothing for p in model.programs):
        return "all-or-nothing programs need the SimPy engine"
    return None


class _Tables:
    """Per-program lookups as arrays, indexed by program."""

    def __init__(self, model: Model):
        progs = model.programs
        self.pool = np.array([p.pool for p in progs], dtype=np.int64)
        self.top_up = np.array([p.top_up for p in progs], dtype=bool)
        self.one_time = np.array([p.one_time for p in progs], dtype=bool)
        self.max_years = np.array([p.max_years or 0 for p in progs], dtype=np.int64)
        self.limit = np.array([p.count_limit if p.count_limit is not None else -1 for p in progs], dtype=np.int64)
        self.competitive = np.array([model.pools[p.pool].rationing == "competitive" for p in progs], dtype=bool)
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
        _decide(model, tables, apps, d, spec, year, rows, history and (history[0][a:b],) + history[1:], balance)
    return d.settled()


def _order(model: Model, t: _Tables, apps: Applications, cand: np.ndarray) -> np.ndarray:
    """Sort by year, pool, then time (day, firm, program) or, in a competitive pool, rank.

    The fields are packed into one int64 key when they fit (one argsort of unique keys
    is several times faster than a lexsort), else sorted with lexsort.
    """
    program = apps.program[cand].astype(np.int64)
    pool = t.pool[program]
    firm = apps.firm[cand].astype(np.int64)
    day = apps.day[cand].astype(np.int64)
    competitive = t.competitive[program]
    then = day
    if competitive.any():
        c = np.flatnonzero(competitive)
        ranked = c[np.lexsort((program[c], firm[c], day[c], -apps.score[cand][c]))]
        then = day.copy()
        then[ranked] = np.arange(len(ranked))  # a competitive pool's order is its ranking alone
        firm, program = np.where(competitive, 0, firm), np.where(competitive, 0, program)
    fields = [apps.year[cand].astype(np.int64) - model.years[0], pool, then, firm, program]
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


def _decide(model, t: _Tables, apps, d: Decisions, spec, year, rows, history, balance) -> None:
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
    in_limit = _within_count_limit(prog, t.limit[prog])
    if spec.rationing == "pro_rata":
        granted, outcome, after, dry = _pro_rata(want, in_limit, balance[spec.index])
        day = np.full(len(rows), spec.review[year], dtype=np.int32)
    else:
        ranked = spec.rationing == "competitive"
        granted, outcome, after, dry_at = _in_order(want, in_limit, prog, balance[spec.index], ranked)
        day = np.full(len(rows), spec.review[year], dtype=np.int32) if ranked else apps.day[rows]
        dry = dry_at is not None
        if dry:
            d.exhausted_on.setdefault((spec.index, year), int(day[dry_at]))
    if spec.rationing == "pro_rata" and dry:
        d.exhausted_on.setdefault((spec.index, year), int(spec.review[year]))
    if balance[spec.index] is not None:
        balance[spec.index] -= int(granted.sum())
    d.asked[rows] = want
    d.granted[rows] = granted
    d.outcome[rows] = outcome
    d.day[rows] = day
    d.balance[rows] = after
    if history is not None:
        np.add.at(paid, pairs, granted)
        np.add.at(years_paid, pairs, (granted > 0).astype(np.int64))


def _within_count_limit(prog: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """True for the first `limit` applications of each count-limited program, in order."""
    ok = np.ones(len(prog), dtype=bool)
    limited = limit >= 0
    if not limited.any():
        return ok
    rank = _cumcount(prog)
    ok[limited] = rank[limited] < limit[limited]
    return ok


def _cumcount(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2, … within each key, in the given order."""
    sorter = np.argsort(keys, kind="stable")
    sorted_keys = keys[sorter]
    starts = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(keys)), 0))
    out = np.empty(len(keys), dtype=np.int64)
    out[sorter] = np.arange(len(keys)) - first
    return out


def _in_order(want, in_limit, prog, balance, ranked):
    """First-come (time order) or competitive (rank order): pay while money lasts."""
    lost_pool = RANKED_OUT if ranked else POOL_EMPTY
    lost_count = RANKED_OUT if ranked else COUNT_LIMIT
    asks = np.where(in_limit, want, 0)
    n = len(want)
    if balance is None:
        granted, crossed = asks.copy(), n
    else:
        total = np.cumsum(asks)
        crossed = int(np.searchsorted(total, balance, side="left"))  # first index where the total reaches it
        granted = asks.copy()
        if crossed < n:
            granted[crossed] = balance - (int(total[crossed - 1]) if crossed > 0 else 0)
            granted[crossed + 1:] = 0
    outcome = np.where(granted == want, FULL, np.where(granted > 0, PARTIAL, lost_pool)).astype(np.int8)
    over = ~in_limit
    if over.any():
        # past the count limit: refused on the count if the program's last admitted place was
        # paid (the count was full when its turn came), else because the pool was already empty
        last = _last_admitted(prog, in_limit)
        full_count = (last >= 0) & (granted[np.maximum(last, 0)] > 0)
        outcome[over] = np.where(full_count[over], lost_count, lost_pool)
    after = np.full(n, -1, dtype=np.int64) if balance is None else balance - np.cumsum(granted)
    dry_at = crossed if balance is not None and crossed < n else None
    return granted, outcome, after, dry_at


def _last_admitted(prog: np.ndarray, in_limit: np.ndarray) -> np.ndarray:
    """For each application, the position of the last application its program admits."""
    out = np.full(len(prog), -1, dtype=np.int64)
    for p in np.unique(prog[~in_limit]).tolist():
        places = np.flatnonzero((prog == p) & in_limit)
        out[prog == p] = places[-1] if len(places) else -1
    return out


def _pro_rata(want, in_limit, balance):
    """Pro-rata round: everyone admitted is scaled by balance / total if the pool is short."""
    asks = np.where(in_limit, want, 0)
    total = int(asks.sum())
    short = balance is not None and total > balance
    if short:
        granted = np.array([a * balance // total for a in asks.tolist()], dtype=np.int64)
    else:
        granted = asks.copy()
    outcome = np.where(granted == want, FULL, np.where(granted > 0, PARTIAL, POOL_EMPTY)).astype(np.int8)
    outcome[~in_limit] = COUNT_LIMIT
    spent = int(granted.sum())
    after = np.full(len(want), -1 if balance is None else balance - spent, dtype=np.int64)
    dry = short or (balance is not None and spent > 0 and balance - spent == 0)
    return granted, outcome, after, dry
