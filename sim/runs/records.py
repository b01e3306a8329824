"""Records: runs' decisions summed into the tables a finance department reads.

Per program and budget year: demand (what the applications asked), payable demand (what
the pool would have granted had its money been unlimited), grants, and how many were paid
in full, in part or refused.  Per pool and year: budget, grants, what is left,
and the day it ran dry.  Per funder and year: each grant split by the program's funding
shares, to the yuan (shares rounded down, the remainder to the last funder named), so
the funders' amounts always add up to the grant.  Optionally every decision, as a ledger.

Cash (:mod:`sim.engine.payments`): each grant is split by funder first, then each part is
paid on the days its program's timing gives.  Per program, funder and fiscal year — the
horizon's years and the later years of the tail — what is committed (granted, in the
budget year decided), paid, outstanding at the year's end and lapsed; per pool, funder and
month, what is paid; optionally every payment and lapse.  Over the whole tail paid +
lapsed = committed, to the yuan, for every program and funder.

Rows cover every program, pool and funder in every year (and every pool and funder in
every month), zeros included, so that quantiles over runs count the runs where nothing
happened.  The runs of a sample are summed together, each application carrying its run,
so the work does not grow with the number of runs in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine import payments
from sim.engine.decisions import Decisions
from sim.engine.outcomes import DECIDED, EXPOSURE, FULL, OUTCOMES, PARTIAL, SKIPPED
from sim.engine.population import Applications, Sample
from sim.engine.rationing import rule_of
from sim.engine.vectorised import Cap, PoolYear
from sim.scenario.model import Model

REFUSED = tuple(o for o in DECIDED if o not in (FULL, PARTIAL))


def collect(model: Model, run: int, apps: Applications, decisions: Decisions, *, events: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """One run's tables as columns of numpy arrays (strings as index codes, see storage)."""
    return _tables(model, np.array([run]), np.zeros(len(apps), dtype=np.int64), apps, [decisions], events)


def collect_runs(model: Model, sample: Sample, decisions: list[Decisions], *, events: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """The tables of every run of a sample at once, rows in run order: what :func:`collect` gives run by run.

    ``decisions`` holds each run's decisions, in run order.
    """
    return _tables(model, np.arange(sample.first, sample.last), sample.at, sample.apps, decisions, events, sample.values)


def _tables(model: Model, runs: np.ndarray, at: np.ndarray, apps: Applications, decisions: list[Decisions],
            events: bool, values: dict[str, np.ndarray] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Tables of ``runs``: ``at`` is each application's run (an index into ``runs``).

    ``values`` are the assumptions the sampler took per run (:attr:`Sample.values`); the
    payment lags and lapses read theirs.
    """
    d = decisions[0] if len(decisions) == 1 else _joined(decisions, events)
    decided = _DECIDED[d.outcome + 1]
    programs = _program_years(model, runs, at, apps, d, decided)
    out = {
        "program_years": programs,
        "pool_years": _pool_years(model, runs, programs, [x.exhausted_on for x in decisions]),
        "funder_years": _funder_years(model, runs, at, apps, d, decided, programs),
    }
    out.update(_cash(model, runs, at, apps, d, decided, events, programs, values or {}))
    if events:
        out["awards"] = _awards(model, runs, at, apps, d)
    return out


@dataclass
class _Joined:
    """The decisions of several runs, one after the other (rows match the sample's applications)."""

    asked: np.ndarray
    granted: np.ndarray
    outcome: np.ndarray
    day: np.ndarray  # the day decided: the payments start from it
    place: np.ndarray  # the place among its pool-year's decisions: payable demand keeps the engines' order
    balance: np.ndarray | None  # only the awards need the balance


def _joined(decisions: list[Decisions], events: bool) -> _Joined:
    fields = ("asked", "granted", "outcome", "day", "place") + (("balance",) if events else ())
    joined = {k: np.concatenate([getattr(x, k) for x in decisions]) for k in fields}
    return _Joined(**joined, **({} if events else {"balance": None}))


# outcome code + 1 (SKIPPED is -1) → whether the pool decided the application
_DECIDED = np.zeros(len(OUTCOMES) + 1, dtype=bool)
_DECIDED[np.array(DECIDED) + 1] = True


def _sum(cells: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    if weights is None:
        return np.bincount(cells, minlength=size).astype(np.int64)
    # bincount sums in float64; amounts stay far below 2**53 per cell, so the sum is exact
    return np.rint(np.bincount(cells, weights=weights.astype(np.float64), minlength=size)).astype(np.int64)


def _program_years(model: Model, runs: np.ndarray, at: np.ndarray, apps: Applications, d: Decisions | _Joined,
                   decided: np.ndarray) -> dict[str, np.ndarray]:
    n_years, n_programs = len(model.years), len(model.programs)
    size = len(runs) * n_programs * n_years
    cells = (at * n_programs + apps.program) * n_years + (apps.year - model.years[0])
    # one count per (cell, outcome) instead of one pass over the applications per column
    codes = len(OUTCOMES) + 1
    counts = np.bincount(cells * codes + (d.outcome + 1), minlength=size * codes).reshape(size, codes)
    every = decided.all()
    cells = cells if every else cells[decided]
    payable = _payable(model, at, apps, d, decided)
    return {
        "run": np.repeat(runs, n_programs * n_years).astype(np.int32),
        "year": np.tile(np.array(model.years, dtype=np.int32), len(runs) * n_programs),
        "program_index": np.tile(np.repeat(np.arange(n_programs, dtype=np.int32), n_years), len(runs)),
        "demand_yuan": _sum(cells, d.asked if every else d.asked[decided], size),
        "payable_yuan": _sum(cells, payable if every else payable[decided], size),
        "granted_yuan": _sum(cells, d.granted if every else d.granted[decided], size),
        "applications": counts[:, _MADE].sum(axis=1),
        "full": counts[:, FULL + 1],
        "partial": counts[:, PARTIAL + 1],
        "refused": counts[:, _REFUSED].sum(axis=1),
    }


def _payable(model: Model, at: np.ndarray, apps: Applications, d: Decisions | _Joined, decided: np.ndarray) -> np.ndarray:
    """What each application would have been granted had its pool's money been unlimited in its year.

    The budget needed is a budget for what a pool can pay, not for all that is asked: a
    competitive call that pays at most 10 projects of 250万 needs at most 2500万 however
    many apply.  So per pool and year, the same applications the pool decided (those the
    firms' history skipped — a one-time award already paid — left out, a top-up asking only
    the difference) are decided again by the pool's own rule (:mod:`sim.engine.rationing`)
    with no limit on its balance, in the order the engine decided them (their ``place``:
    time or rank, and an application a 不重复 group held is where its release put it): the
    count limits take the first N, caps shared by programs bind per firm as they do in the
    engines (a cap over the policy's life from what the firm was granted in earlier years).
    A first-come or pro-rata pool with neither gives what was asked.  Computed once from
    the decisions, so both engines give the same.  Every pool-year of every run of the
    batch is decided in one call: runs and years are folded into the keys of programs and
    firms.
    """
    payable = np.where(decided, d.asked, 0)
    limits = _limits(model)
    pool_of = limits.pool_of[apps.program]
    for pool in model.pools:
        if not limits.needed[pool.index]:
            continue
        rows = np.flatnonzero(decided & (pool_of == pool.index))
        if len(rows) == 0:
            continue
        rule = rule_of(pool)
        rows = rows[np.lexsort((d.place[rows], apps.year[rows], at[rows]))]
        group = at[rows].astype(np.int64) * len(model.years) + (apps.year[rows] - model.years[0])  # run and year
        program = apps.program[rows].astype(np.int64)
        caps = tuple(_cap(model, c, rows, group, at, apps, d, decided) for c in limits.caps[pool.index])
        decided_unlimited = rule.vectorised(PoolYear(
            want=d.asked[rows], program=group * len(model.programs) + program, day=np.zeros(len(rows), dtype=np.int32),
            balance=None, seg=group, limit=limits.limit[program], caps=tuple(c for c in caps if c is not None)))
        payable[rows] = decided_unlimited.granted
    return payable


class _Limits:
    """Per model: each program's pool and count limit, and per pool its shared caps and whether it has any limit."""

    def __init__(self, model: Model):
        self.pool_of = np.array([p.pool for p in model.programs], dtype=np.int64)
        self.limit = np.array([p.count_limit if p.count_limit is not None else -1 for p in model.programs], dtype=np.int64)
        self.caps = [sorted({c for m in pool.programs for c in model.programs[m].firm_caps}) for pool in model.pools]
        self.needed = [bool(self.caps[pool.index]) or bool((self.limit[list(pool.programs)] >= 0).any())
                       for pool in model.pools]


def _limits(model: Model) -> _Limits:
    return model.cache.get("payable") or model.cache.setdefault("payable", _Limits(model))


def _cap(model: Model, index: int, rows: np.ndarray, group: np.ndarray, at: np.ndarray, apps: Applications,
         d: Decisions | _Joined, decided: np.ndarray) -> Cap | None:
    """A shared cap over a pool's rows (in order), firms keyed by run and year, with what each had used before the year."""
    spec = model.firm_caps[index]
    under = np.isin(apps.program[rows], spec.programs)
    at_rows = np.flatnonzero(under)
    if len(at_rows) == 0:
        return None
    firms = int(apps.firm.max()) + 1
    firm = apps.firm[rows[at_rows]].astype(np.int64)
    used = np.zeros(len(at_rows), dtype=np.int64)
    if spec.period != "year":  # over the policy's life: what the firm was granted under it in earlier years
        n_years = len(model.years)
        paid = np.flatnonzero(decided & np.isin(apps.program, spec.programs) & (d.granted > 0))
        cells = (at[paid].astype(np.int64) * firms + apps.firm[paid]) * n_years + (apps.year[paid] - model.years[0])
        size = (int(at.max()) + 1) * firms * n_years
        by_year = np.bincount(cells, weights=d.granted[paid].astype(np.float64), minlength=size).reshape(-1, n_years)
        before = np.rint(np.cumsum(by_year, axis=1) - by_year).astype(np.int64)
        year = apps.year[rows[at_rows]] - model.years[0]
        used = before[at[rows[at_rows]].astype(np.int64) * firms + firm, year]
    return Cap.over(spec.amount, at_rows, group[at_rows] * firms + firm, used)


_MADE = np.array(DECIDED + (EXPOSURE,)) + 1
_REFUSED = np.array(REFUSED) + 1


def _pool_years(model: Model, runs: np.ndarray, program_years: dict[str, np.ndarray],
                exhausted_on: list[dict[tuple[int, int], int]]) -> dict[str, np.ndarray]:
    """Pool totals from the program totals (each program draws on one pool), every run at once."""
    n_runs, n_years, n_pools = len(runs), len(model.years), len(model.pools)
    by_program = program_years["granted_yuan"].reshape(n_runs, len(model.programs), n_years)
    granted = np.zeros((n_runs, n_pools, n_years), dtype=np.int64)
    budget = np.full(granted.shape, -1, dtype=np.int64)
    remaining = np.full(granted.shape, -1, dtype=np.int64)
    exhausted = np.full(granted.shape, -1, dtype=np.int32)
    for pool in model.pools:
        granted[:, pool.index] = by_program[:, list(pool.programs)].sum(axis=1)
        openings = pool.openings()
        balance = None
        for yi, year in enumerate(model.years):
            if year in openings:
                balance = openings[year]
            if balance is not None:
                budget[:, pool.index, yi] = balance
                balance = balance - granted[:, pool.index, yi]
                remaining[:, pool.index, yi] = balance
    for b, days in enumerate(exhausted_on):
        for (pool, year), day in days.items():
            exhausted[b, pool, year - model.years[0]] = day
    return {
        "run": np.repeat(runs, n_pools * n_years).astype(np.int32),
        "year": np.tile(np.array(model.years, dtype=np.int32), n_runs * n_pools),
        "pool_index": np.tile(np.repeat(np.arange(n_pools, dtype=np.int32), n_years), n_runs),
        "budget_yuan": budget.ravel(),
        "granted_yuan": granted.ravel(),
        "remaining_yuan": remaining.ravel(),
        "exhausted_day": exhausted.ravel(),
    }


class _Lookups:
    """Per-model arrays: funding shares per (program, case) row."""

    def __init__(self, model: Model):
        self.cases = max((len(p.funding) for p in model.programs), default=1)
        rows = len(model.programs) * self.cases
        column = {f: i for i, f in enumerate(model.funders)}
        self.num = np.zeros((rows, len(model.funders)), dtype=np.int64)
        self.den = np.ones((rows, len(model.funders)), dtype=np.int64)
        self.last = np.zeros(rows, dtype=np.int64)
        for spec in model.programs:
            for case, shares in enumerate(spec.funding):
                row = spec.index * self.cases + case
                for funder, share in shares:
                    self.num[row, column[funder]] = share.numerator
                    self.den[row, column[funder]] = share.denominator
                if shares:
                    self.last[row] = column[shares[-1][0]]
        self.single = (self.num == self.den).any(axis=1)  # one funder pays the whole grant
        # the funder paying every grant of a program whatever its case, else -1
        self.sole = np.full(len(model.programs), -1, dtype=np.int64)
        for spec in model.programs:
            rows = spec.index * self.cases + np.arange(len(spec.funding))
            if len(rows) and self.single[rows].all() and (self.last[rows] == self.last[rows[0]]).all():
                self.sole[spec.index] = self.last[rows[0]]


def _lookups(model: Model) -> _Lookups:
    return model.cache.get("records") or model.cache.setdefault("records", _Lookups(model))


def funder_split(model: Model, apps: Applications, granted: np.ndarray) -> np.ndarray:
    """Grants split by funder: an (applications × funders) int64 array whose rows sum to the grant.

    Each funder's share is rounded down to the yuan; the last funder the policy names gets
    what is left, so the parts always add up to the grant.
    """
    return _split(_lookups(model), _rows(model, apps.program, apps.case), granted)


def _rows(model: Model, program: np.ndarray, case: np.ndarray) -> np.ndarray:
    return program.astype(np.int64) * _lookups(model).cases + case


def _split(look: _Lookups, row: np.ndarray, granted: np.ndarray) -> np.ndarray:
    parts = granted[:, None] * look.num[row] // look.den[row]
    n = np.arange(len(granted))
    parts[n, look.last[row]] = 0
    parts[n, look.last[row]] = granted - parts.sum(axis=1)
    return parts


def _parts(look: _Lookups, row: np.ndarray, granted: np.ndarray) -> np.ndarray:
    """:func:`funder_split` of many grants: a grant with one funder goes to it whole, only shared ones are split."""
    parts = np.zeros((len(granted), look.num.shape[1]), dtype=np.int64)
    alone = look.single[row]
    one = np.flatnonzero(alone)
    parts[one, look.last[row[one]]] = granted[one]
    shared = np.flatnonzero(~alone)
    if len(shared):
        parts[shared] = _split(look, row[shared], granted[shared])
    return parts


def _funder_years(model: Model, runs: np.ndarray, at: np.ndarray, apps: Applications, d: Decisions | _Joined,
                  decided: np.ndarray, program_years: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    n_runs, n_years, n_funders = len(runs), len(model.years), len(model.funders)
    look = _lookups(model)
    # a program with one funder for all its grants gives it its whole total
    table = np.zeros((n_runs, n_funders, n_years), dtype=np.int64)
    by_program = program_years["granted_yuan"].reshape(n_runs, len(model.programs), n_years)
    for program in np.flatnonzero(look.sole >= 0):
        table[:, look.sole[program]] += by_program[:, program]
    table = table.ravel()
    if (look.sole >= 0).all():
        paid = np.zeros(0, dtype=np.int64)
    else:  # the others, grant by grant: one funder takes a grant whole; shared grants are split
        paid = np.flatnonzero(decided & (d.granted > 0) & (look.sole[apps.program] < 0))
    if len(paid):
        row = _rows(model, apps.program[paid], apps.case[paid])
        granted = d.granted[paid]
        first = at[paid] * (n_funders * n_years) + (apps.year[paid].astype(np.int64) - model.years[0])  # funder 0's cell
        alone = look.single[row]
        table += _sum(first[alone] + look.last[row[alone]] * n_years, granted[alone], len(table))
        if not alone.all():
            shared = ~alone
            parts = _split(look, row[shared], granted[shared])
            for f in range(n_funders):
                table += _sum(first[shared] + f * n_years, parts[:, f], len(table))
    return {
        "run": np.repeat(runs, n_funders * n_years).astype(np.int32),
        "year": np.tile(np.array(model.years, dtype=np.int32), n_runs * n_funders),
        "funder_index": np.tile(np.repeat(np.arange(n_funders, dtype=np.int32), n_years), n_runs),
        "granted_yuan": table,
    }


NOW_ALONE, NOW_SHARED, LATER = 0, 1, 2  # a grant paid whole at the decision by one funder, by several, or later


class _Calendar:
    """Per-model arrays for cash: each day's fiscal year and month, and who funds what.

    The cash tables have rows for the programs some segment takes up, and their pools,
    each with the funders of its funding shares: programs nobody applies to never pay.
    """

    def __init__(self, model: Model):
        start = np.datetime64(model.start, "D")
        last = np.datetime64(f"{model.cash_years[-1]}-12-31", "D")
        dates = start + np.arange(int((last - start).astype(np.int64)) + 1)
        self.year = dates.astype("datetime64[Y]").astype(np.int64) + 1970 - model.years[0]  # index into cash_years
        first_month = start.astype("datetime64[M]")
        self.month = (dates.astype("datetime64[M]") - first_month).astype(np.int64)
        self.months = int(self.month[-1]) + 1
        look = _lookups(model)
        funds = look.num > 0  # (program × case) rows × funders
        funds[np.arange(len(look.last)), look.last] = True
        # program × funder: who funds the program, for programs some segment takes up (the others never pay)
        taken = {key for segment in model.scenario.spec.segments for key in segment.take_up}
        self.funds = np.zeros((len(model.programs), len(model.funders)), dtype=bool)
        for spec in model.programs:
            cases = spec.index * look.cases + np.arange(max(len(spec.funding), 1))
            self.funds[spec.index] = funds[cases].any(axis=0) & (spec.key in taken)
        self.pool_of = np.array([p.pool for p in model.programs], dtype=np.int64)
        pool_funds = np.zeros((len(model.pools), len(model.funders)), dtype=bool)  # pool × funder
        for spec in model.programs:
            pool_funds[spec.pool] |= self.funds[spec.index]
        self.program_funders = np.nonzero(self.funds)  # the (program, funder) pairs with rows, in order
        self.pool_funders = np.nonzero(pool_funds)
        self.pair = _numbered(self.funds)  # program × funder → its pair's number, -1 if none
        self.pool_pair = _numbered(pool_funds)
        later = np.array([spec.pays_on != "decision" for spec in model.programs], dtype=bool)
        self.now_pairs = ~later[self.program_funders[0]]  # pairs whose program pays at the decision
        in_play = np.flatnonzero((look.sole >= 0) & self.funds.any(axis=1))
        self.sole_programs = in_play  # programs taken up whose grants one funder pays whole, and that pair
        self.sole_pairs = self.pair[in_play, look.sole[in_play]]
        # how each program's grants are summed: paid at the decision by one funder, by several, or later
        self.kind = np.where(later, LATER, np.where(look.sole >= 0, NOW_ALONE, NOW_SHARED)).astype(np.int8)
        self.mixed = bool((self.kind[self.funds.any(axis=1)] != NOW_ALONE).any())
        self.alone_pool_pair = np.where(look.sole >= 0, self.pool_pair[self.pool_of, np.maximum(look.sole, 0)], -1)


def _numbered(mask: np.ndarray) -> np.ndarray:
    out = np.full(mask.shape, -1, dtype=np.int64)
    out[mask] = np.arange(int(mask.sum()))
    return out


def _calendar(model: Model) -> _Calendar:
    return model.cache.get("cash_calendar") or model.cache.setdefault("cash_calendar", _Calendar(model))


def _cash(model: Model, runs: np.ndarray, at: np.ndarray, apps: Applications, d: Decisions | _Joined,
          decided: np.ndarray, events: bool, program_years: dict[str, np.ndarray],
          values: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """cash_years and cash_months (and payments, with events) of the runs' grants.

    Most grants are paid whole on the day they are decided: their commitments are the
    program totals already summed (split grant by grant only where a program has several
    funders), their cash is the same amounts in the same year, and only their months need a
    pass over the grants.  Grants paid later are scheduled by :func:`sim.engine.payments.pay`.
    """
    cal, look = _calendar(model), _lookups(model)
    n_runs, n_years, horizon = len(runs), len(model.cash_years), len(model.years)
    pair_program, pair_funder = cal.program_funders
    shape = (n_runs, len(pair_program), n_years)
    g = np.flatnonzero(decided & (d.granted > 0))
    program = apps.program[g]
    kind = cal.kind[program] if cal.mixed else None  # NOW_ALONE, NOW_SHARED or LATER; else all NOW_ALONE
    groups = {k: np.flatnonzero(kind == k) for k in (NOW_SHARED, LATER)} if cal.mixed else {}

    def parts(rows: np.ndarray) -> np.ndarray:
        return _parts(look, _rows(model, program[rows], apps.case[g[rows]]), d.granted[g[rows]])

    committed = np.zeros(shape, dtype=np.int64)
    by_program = program_years["granted_yuan"].reshape(n_runs, len(model.programs), horizon)
    committed[:, cal.sole_pairs, :horizon] = by_program[:, cal.sole_programs, :]
    split = np.flatnonzero(look.sole[program] < 0) if cal.mixed else np.zeros(0, dtype=np.int64)
    if len(split):
        year = apps.year[g[split]].astype(np.int64) - model.years[0]
        committed += _by_pair(at[g[split]], program[split], parts(split), cal.pair, year, n_years, n_runs).reshape(shape)
    paid = np.where(cal.now_pairs[None, :, None], committed, 0)
    lapsed = np.zeros(shape, dtype=np.int64)
    pools = len(cal.pool_funders[0])
    months = np.zeros(n_runs * pools * cal.months, dtype=np.int64)
    alone = np.flatnonzero(kind == NOW_ALONE) if cal.mixed else slice(None)
    rows = g[alone]
    months += _sum((at[rows] * pools + cal.alone_pool_pair[program[alone]]) * cal.months + cal.month[d.day[rows]],
                   d.granted[rows], len(months))
    shared = groups.get(NOW_SHARED, ())
    if len(shared):
        months += _by_pair(at[g[shared]], cal.pool_of[program[shared]], parts(shared), cal.pool_pair,
                           cal.month[d.day[g[shared]]], cal.months, n_runs)
    every = None
    if events:  # the payments table: every grant scheduled, once
        every = payments.pay(model, runs, at[g], apps.firm[g], program, apps.year[g], d.day[g], parts(np.arange(len(g))),
                             values=values)
    rest = groups.get(LATER, ())
    if len(rest):
        rows = g[rest]
        if every is None:
            p = payments.pay(model, runs, at[rows], apps.firm[rows], program[rest], apps.year[rows], d.day[rows], parts(rest),
                             values=values)
        else:  # their rows of every grant's schedule: each grant's lags and lapses are its own, whatever else is scheduled
            p = _of(every, rest)
        run, key = at[rows[p.grant]], program[rest[p.grant]]
        paid += _by_pair(run, key, p.paid, cal.pair, cal.year[p.day], n_years, n_runs).reshape(shape)
        lapsed += _by_pair(run, key, p.lapsed, cal.pair, cal.year[p.day], n_years, n_runs).reshape(shape)
        months += _by_pair(run, cal.pool_of[key], p.paid, cal.pool_pair, cal.month[p.day], cal.months, n_runs)
    outstanding = np.cumsum(committed - paid - lapsed, axis=2)
    rows = _grid(runs, len(pair_program), n_years)
    out = {"cash_years": {
        "run": rows[0], "year": np.array(model.cash_years, dtype=np.int32)[rows[2]],
        "program_index": pair_program[rows[1]].astype(np.int32), "funder_index": pair_funder[rows[1]].astype(np.int32),
        "committed_yuan": committed.ravel(), "paid_yuan": paid.ravel(), "outstanding_yuan": outstanding.ravel(),
        "lapsed_yuan": lapsed.ravel(),
    }}
    pool, funder = cal.pool_funders
    rows = _grid(runs, len(pool), cal.months)
    out["cash_months"] = {"run": rows[0], "month_index": rows[2].astype(np.int32), "pool_index": pool[rows[1]].astype(np.int32),
                          "funder_index": funder[rows[1]].astype(np.int32), "paid_yuan": months}
    if every is not None:
        out["payments"] = _payments(model, runs, at[g], apps.firm[g], program, d.day[g], every)
    return out


def _of(p: payments.Payments, grants: np.ndarray) -> payments.Payments:
    """The payments of some of the grants (``grants``: their indices, ascending), numbered as in ``grants``."""
    rows = np.flatnonzero(np.isin(p.grant, grants))
    return payments.Payments(np.searchsorted(grants, p.grant[rows]), p.instalment[rows], p.day[rows], p.paid[rows],
                             p.lapsed[rows])


def _by_pair(at: np.ndarray, key: np.ndarray, amounts: np.ndarray, pair: np.ndarray, period: np.ndarray, periods: int,
             runs: int) -> np.ndarray:
    """Amounts (rows × funders) summed per run, pair and period, as one array in that order.

    ``pair[key, funder]`` numbers the (program or pool, funder) pairs that have rows (-1:
    none; such amounts are always 0); ``period`` is each row's year or month index.
    """
    pairs = int(pair.max()) + 1
    size = runs * pairs * periods
    number = pair[key]  # rows × funders
    cells = np.where(number >= 0, (at[:, None] * pairs + number) * periods + period[:, None], size)
    return _sum(cells.ravel(), amounts.ravel(), size + 1)[:size]


def _grid(runs: np.ndarray, pairs: int, periods: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows by run, then pair, then period: each row's run, pair index and period index."""
    return (np.repeat(runs.astype(np.int32), pairs * periods), np.tile(np.repeat(np.arange(pairs), periods), len(runs)),
            np.tile(np.arange(periods), len(runs) * pairs))


def _payments(model: Model, runs: np.ndarray, at: np.ndarray, firm: np.ndarray, program: np.ndarray,
              decided_on: np.ndarray, paid: payments.Payments) -> dict[str, np.ndarray]:
    """Every payment and lapse, all funders together, sorted by run, day, firm, program and instalment."""
    g = paid.grant
    order = np.lexsort((paid.instalment, program[g], firm[g], paid.day, at[g]))
    g = g[order]
    return {"run": runs[at[g]].astype(np.int32), "firm": firm[g], "program_index": program[g].astype(np.int32),
            "granted_day": decided_on[g].astype(np.int32), "day": paid.day[order].astype(np.int32),
            "instalment": paid.instalment[order].astype(np.int16), "paid_yuan": paid.paid[order].sum(axis=1),
            "lapsed_yuan": paid.lapsed[order].sum(axis=1)}


def _awards(model: Model, runs: np.ndarray, at: np.ndarray, apps: Applications, d: Decisions | _Joined) -> dict[str, np.ndarray]:
    """Every decision, sorted by run, day, firm and program."""
    made = np.flatnonzero(d.outcome != SKIPPED)
    idx = made[_order(len(runs), model.year_end[model.years[-1]] + 1, len(model.programs),
                      at[made], d.day[made], apps.firm[made], apps.program[made])]
    return {
        "run": runs[at[idx]].astype(np.int32),
        "day": d.day[idx],
        "firm": apps.firm[idx],
        "program_index": apps.program[idx],
        "entitled_yuan": d.asked[idx],
        "granted_yuan": d.granted[idx],
        "outcome_code": d.outcome[idx],
        "pool_balance_yuan": d.balance[idx],
    }


def _order(runs: int, days: int, programs: int, at: np.ndarray, day: np.ndarray, firm: np.ndarray,
           program: np.ndarray) -> np.ndarray:
    """The order by (run, day, firm, program), keys that never tie: one packed int64 key when it fits."""
    firms = int(firm.max()) + 1 if len(firm) else 1
    if runs * days * firms * programs < 2**62:
        key = ((at * days + day) * firms + firm) * programs + program
        return np.argsort(key)
    return np.lexsort((program, firm, day, at))
