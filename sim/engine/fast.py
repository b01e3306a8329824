"""The fast engine: the SimPy engine's decisions, computed over whole arrays, a pass of runs at once.

Pools do not interact (a cap shared by several programs stays within one pool), and
within a pool and budget year the reference engine's decisions follow from the order of
the applications alone.  So instead of walking the clock, this engine sorts a pass's
applications once by (year, pool, run, the pool's order: time or rank) and hands each
pool-year, every run of the pass at once, to its rationing rule's vectorised decision
(:mod:`sim.engine.rationing`, :mod:`sim.engine.vectorised`): each run's pool-year is a
segment with a balance of its own, decided by running totals within segments,
cumulative sums per firm for shared caps (firms are numbered apart in each run), ranks
within a run and program for count limits.  Between pool-years it carries what the
ledger carries, per run: each pool's balance (opened by the pool-year rule,
:meth:`~sim.scenario.model.PoolSpec.openings`), what each firm was paid by each program
and at which grade (one-time awards, top-ups, duration limits), which awards tied to
their year it has claimed, what it used of caps over the policy's life, and which program
of a 不重复 group paid it.  The loop is over budget years and pools, never over runs, so
a pass of a hundred runs costs a few times one run; and no run sees another's rows, so a
run's result does not depend on its pass.

A 不重复 group joins pools within a year: an application waits until the ones its firm
prefers are decided (:mod:`sim.engine.simpy` says how).  In a year with such waiting
applications (in any run of the pass), every pool-year is decided with the waiting ones left out; then each
waiting one takes the fate the decisions of the ones before it give it (stacked, or
released on a day to be decided in its pool), the pool-years that changed are decided
again, and so on until nothing changes.  Every decision depends only on earlier events,
so the fixed point is the reference's answer, reached in a few turns (one more than the
longest chain of waiting applications).

It gives the same tables as :mod:`sim.engine.simpy`, to the yuan (tests prove it on
generated scenarios and on every shipped one).  :func:`supports` says which scenarios it
declines: a rationing rule without a vectorised decision, or a program under two shared
caps at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.decisions import Decisions, new_decisions
from sim.engine.outcomes import CANDIDATE, SKIPPED, STACKED
from sim.engine.population import Applications
from sim.engine.rationing import order_keys, rule_of
from sim.engine.simpy import APPLY, RELEASE, REVIEW
from sim.engine.vectorised import Cap, Decided, PoolYear, per_segment
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
        self.same_year = np.array([p.same_year for p in progs], dtype=bool)
        self.max_years = np.array([p.max_years or 0 for p in progs], dtype=np.int64)
        self.limit = np.array([p.count_limit if p.count_limit is not None else -1 for p in progs], dtype=np.int64)
        self.all_or_nothing = np.array([p.program.all_or_nothing for p in progs], dtype=bool)
        self.cap = np.array([p.firm_caps[0] if p.firm_caps else -1 for p in progs], dtype=np.int64)
        self.ranked = np.array([self.rules[p.pool].order == "rank" for p in progs], dtype=bool)
        self.group = np.array([p.group for p in progs], dtype=np.int64)
        self.life = np.array([g.period == "life" for g in model.groups] + [False], dtype=bool)  # [-1]: no group
        self.round = np.array([rule.round for rule in self.rules], dtype=bool)
        remember = self.top_up | self.one_time | self.same_year | (self.max_years > 0)
        self.history = bool(remember.any())
        # per pool: whether any of its programs has a count limit, pays all or nothing, remembers
        self.limited = [bool((self.limit[list(pool.programs)] >= 0).any()) for pool in model.pools]
        self.whole = [bool(self.all_or_nothing[list(pool.programs)].any()) for pool in model.pools]
        self.caps = [sorted({c for p in pool.programs for c in progs[p].firm_caps}) for pool in model.pools]
        self.remembers = [bool(remember[list(pool.programs)].any()) for pool in model.pools]
        self.reason = supports(model)


def run(model: Model, apps: Applications) -> Decisions:
    """Decide every application of one run; same result as :func:`sim.engine.simpy.run`."""
    return run_pass(model, apps, np.zeros(len(apps), dtype=np.int64), 1)[0]


def run_pass(model: Model, apps: Applications, at: np.ndarray, runs: int) -> list[Decisions]:
    """Decide every application of a pass of runs at once; one record per run, each what :func:`run` gives it.

    ``apps`` holds the rows of every run, grouped by run in order, ``at`` the run of each
    (0 … ``runs`` - 1).  Firms are numbered apart in each run and each pool-year of each
    run is a segment of its own, so no run's decisions see another's: a run's result does
    not depend on its pass.
    """
    tables = model.cache.get("fast") or model.cache.setdefault("fast", _Tables(model))
    if tables.reason:
        raise ValueError(tables.reason)
    at = np.asarray(at, dtype=np.int64)
    d = new_decisions(apps)
    exhausted = np.full((runs, len(model.pools), len(model.years)), -1, dtype=np.int64)
    cand = np.flatnonzero(apps.status == CANDIDATE)
    if len(cand):
        firm = at * (int(apps.firm.max()) + 1) + apps.firm  # numbered apart in each run
        cand = cand[_order(model, tables, apps, at, cand)]
        run = _Run(model, tables, apps, firm, at, cand, runs)
        group = run.year.astype(np.int64) * len(model.pools) + tables.pool[run.program]
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        ends = np.r_[starts[1:], len(cand)]
        years = run.year[starts]
        for year in np.unique(years).tolist():
            slices = [(int(a), int(b)) for a, b in zip(starts[years == year], ends[years == year])]
            if run.grouped is not None and _waits(model, tables, run, slices[0][0], slices[-1][1]):
                _Year(model, tables, run, year, slices).decide()
                continue
            for a, b in slices:
                spec = model.pools[int(tables.pool[run.program[a]])]
                _open(model, spec, year, run.balance, run.opened, runs)
                rows = np.arange(a, b)
                _commit(model, tables, run, spec, year, _decide(model, tables, run, spec, year, rows, _days(tables, run, spec, year, rows)))
        d.asked[cand], d.granted[cand], d.outcome[cand] = run.asked, run.granted, run.outcome
        d.day[cand], d.balance[cand], d.place[cand] = run.day, run.after, run.place
        exhausted = run.exhausted
    bounds = np.searchsorted(at, np.arange(runs + 1))
    out = []
    for r in range(runs):
        a, b = bounds[r], bounds[r + 1]
        dry = np.argwhere(exhausted[r] >= 0)
        out.append(Decisions(asked=d.asked[a:b], granted=d.granted[a:b], outcome=d.outcome[a:b], day=d.day[a:b],
                             balance=d.balance[a:b], place=d.place[a:b],
                             exhausted_on={(int(q), model.years[int(y)]): int(exhausted[r, q, y]) for q, y in dry}
                             ).settled())
    return out


def _waits(model: Model, t: _Tables, run: "_Run", lo: int, hi: int) -> bool:
    """Whether a year's decisions depend on a 不重复 group: a firm with two applications in one
    group, or one that another program of a life group paid in an earlier year."""
    pos = lo + np.flatnonzero(run.grouped[lo:hi])
    if len(pos) == 0:
        return False
    group = t.group[run.program[pos]]
    unit = run.firm[pos].astype(np.int64) * (len(model.groups) + 1) + group
    if len(np.unique(unit)) < len(unit):
        return True
    return bool(_paid_by_another(run, unit, run.program[pos]).any())


def _paid_by_another(run: "_Run", unit: np.ndarray, program: np.ndarray) -> np.ndarray:
    """Whether another program of its life group paid the firm in an earlier year (``unit``: firm and group)."""
    paid = run.life_paid[unit]
    return (paid >= 0) & (paid != program)


class _Run:
    """A pass's candidates in the order they are decided, and what carries from one pool-year to the next.

    Firms are numbered apart in each run (``firm``), and balances and dry days are kept per run.
    """

    def __init__(self, model: Model, t: _Tables, apps: Applications, firm: np.ndarray, at: np.ndarray,
                 cand: np.ndarray, runs: int):
        self.runs = runs
        self.seg = at[cand]  # the run of each
        self.program = apps.program[cand]
        self.firm = firm[cand]
        self.year = apps.year[cand]
        self.entitled = apps.entitled[cand]
        self.grade = apps.grade[cand] if t.history else None  # read by top-ups only
        self.asked = self.entitled.copy()  # becomes what each asks (an earlier top-up deducted)
        self.granted = np.zeros(len(cand), dtype=np.int64)
        self.outcome = np.full(len(cand), CANDIDATE, dtype=np.int8)
        self.applied = apps.day[cand]  # the day each is made
        self.day = self.applied.copy()  # becomes the day each is decided
        self.after = np.full(len(cand), -1, dtype=np.int64)  # the pool's balance after each
        self.place = np.full(len(cand), -1, dtype=np.int64)  # each one's place among its pool-year's decisions
        self.exhausted = np.full((runs, len(model.pools), len(model.years)), -1, dtype=np.int64)  # the day each ran dry
        self.balance: list[np.ndarray | None] = [None] * len(model.pools)  # each pool's balance in each run
        self.opened: set[tuple[int, int]] = set()
        if t.history:  # what each firm was paid by each program, in how many years, at which grade, whether it claimed
            self.pair = np.unique(self.firm * len(model.programs) + self.program, return_inverse=True)[1].ravel()
            pairs = self.pair.max() + 1
            self.paid = np.zeros(pairs, dtype=np.int64)
            self.years_paid = np.zeros(pairs, dtype=np.int64)
            self.grade_paid = np.full(pairs, -1, dtype=np.int64)
            self.tried = np.zeros(pairs, dtype=bool)
        firms = int(firm.max()) + 1
        self.life_caps = {c.index: np.zeros(firms, dtype=np.int64) for c in model.firm_caps if c.period != "year"}
        self.rank = apps.rank[cand] if model.groups else None  # read by 不重复 groups only
        self.grouped = (self.rank >= 0) if model.groups and (self.rank >= 0).any() else None
        # per firm and group (firm × (groups + 1) + group): the program of a life group that paid it, -1 if none
        self.life_paid = np.full(firms * (len(model.groups) + 1), -1, dtype=np.int64) if self.grouped is not None else None


def _order(model: Model, t: _Tables, apps: Applications, at: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Sort by year, pool, run, then the pool's order: time (day, firm, program) or rank.

    A radix sort of 16-bit digits, linear in the rows (:func:`_radix`).  Where the sampler
    hands the rows of a run firm by firm (one program, or programs in order), the stable
    sort on (year, pool, run, then) alone keeps (firm, program) as the tie-break, and
    those digits are left out.
    """
    program = apps.program[cand].astype(np.int64)
    pool = t.pool[program]
    firm = apps.firm[cand].astype(np.int64)
    year = apps.year[cand].astype(np.int64) - model.years[0]
    starts = np.array([model.year_start[y] for y in model.years], dtype=np.int64)
    then = apps.day[cand].astype(np.int64) - starts[year]  # the day of its budget year (time is within a year)
    then -= min(int(then.min()), 0)
    ranked = t.ranked[program]
    if ranked.any():
        r = np.flatnonzero(ranked)
        by_rank = r[np.lexsort(order_keys("rank", apps, cand[r]))]
        then[by_rank] = np.arange(len(by_rank))  # a ranked pool's order is its ranking alone
        firm, program = np.where(ranked, 0, firm), np.where(ranked, 0, program)
    run = at[cand]
    ties = [] if _firm_by_firm(run, firm, program, ranked) else [firm, program]  # time: day, firm, program
    return _radix([year, pool, run, then] + ties)


def _firm_by_firm(run: np.ndarray, firm: np.ndarray, program: np.ndarray, ranked: np.ndarray) -> bool:
    """Whether the rows decided in time order come run by run, firm by firm, program by program."""
    rows = np.flatnonzero(~ranked) if ranked.any() else slice(None)
    fields = [run[rows], firm[rows], program[rows]]
    widths = [max(int(f.max()), 1).bit_length() if len(f) else 1 for f in fields]
    if sum(widths) > 62:
        return False
    key = _packed(fields, widths)
    return bool((key[1:] >= key[:-1]).all())


def _packed(fields: list[np.ndarray], widths: list[int]) -> np.ndarray:
    """Non-negative integer fields packed into one int64 key, the first most significant."""
    key = np.zeros(len(fields[0]), dtype=np.int64)
    for field, width in zip(fields, widths):
        key = (key << width) | field
    return key


def _radix(fields: list[np.ndarray]) -> np.ndarray:
    """A stable sort by ``fields`` (non-negative integers, the first most significant): 16 bits a pass.

    numpy sorts 16-bit integers stably by radix, in linear time; passes from the least
    significant digit up keep the order of the earlier ones.
    """
    widths = [max(int(f.max()), 1).bit_length() for f in fields]
    if sum(widths) > 62:
        return np.lexsort(fields[::-1])
    key = _packed(fields, widths)
    order = None
    for shift in range(0, sum(widths), 16):
        digit = ((key if order is None else key[order]) >> shift).astype(np.uint16)  # the low 16 bits
        step = np.argsort(digit, kind="stable")
        order = step if order is None else order[step]
    return order


def _open(model: Model, spec, year: int, balance: list, opened: set, runs: int) -> None:
    """Open the pool for every budget year up to ``year`` not yet opened, as the resets do, in every run."""
    openings = spec.openings()
    for y in model.years:
        if y > year or (spec.index, y) in opened:
            continue
        opened.add((spec.index, y))
        if y in openings:
            balance[spec.index] = None if openings[y] is None else np.full(runs, openings[y], dtype=np.int64)


def _days(t: _Tables, run: _Run, spec, year: int, rows: np.ndarray) -> np.ndarray:
    """The day each of a pool-year's applications is decided: the day it is made, or the pool's review."""
    if t.round[spec.index]:
        return np.full(len(rows), spec.review[year], dtype=np.int32)
    return run.applied[rows]


@dataclass
class _Result:
    """One pool-year of every run decided, not yet written: ``rows`` decided by the pool, ``skipped`` not made."""

    rows: np.ndarray
    want: np.ndarray
    granted: np.ndarray
    outcome: np.ndarray
    day: np.ndarray
    after: np.ndarray
    dry_day: np.ndarray  # per run, -1 if the pool did not run dry
    skipped: np.ndarray


def _decide(model: Model, t: _Tables, run: _Run, spec, year: int, rows: np.ndarray, day: np.ndarray,
            late: np.ndarray | None = None) -> _Result:
    """One pool-year in every run, ``rows`` in decision order within each run: the firms' history first, then the pool's rule.

    ``late``: released applications each decided alone, after the others of their run,
    against what the pool has left (a round that had closed when they were released).
    """
    prog, want = run.program[rows], run.entitled[rows]
    skipped = rows[:0]
    if t.remembers[spec.index]:
        pairs = run.pair[rows]
        before = run.paid[pairs]
        top = t.top_up[prog]
        want = np.where(top, want - before, want)
        skip = np.where(top, (want <= 0) | (run.grade[rows] <= run.grade_paid[pairs]),
                        (t.one_time[prog] & (before > 0)) | ((t.max_years[prog] > 0) & (run.years_paid[pairs] >= t.max_years[prog])))
        skip |= t.same_year[prog] & run.tried[pairs]
        if skip.any():
            keep = np.flatnonzero(~skip)
            skipped = rows[skip]
            rows, prog, want, day = rows[keep], prog[keep], want[keep], day[keep]
            late = None if late is None else late[keep]
    n = len(rows)
    granted, outcome, after = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int8), np.zeros(n, dtype=np.int64)
    dry = np.full(run.runs, -1, dtype=np.int64)
    balance = run.balance[spec.index]
    rule = t.rules[spec.index].vectorised
    main = np.flatnonzero(~late) if late is not None and late.any() else np.arange(n)
    if len(main):
        out: Decided = rule(_pool_year(model, t, run, spec, rows[main], prog[main], want[main], day[main], balance))
        granted[main], outcome[main], after[main] = out.granted, out.outcome, out.after
        dry[:len(out.dry_day)] = out.dry_day
    if len(main) < n:
        _alone(model, t, run, spec, rows, prog, want, day, main, granted, outcome, after, dry)
    return _Result(rows, want, granted, outcome, day, after, dry, skipped)


def _pool_year(model: Model, t: _Tables, run: _Run, spec, rows: np.ndarray, prog: np.ndarray, want: np.ndarray,
               day: np.ndarray, balance: np.ndarray | None) -> PoolYear:
    """The rule's view of a pool-year in every run: each run a segment, with the shared caps its firms used before."""
    caps = []
    for c in t.caps[spec.index]:  # a cap for the year starts from nothing; one for the policy's life from earlier years
        under = np.flatnonzero(t.cap[prog] == c)
        if len(under):
            firm = run.firm[rows[under]]
            used = run.life_caps[c][firm] if c in run.life_caps else np.zeros(len(under), dtype=np.int64)
            caps.append(Cap.over(model.firm_caps[c].amount, under, firm, used))
    return PoolYear(want=want, program=prog, day=day, balance=balance, seg=run.seg[rows],
                    limit=t.limit[prog] if t.limited[spec.index] else None,
                    all_or_nothing=t.all_or_nothing[prog] if t.whole[spec.index] else None, caps=tuple(caps))


def _alone(model: Model, t: _Tables, run: _Run, spec, rows, prog, want, day, main, granted, outcome, after, dry) -> None:
    """Decide the rows not in ``main``, one at a time in order, each against what its run's pool, count and caps have left."""
    seg = run.seg[rows]
    done = np.zeros(len(rows), dtype=bool)
    done[main] = True
    balance = run.balance[spec.index]
    left = None if balance is None else balance.copy()
    if left is not None:
        np.subtract.at(left, seg[main], granted[main])
    rule = t.rules[spec.index].vectorised
    for i in np.flatnonzero(~done).tolist():
        r, p, f = int(seg[i]), int(prog[i]), int(run.firm[rows[i]])
        limit = None
        if t.limited[spec.index]:
            limit = t.limit[prog[i:i + 1]]
            if limit[0] >= 0:  # places the pool-year's earlier grants took
                taken = int((done & (seg == r) & (prog == p) & (granted > 0)).sum())
                limit = np.maximum(limit - taken, 0)
        caps = []
        for c in t.caps[spec.index]:
            if t.cap[p] == c:  # what the firm used before, and earlier in the pool-year
                used = int(run.life_caps[c][f]) if c in run.life_caps else 0
                used += int(granted[done & (t.cap[prog] == c) & (run.firm[rows] == f)].sum())
                caps.append(Cap.over(model.firm_caps[c].amount, np.zeros(1, dtype=np.int64), np.array([f]), np.array([used])))
        out = rule(PoolYear(want=want[i:i + 1], program=prog[i:i + 1], day=day[i:i + 1],
                            balance=None if left is None else left[r:r + 1], seg=np.zeros(1, dtype=np.int64), limit=limit,
                            all_or_nothing=t.all_or_nothing[prog[i:i + 1]] if t.whole[spec.index] else None, caps=tuple(caps)))
        granted[i], outcome[i], after[i] = out.granted[0], out.outcome[0], out.after[0]
        if dry[r] < 0:
            dry[r] = out.dry_day[0]
        if left is not None:
            left[r] -= granted[i]
        done[i] = True


def _commit(model: Model, t: _Tables, run: _Run, spec, year: int, res: _Result) -> None:
    """Write a decided pool-year into the pass, and carry what the next pool-years need."""
    rows = res.rows
    run.asked[rows], run.granted[rows], run.outcome[rows], run.day[rows], run.after[rows] = (
        res.want, res.granted, res.outcome, res.day, res.after)
    run.outcome[res.skipped] = SKIPPED
    seg = run.seg[rows]  # in each run, the pool-year's decisions in order
    run.place[rows] = np.arange(len(rows)) - np.searchsorted(seg, seg)
    exhausted = run.exhausted[:, spec.index, model.years.index(year)]
    first = (exhausted < 0) & (res.dry_day >= 0)
    exhausted[first] = res.dry_day[first]
    if run.balance[spec.index] is not None:
        run.balance[spec.index] = run.balance[spec.index] - per_segment(run.seg[rows], res.granted, run.runs)
    if t.remembers[spec.index]:  # a firm claims a program once a year: each pair appears once here
        pairs = run.pair[rows]
        paid = res.granted > 0
        run.paid[pairs] += res.granted
        run.years_paid[pairs] += paid
        run.tried[pairs] = True
        run.grade_paid[pairs[paid]] = np.maximum(run.grade_paid[pairs[paid]], run.grade[rows[paid]])
    prog = run.program[rows]
    if run.grouped is not None:  # which program of a life group paid each firm (a firm is paid by one at most)
        paid = np.flatnonzero((res.granted > 0) & t.life[t.group[prog]])
        run.life_paid[run.firm[rows[paid]].astype(np.int64) * (len(model.groups) + 1) + t.group[prog[paid]]] = prog[paid]
    for c in t.caps[spec.index]:
        if c in run.life_caps:
            under = t.cap[prog] == c
            np.add.at(run.life_caps[c], run.firm[rows][under], res.granted[under])


class _Year:
    """One budget year in which applications wait behind ones their firms prefer (从优就高不重复).

    Each waiting application's fate — decided in its pool as made, released on a day, or
    stacked — follows from the decisions of the applications its firm prefers in the same
    group and year; each pool-year's decisions follow from the applications it holds.  The
    two are computed in turn until they agree.
    """

    NATURAL, RELEASED, STACKED_, PENDING = 0, 1, 2, 3

    def __init__(self, model: Model, t: _Tables, run: _Run, year: int, slices: list[tuple[int, int]]):
        self.model, self.t, self.run, self.year, self.slices = model, t, run, year, slices
        self.specs = [model.pools[int(t.pool[run.program[a]])] for a, _ in slices]
        for spec in self.specs:
            _open(model, spec, year, run.balance, run.opened, run.runs)
        lo, hi = slices[0][0], slices[-1][1]
        pos = lo + np.flatnonzero(run.grouped[lo:hi])
        group = t.group[run.program[pos]]
        order = np.lexsort((run.rank[pos], group, run.firm[pos]))
        self.pos = pos[order]  # waiting candidates: by firm, group, then the firm's preference
        self.unit = (run.firm[self.pos].astype(np.int64) * (len(model.groups) + 1) + t.group[run.program[self.pos]])
        self.slice_of = np.zeros(hi - lo, dtype=np.int64)
        for k, (a, b) in enumerate(slices):
            self.slice_of[a - lo:b - lo] = k
        self.lo = lo
        # what another program of a life group paid the firm in an earlier year
        self.before = _paid_by_another(run, self.unit, run.program[self.pos])
        n_sub = len(model.programs) * (int(run.rank.max()) + 2) + len(model.pools)
        self.scale = (4 * (int(run.firm.max()) + 2) * n_sub, (int(run.firm.max()) + 2) * n_sub, n_sub)
        # each one's event when made, and when it is decided if decided as made (its day, or its pool's review)
        pool = t.pool[run.program[self.pos]]
        self.made = self.keys(self.pos, run.applied[self.pos], np.zeros(len(self.pos), dtype=bool))
        review = np.array([model.pools[q].review[year] for q in range(len(model.pools))], dtype=np.int64)[pool]
        d, k, _ = self.scale
        self.natural = np.where(t.round[pool], review * d + REVIEW * k + pool, self.made)
        # the first of each firm's in a group and year waits for nothing: its fate is known now
        self.first = np.r_[True, self.unit[1:] != self.unit[:-1]]
        self.status0 = np.where(self.first, np.where(self.before, self.STACKED_, self.NATURAL), self.PENDING)
        self.when0 = np.where(self.first & self.before, run.applied[self.pos], -1)
        self.chains = np.flatnonzero(self.first & np.r_[self.unit[1:] == self.unit[:-1], False])  # units of two or more
        of = self.slice_of[self.pos - lo]
        self.members = {k: np.flatnonzero(of == k) for k in np.unique(of).tolist()}  # each pool-year's waiting ones

    def key(self, day: int, kind: int, firm: int, sub: int) -> int:
        """An event's place in the reference's order (day, kind, firm, then program or place), as one number."""
        d, k, f = self.scale
        return day * d + kind * k + (firm + 1) * f + sub

    def decide(self) -> None:
        model, t, run, lo = self.model, self.t, self.run, self.lo
        n = len(self.pos)
        status = np.full(n, -1, dtype=np.int64)
        when = np.full(n, -1, dtype=np.int64)  # the release or stacking day
        results: dict[int, _Result] = {}
        hi = self.slices[-1][1]
        known = np.zeros(hi - lo, dtype=bool)  # decided (or not made) in the current decisions
        granted = np.zeros(hi - lo, dtype=np.int64)
        waits = set(self.slice_of[self.pos - lo].tolist())
        for k, (a, b) in enumerate(self.slices):  # pool-years without any of them are decided once
            if k not in waits:
                rows = np.arange(a, b)
                _commit(model, t, run, self.specs[k], self.year,
                        _decide(model, t, run, self.specs[k], self.year, rows, _days(t, run, self.specs[k], self.year, rows)))
        changed = set(waits)
        while True:
            new_status, new_when = self.fates(known[self.pos - lo], granted[self.pos - lo])
            moved = np.flatnonzero((new_status != status) | (new_when != when))
            status, when = new_status, new_when
            changed |= set(self.slice_of[self.pos[moved] - lo].tolist())
            if not changed:
                break
            for k in sorted(changed):
                a, b = self.slices[k]
                res = results[k] = self.pool_year(k, status, when)
                known[a - lo:b - lo] = False
                known[res.rows - lo] = known[res.skipped - lo] = True
                granted[res.rows - lo], granted[res.skipped - lo] = res.granted, 0
            changed = set()
        for k, res in results.items():
            _commit(model, t, run, self.specs[k], self.year, res)
        stacked = status == self.STACKED_
        run.outcome[self.pos[stacked]] = STACKED
        run.day[self.pos[stacked]] = when[stacked]

    def closed(self, spec, day):
        """Whether the pool's round this year is over by the end of ``day`` (a release comes after the day's rounds)."""
        return spec.review[self.year] <= day

    def keys(self, rows: np.ndarray, day: np.ndarray, released: np.ndarray) -> np.ndarray:
        """The event keys of ``rows``: made on their day, or released on ``day`` (where ``released``)."""
        run, P = self.run, len(self.model.programs)
        sub = np.where(released, run.rank[rows].astype(np.int64) * P + run.program[rows], run.program[rows])
        d, k, f = self.scale
        return day.astype(np.int64) * d + np.where(released, RELEASE, APPLY) * k + (run.firm[rows].astype(np.int64) + 1) * f + sub

    def pool_year(self, k: int, status: np.ndarray, when: np.ndarray) -> _Result:
        """Decide pool-year ``k`` with the waiting applications as their fates say."""
        model, t, run, spec = self.model, self.t, self.run, self.specs[k]
        a, b = self.slices[k]
        rows = np.arange(a, b)
        mine = self.members[k]
        pos, st, day = self.pos[mine], status[mine], when[mine]
        days = _days(t, run, spec, self.year, rows)
        if (st == self.NATURAL).all():  # each decided as made: the pool-year as it is
            return _decide(model, t, run, spec, self.year, rows, days)
        out = pos[(st == self.PENDING) | (st == self.STACKED_)]
        released = st == self.RELEASED
        keep = np.ones(b - a, dtype=bool)
        keep[out - a] = False
        rel_day = np.full(b - a, -1, dtype=np.int64)
        rel_day[pos[released] - a] = day[released]
        seg = run.seg[rows]
        if not t.round[spec.index]:  # first come: released ones after the day's others, in the reference's order
            late = rel_day >= 0
            days = np.where(late, rel_day, days)
            rows, days, late, seg = rows[keep], days[keep], late[keep], seg[keep]
            if late.any():
                order = np.lexsort((self.keys(rows, days, late), seg))
                rows, days = rows[order], days[order]
            return _decide(model, t, run, spec, self.year, rows, days.astype(np.int32))
        late = (rel_day >= 0) & self.closed(spec, rel_day)  # released after the round closed: alone, after the round
        chosen = np.flatnonzero(keep)
        then = np.where(late[chosen], self.keys(rows[chosen], rel_day[chosen], np.ones(len(chosen), dtype=bool)), chosen)
        order = chosen[np.lexsort((then, late[chosen], seg[chosen]))]
        days = np.where(late, rel_day, days)
        return _decide(model, t, run, spec, self.year, rows[order], days[order].astype(np.int32),
                       late=late[order] if late.any() else None)

    def fates(self, known: np.ndarray, granted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each waiting application's fate, from the decisions so far of those its firm prefers.

        Walks each firm's applications in a group and year in order of preference, as the
        reference's events unfold: ``blocker`` is when the last one before was decided,
        ``paid`` when one before was paid (then every later one is stacked).  The first of
        each is decided as made (or stacked, if another program of a life group paid the
        firm in an earlier year); only firms with two or more are walked.
        """
        model, t, run = self.model, self.t, self.run
        status, when = self.status0.copy(), self.when0.copy()
        P, d = len(model.programs), self.scale[0]
        n = len(self.pos)
        for i in self.chains.tolist():
            unit = self.unit[i]
            blocker = int(self.made[i] if status[i] == self.STACKED_ else self.natural[i])
            if status[i] != self.STACKED_ and not known[i]:
                continue  # the first is not decided yet: the others wait
            paid = blocker if status[i] != self.STACKED_ and granted[i] > 0 else None
            i += 1
            while i < n and self.unit[i] == unit:
                p = int(self.pos[i])
                made = int(self.made[i])
                if made > blocker:  # decided when made
                    if self.before[i] or (paid is not None and paid < made):
                        status[i], when[i], decided = self.STACKED_, int(run.applied[p]), made
                    else:
                        status[i], decided = self.NATURAL, int(self.natural[i])
                elif paid is not None and made < paid:  # held, and the one before was paid: stacked then
                    status[i], when[i], decided = self.STACKED_, paid // d, paid
                else:  # held, released when the last one before was decided
                    day = blocker // d
                    release = self.key(day, RELEASE, int(run.firm[p]), int(run.rank[p]) * P + int(run.program[p]))
                    if self.before[i] or paid is not None:
                        status[i], when[i], decided = self.STACKED_, day, release
                    else:
                        spec = model.pools[int(t.pool[run.program[p]])]
                        status[i], when[i] = self.RELEASED, day
                        joins = t.round[spec.index] and not self.closed(spec, day)
                        decided = int(self.natural[i]) if joins else release
                if status[i] != self.STACKED_:
                    if not known[i]:
                        break  # not decided yet: those after it wait
                    if granted[i] > 0:
                        paid = decided
                blocker = max(blocker, decided)
                i += 1
        return status, when
