"""Vectorised decisions: one pool's applications in one budget year, decided over arrays.

The fast engine hands a rationing rule (see :mod:`sim.engine.rationing`) a
:class:`PoolYear`: the applications in the rule's order, what each asks, and what limits
them (the pool's balance, each program's count a year, caps a firm shares across
programs, all-or-nothing).  The rule returns what the ledger (:mod:`sim.engine.ledger`),
deciding one application at a time, would: each grant and outcome, the balance after
each, the day the pool ran dry.  A pool-year holds every run of a pass, each a segment of
its own (its own balance, counts and dry day): the sums below are running totals within
segments, and the rule is decided for all the runs in one go.

How the arrays stay equal to the ledger.  The ledger checks, in this order, the firm's
shared cap (a firm with no room left is refused, ``firm_cap``, and takes no place), the
program's count, then the pool.  Until the pool binds, every application the caps and
the count let through is paid what it asks, so:

- a shared cap is a running total per firm: with ``U`` what the firm had used before the
  pool-year and ``W`` the sum of what its earlier applications under the cap ask, it has
  used ``min(U + W, cap)`` when the next one comes, which may ask what is left (a
  cumulative sum per firm, in order);
- a count limit pays the first ``limit`` applications of a program that the caps let
  through and refuses the rest;
- the two meet when an application refused on the count leaves cap room to a later one
  of the same firm, which may then take a place: so they are computed again until the
  set refused on the count stops growing (it can only grow; rarely twice);
- the pool pays in order while the running total of grants stays below its balance; the
  application that reaches it gets what is left, or, all-or-nothing, is refused, the pool
  is marked dry and the balance stays for smaller applications.

Past that point nothing is paid any more when the pool is empty: the remaining
applications are refused on the cap, the count or the pool, in the ledger's order.  After
an all-or-nothing refusal, the first application that still fits starts the same
computation again, in every segment that has one at once: the only loop, a turn per such
refusal, never over segments or applications.
Pro-rata applies caps and counts the same way and then scales every grant down together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.outcomes import (
    COUNT_LIMIT,
    FIRM_CAP,
    FULL,
    PARTIAL,
    POOL_EMPTY,
    RANKED_OUT,
)


@dataclass(frozen=True)
class Cap:
    """A cap several programs share, as it bears on one pool-year's applications."""

    amount: int
    rows: np.ndarray  # positions (in the pool-year's order) of the applications under the cap
    firm: np.ndarray  # the firm of each
    used: np.ndarray  # what that firm had used of the cap before the pool-year
    sorter: np.ndarray  # indices into rows, sorted by firm and then order (stable)
    first: np.ndarray  # for each sorted index, the sorted index of its firm's first application

    @classmethod
    def over(cls, amount: int, rows: np.ndarray, firm: np.ndarray, used: np.ndarray) -> "Cap":
        sorter = np.argsort(firm, kind="stable")
        by_firm = firm[sorter]
        starts = np.concatenate(([True], by_firm[1:] != by_firm[:-1]))
        first = np.maximum.accumulate(np.where(starts, np.arange(len(rows)), 0))
        return cls(amount, rows, firm, used, sorter, first)

    def room(self, spent: np.ndarray) -> np.ndarray:
        """What the cap leaves each of its applications when its turn comes.

        ``spent`` is what each application of the pool-year takes: its grant if decided,
        what it asks if assumed paid (the cap then bounds the running total), else 0.
        """
        taken = spent[self.rows][self.sorter]
        before = np.cumsum(taken) - taken
        before -= before[self.first]  # the firm's earlier applications only
        used = np.empty(len(self.rows), dtype=np.int64)
        used[self.sorter] = before
        return self.amount - np.minimum(self.used + used, self.amount)


@dataclass
class PoolYear:
    """One pool's applications in one budget year, in the order its rule decides them.

    A pass of runs is decided at once: each run's pool-year is a segment (``seg``, the
    run of each row, ascending), with a balance of its own; shared caps follow firms,
    which are numbered apart in each run, so they never reach across segments.
    """

    want: np.ndarray  # int64 yuan each asks (after one-time, top-up and duration rules), > 0
    program: np.ndarray  # program index of each
    day: np.ndarray  # int32 day each is decided
    balance: np.ndarray | None  # int64 per segment: what the pool holds before its first; None: no limit
    seg: np.ndarray  # int64 segment (run) of each row, ascending
    limit: np.ndarray | None = None  # its program's count limit a year, -1 for none; None: no limits here
    all_or_nothing: np.ndarray | None = None  # bool: its program pays in full or not at all; None: none here
    caps: tuple[Cap, ...] = ()  # shared caps over some of them

    def __len__(self) -> int:
        return len(self.want)


@dataclass
class Decided:
    """What a rule decided for a pool-year, row for row."""

    granted: np.ndarray  # int64 yuan
    outcome: np.ndarray  # int8 outcome code
    after: np.ndarray  # int64 balance after each decision, -1 for a pool with no limit
    dry_day: np.ndarray  # int64 per segment: the day the pool ran dry, -1 if it did not


def first_come(py: PoolYear) -> Decided:
    """先到先得 over arrays: :meth:`sim.engine.ledger.Ledger.first_come`, in time order."""
    return _in_order(py, lost_count=COUNT_LIMIT, lost_pool=POOL_EMPTY)


def competitive(py: PoolYear) -> Decided:
    """择优 over arrays: :meth:`sim.engine.ledger.Ledger.competitive`, in rank order."""
    return _in_order(py, lost_count=RANKED_OUT, lost_pool=RANKED_OUT)


def pro_rata(py: PoolYear) -> Decided:
    """按比例 over arrays: :meth:`sim.engine.ledger.Ledger.pro_rata`, in time order, every segment at once."""
    n = len(py)
    segments = _segments(py)
    asked, full = _admit(py, np.zeros(n, dtype=np.int64), None, consume=True)
    take = np.where((asked > 0) & ~full, asked, 0)
    total = per_segment(py.seg, take, segments)
    granted = take
    if py.balance is not None:
        short = total > py.balance
        if short.any():
            granted = np.where(short[py.seg], _scaled(take, py.balance[py.seg], total[py.seg]), take)
    paid = np.where(granted == py.want, FULL, np.where(granted > 0, PARTIAL, POOL_EMPTY))
    outcome = np.where(asked <= 0, FIRM_CAP, np.where(full, COUNT_LIMIT, paid)).astype(np.int8)
    dry_day = np.full(segments, -1, dtype=np.int64)
    if py.balance is None:
        return Decided(granted, outcome, np.full(n, -1, dtype=np.int64), dry_day)
    spent = per_segment(py.seg, granted, segments)
    dry = (total > py.balance) | ((spent > 0) & (spent == py.balance))
    first = np.searchsorted(py.seg, np.arange(segments))
    dry_day[dry] = py.day[first[dry]]
    return Decided(granted, outcome, (py.balance - spent)[py.seg], dry_day)


def _segments(py: PoolYear) -> int:
    if py.balance is not None:
        return len(py.balance)
    return int(py.seg[-1]) + 1 if len(py.seg) else 0


def per_segment(seg: np.ndarray, x: np.ndarray, segments: int) -> np.ndarray:
    """The sum of ``x`` over each segment (``seg`` ascending), exactly (int64)."""
    total = np.r_[0, np.cumsum(x, dtype=np.int64)]
    return np.diff(total[np.searchsorted(seg, np.arange(segments + 1))])


def _running(seg: np.ndarray, x: np.ndarray, segments: int) -> np.ndarray:
    """The running total of ``x`` within each segment, each row included."""
    total = np.cumsum(x)
    first = np.searchsorted(seg, np.arange(segments))
    base = np.where(first > 0, total[np.maximum(first - 1, 0)] if len(x) else 0, 0)
    return total - base[seg]


def _scaled(take: np.ndarray, balance: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Each ask × balance / total, rounded down to the yuan, exactly (Python integers past int64)."""
    if len(take) == 0 or int(take.max()) * int(balance.max()) < 2**63:
        return take * balance // np.maximum(total, 1)
    return np.array([a * b // max(t, 1) for a, b, t in zip(take.tolist(), balance.tolist(), total.tolist())],
                    dtype=np.int64)


def _in_order(py: PoolYear, lost_count: int, lost_pool: int) -> Decided:
    """Pay in order while money lasts, as the ledger's ``pay`` does one application at a time.

    Every segment at once, in turns (:class:`_Turns`).  While a segment's pool holds
    money, its undecided applications are decided as if the pool had no limit, up to the
    one whose grant reaches the balance (the crossing, found on the running totals); the
    crossing gets what is left, or, all-or-nothing and asking more, is refused and the
    balance kept.  The pool is then closed: later applications are refused on the cap, the
    count or the pool, until one still fits what is left (only after an all-or-nothing
    refusal), where the segment opens again.  A segment is decided in one turn, and one
    more for each all-or-nothing refusal that leaves money.
    """
    n, segments = len(py), _segments(py)
    if py.balance is None:
        asked, full = _admit(py, np.zeros(n, dtype=np.int64), None, consume=True)
        take = np.where(full, 0, asked) if full.any() else asked  # a firm its cap stops asks 0
        return Decided(take, _paid_or_stopped(py.want, asked, take, lost_count), np.full(n, -1, dtype=np.int64),
                       np.full(segments, -1, dtype=np.int64))
    turns = _Turns(py, segments, lost_count, lost_pool)
    while (turns.at < turns.end).any():
        was = turns.at.copy(), turns.closed.copy()
        turns.pay()
        turns.refuse()
        if np.array_equal(was[0], turns.at) and np.array_equal(was[1], turns.closed):  # each turn decides or opens
            raise RuntimeError("rationing in order made no progress in a turn")
    return turns.decided()


class _Turns:
    """A pool-year decided in order, every segment at once: what is decided so far and each segment's state."""

    def __init__(self, py: PoolYear, segments: int, lost_count: int, lost_pool: int):
        self.py, self.lost_count, self.lost_pool = py, lost_count, lost_pool
        n = len(py)
        self.row = np.arange(n)
        self.granted = np.zeros(n, dtype=np.int64)
        self.outcome = np.zeros(n, dtype=np.int8)
        self.end = np.searchsorted(py.seg, np.arange(1, segments + 1))  # each segment's rows end here
        self.at = np.searchsorted(py.seg, np.arange(segments))  # each segment's first undecided row
        self.left = py.balance.astype(np.int64)  # what each segment's pool holds
        self.closed = self.left == 0
        self.dry = np.full(segments, -1, dtype=np.int64)  # the row at which each ran dry

    def later(self) -> np.ndarray:
        return self.row >= self.at[self.py.seg]

    def pay(self) -> None:
        """The segments whose pool holds money: pay in order up to the crossing, decide it, close the pool."""
        py, later = self.py, self.later()
        paying = later & ~self.closed[py.seg]
        if not paying.any():
            return
        asked, full = _admit(py, self.granted, later, consume=True)
        take = np.where(paying & ~full, asked, 0)
        total = _running(py.seg, take, len(self.left))
        reach = np.flatnonzero(paying & (total >= self.left[py.seg]))
        k = self.end.copy()  # each segment's crossing, the end of its rows if none
        crossed, first = _first_in_segment(reach, py.seg)
        k[crossed] = first
        paid = np.flatnonzero(paying & (self.row < k[py.seg]))
        self.granted[paid] = take[paid]
        self.outcome[paid] = _paid_or_stopped(py.want[paid], asked[paid], take[paid], self.lost_count)
        c = k[crossed]
        remaining = self.left[crossed] - (total[c] - take[c])
        refused = (take[c] > remaining) & (py.all_or_nothing[c] if py.all_or_nothing is not None else False)
        self.granted[c] = np.where(refused, 0, np.minimum(take[c], remaining))
        self.outcome[c] = np.where(refused, self.lost_pool, np.where(self.granted[c] == py.want[c], FULL, PARTIAL))
        self.left[crossed] = remaining - self.granted[c]
        self.dry[crossed] = np.where(self.dry[crossed] < 0, c, self.dry[crossed])
        self.at[~self.closed] = self.end[~self.closed]  # no crossing: all paid
        self.at[crossed] = c + 1
        self.closed[crossed] = True

    def refuse(self) -> None:
        """The closed segments: refuse on the cap, the count or the pool up to the first that still fits, and open there."""
        py, later = self.py, self.later()
        shut = later & self.closed[py.seg]
        if not shut.any():
            return
        asked, full = _admit(py, self.granted, later, consume=False)
        reaches = (asked > 0) & ~full  # gets past the cap and the count to the pool
        room = self.left[py.seg]
        fits = shut & reaches & (room > 0)
        if py.all_or_nothing is not None:  # an all-or-nothing claim fits only in full
            fits &= (asked <= room) | ~py.all_or_nothing
        fits = np.flatnonzero(fits)
        j = np.where(self.closed, self.end, self.at)  # each closed segment's first that fits, the end if none
        opens, first = _first_in_segment(fits, py.seg)
        j[opens] = first
        before = shut & (self.row < j[py.seg])
        self.outcome[before] = np.where(reaches, self.lost_pool, np.where(asked == 0, FIRM_CAP, self.lost_count))[before]
        reached = np.flatnonzero(before & reaches)  # a pool empty from the start runs dry on the first that reaches it
        seg, first = _first_in_segment(reached, py.seg)
        self.dry[seg] = np.where(self.dry[seg] < 0, first, self.dry[seg])
        self.at[self.closed] = j[self.closed]
        self.closed[opens] = False

    def decided(self) -> Decided:
        py = self.py
        after = py.balance[py.seg] - _running(py.seg, self.granted, len(self.left))
        dry_day = np.full(len(self.left), -1, dtype=np.int64)
        has = self.dry >= 0
        dry_day[has] = py.day[self.dry[has]]
        return Decided(self.granted, self.outcome, after, dry_day)


def _first_in_segment(rows: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The segments ``rows`` (ascending) fall in, and the first of them in each."""
    at = seg[rows]
    first = np.flatnonzero(np.r_[True, at[1:] != at[:-1]]) if len(rows) else rows
    return at[first], rows[first]


def _paid_or_stopped(want: np.ndarray, asked: np.ndarray, take: np.ndarray, lost_count: int) -> np.ndarray:
    """Outcomes before the pool binds: paid in full or in part, or stopped by the cap (asks 0) or the count."""
    out = np.where(take == want, FULL, PARTIAL).astype(np.int8)
    stopped = take == 0
    if stopped.any():
        out[stopped] = np.where(asked[stopped] == 0, FIRM_CAP, lost_count)
    return out


def _admit(py: PoolYear, granted: np.ndarray, later: np.ndarray | None, consume: bool) -> tuple[np.ndarray, np.ndarray]:
    """The undecided applications (``later``; None: all) as if the pool had no limit: what each may
    ask after its caps, and whether its count is full.

    The others are decided (``granted``).  With ``consume`` each undecided application the
    caps and the count let through takes what it asks; without, each takes what it was
    granted (nothing, if undecided).  Returns arrays over every row; a decided row's
    entries mean nothing.
    """
    want = py.want
    full = np.zeros(len(want), dtype=bool)
    if not py.caps and py.limit is None:
        return want, full
    if later is None:
        later = np.ones(len(want), dtype=bool)
    while True:
        asked = want
        if py.caps:
            asked = want.copy()
            spent = np.where(later, np.where(full, 0, want), granted) if consume else granted
            for cap in py.caps:
                asked[cap.rows] = np.minimum(asked[cap.rows], cap.room(spent))
        now = _count_full(py, granted, later, asked > 0, consume)
        if not (consume and py.caps) or np.array_equal(now, full):
            return asked, now
        full = now  # refusals on the count left cap room to later applications: again


def _count_full(py: PoolYear, granted: np.ndarray, later: np.ndarray, live: np.ndarray, consume: bool) -> np.ndarray:
    """Whether each undecided application finds its program's places in its segment taken.

    Places are taken by the earlier grants and, with ``consume``, by the earlier undecided
    applications that get past their caps (``live``).
    """
    if py.limit is None:
        return np.zeros(len(live), dtype=bool)
    took = np.where(later, live, granted > 0) if consume else granted > 0
    key = py.seg * (int(py.program.max()) + 1) + py.program
    taken = _earlier(key, took)
    return later & (py.limit >= 0) & live & (taken >= py.limit)


def _earlier(keys: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """How many rows before each, of the same key, are flagged."""
    sorter = np.argsort(keys, kind="stable")
    sorted_keys = keys[sorter]
    f = flag[sorter].astype(np.int64)
    total = np.cumsum(f) - f
    starts = np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1]))
    first = np.maximum.accumulate(np.where(starts, np.arange(len(keys)), 0))
    out = np.empty(len(keys), dtype=np.int64)
    out[sorter] = total - total[first]
    return out
