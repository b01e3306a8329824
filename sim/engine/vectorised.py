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
computation again; that is the only loop over applications, one turn per such refusal,
and the only loop over segments (those with such a refusal, decided alone).
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

    def segment(self, k: int) -> "PoolYear":
        """Segment ``k`` alone, as a pool-year of one segment."""
        a, b = np.searchsorted(self.seg, [k, k + 1])
        caps = []
        for cap in self.caps:
            inside = (cap.rows >= a) & (cap.rows < b)
            caps.append(Cap.over(cap.amount, cap.rows[inside] - a, cap.firm[inside], cap.used[inside]))
        return PoolYear(want=self.want[a:b], program=self.program[a:b], day=self.day[a:b],
                        balance=None if self.balance is None else self.balance[k:k + 1],
                        seg=np.zeros(b - a, dtype=np.int64),
                        limit=None if self.limit is None else self.limit[a:b],
                        all_or_nothing=None if self.all_or_nothing is None else self.all_or_nothing[a:b],
                        caps=tuple(caps))


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
    asked, full = _admit(py, np.zeros(n, dtype=np.int64), 0, consume=True)
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

    Every segment at once: the applications are decided as if the pool had no limit, up
    to the one whose grant reaches the segment's balance (the crossing, found on the
    running totals); the crossing gets what is left; after it, the pool is empty and every
    later one is refused, on the cap, the count or the pool.  A segment whose crossing is
    an all-or-nothing refusal keeps money for smaller claims: it is decided again alone,
    by :func:`_in_order_alone`, which repeats the same steps from each such refusal.
    """
    n, segments = len(py), _segments(py)
    granted = np.zeros(n, dtype=np.int64)
    asked, full = _admit(py, granted, 0, consume=True)
    take = np.where(full, 0, asked) if full.any() else asked  # a firm its cap stops asks 0
    dry_day = np.full(segments, -1, dtype=np.int64)
    if py.balance is None:
        return Decided(take, _paid_or_stopped(py.want, asked, take, lost_count), np.full(n, -1, dtype=np.int64), dry_day)
    balance = py.balance[py.seg]
    total = _running(py.seg, take, segments)
    crosses = np.flatnonzero((total >= balance) & (balance > 0))
    k = np.full(segments, n, dtype=np.int64)  # each segment's crossing, n if none
    seg_k, first = np.unique(py.seg[crosses], return_index=True)
    k[seg_k] = crosses[first]
    row = np.arange(n)
    before = row < k[py.seg]
    granted = np.where(before & (balance > 0), take, 0)
    outcome = _paid_or_stopped(py.want, asked, take, lost_count)
    at = k[seg_k]
    left = py.balance[seg_k] - (total[at] - take[at])
    ask = take[at]
    whole = ask <= left
    refused = ~whole & (py.all_or_nothing[at] if py.all_or_nothing is not None else False)
    granted[at] = np.where(whole, ask, np.where(refused, 0, left))
    outcome[at] = np.where(whole, np.where(ask == py.want[at], FULL, PARTIAL), np.where(refused, lost_pool, PARTIAL))
    dry_day[seg_k] = py.day[at]
    closed = ~before & (row != k[py.seg]) | (balance == 0)
    if closed.any():  # the pool is empty: refused on the cap, the count or the pool
        asked, full = _admit(py, granted, 0, consume=False)
        reaches = (asked > 0) & ~full
        outcome[closed] = np.where(reaches, lost_pool, np.where(asked == 0, FIRM_CAP, lost_count))[closed]
        empty = closed & reaches & (py.balance == 0)[py.seg]  # empty from the start: dry on the first that reaches it
        seg_e, first = np.unique(py.seg[empty], return_index=True)
        dry_day[seg_e] = py.day[np.flatnonzero(empty)[first]]
    after = balance - _running(py.seg, granted, segments)
    out = Decided(granted, outcome.astype(np.int8), after, dry_day)
    for s in seg_k[refused].tolist():  # money left after an all-or-nothing refusal
        a, b = np.searchsorted(py.seg, [s, s + 1])
        alone = _in_order_alone(py.segment(s), lost_count, lost_pool)
        out.granted[a:b], out.outcome[a:b], out.after[a:b] = alone.granted, alone.outcome, alone.after
        out.dry_day[s] = alone.dry_day[0]
    return out


def _in_order_alone(py: PoolYear, lost_count: int, lost_pool: int) -> Decided:
    """One segment, decided turn by turn from each all-or-nothing refusal that leaves money.

    ``s`` is the first undecided application.  While the pool holds money, the applications
    from ``s`` are decided as if it had no limit, up to the crossing; after it the pool is
    closed: applications are refused until one still fits.
    """
    n = len(py)
    granted = np.zeros(n, dtype=np.int64)
    outcome = np.zeros(n, dtype=np.int8)
    balance, dry = int(py.balance[0]), None
    s, closed = 0, balance == 0
    while s < n:
        if closed:
            asked, full = _admit(py, granted, s, consume=False)
            reaches = (asked > 0) & ~full  # gets past the cap and the count to the pool
            if balance == 0:
                fits = np.zeros(n - s, dtype=bool)
            elif py.all_or_nothing is None:
                fits = reaches
            else:
                fits = reaches & ((asked <= balance) | ~py.all_or_nothing[s:])
            j = s + _first(fits, n - s)
            outcome[s:j] = np.where(reaches, lost_pool, np.where(asked == 0, FIRM_CAP, lost_count))[:j - s]
            if dry is None and reaches[:j - s].any():
                dry = s + _first(reaches, n - s)
            s, closed = j, False
            continue
        asked, full = _admit(py, granted, s, consume=True)
        take = np.where(full, 0, asked) if full.any() else asked
        total = np.cumsum(take)
        k = s + int(np.searchsorted(total, balance, side="left"))
        end = min(k, n)
        granted[s:end] = take[:end - s]
        outcome[s:end] = _paid_or_stopped(py.want[s:end], asked[:end - s], take[:end - s], lost_count)
        if k == n:
            break
        left = balance - (int(total[k - s - 1]) if k > s else 0)
        ask = int(take[k - s])
        if ask <= left:  # reaches the balance exactly
            granted[k], outcome[k], balance = ask, FULL if ask == py.want[k] else PARTIAL, 0
        elif py.all_or_nothing is not None and py.all_or_nothing[k]:
            outcome[k], balance = lost_pool, left
        else:
            granted[k], outcome[k], balance = left, PARTIAL, 0
        dry = k if dry is None else dry
        s, closed = k + 1, True
    after = py.balance[0] - np.cumsum(granted)
    return Decided(granted, outcome, after, np.array([-1 if dry is None else int(py.day[dry])], dtype=np.int64))


def _paid_or_stopped(want: np.ndarray, asked: np.ndarray, take: np.ndarray, lost_count: int) -> np.ndarray:
    """Outcomes before the pool binds: paid in full or in part, or stopped by the cap (asks 0) or the count."""
    out = np.where(take == want, FULL, PARTIAL).astype(np.int8)
    stopped = take == 0
    if stopped.any():
        out[stopped] = np.where(asked[stopped] == 0, FIRM_CAP, lost_count)
    return out


def _first(flags: np.ndarray, none: int) -> int:
    """Index of the first True, or ``none``."""
    i = int(np.argmax(flags)) if len(flags) else 0
    return i if len(flags) and flags[i] else none


def _admit(py: PoolYear, granted: np.ndarray, s: int, consume: bool) -> tuple[np.ndarray, np.ndarray]:
    """Applications ``s``… as if the pool had no limit: what each may ask after its caps, and whether its count is full.

    Those before ``s`` are decided (``granted``).  With ``consume`` each later application
    the caps and the count let through takes what it asks; without, each takes what it
    was granted (nothing, if undecided).  Returns arrays for ``s``… only.
    """
    want = py.want[s:]
    full = np.zeros(len(want), dtype=bool)
    if not py.caps and py.limit is None:
        return want, full
    while True:
        asked = want
        if py.caps:
            asked = want.copy()
            spent = granted.copy()
            if consume:
                spent[s:] = np.where(full, 0, want)
            for cap in py.caps:
                later = cap.rows >= s
                room = cap.room(spent)[later]
                at = cap.rows[later] - s
                asked[at] = np.minimum(asked[at], room)
        now = _count_full(py, granted, s, asked > 0, consume)
        if not (consume and py.caps) or np.array_equal(now, full):
            return asked, now
        full = now  # refusals on the count left cap room to later applications: again


def _count_full(py: PoolYear, granted: np.ndarray, s: int, live: np.ndarray, consume: bool) -> np.ndarray:
    """Whether each application from ``s`` finds its program's places in its segment taken.

    Places are taken by the earlier grants and, with ``consume``, by the earlier
    applications from ``s`` that get past their caps (``live``).
    """
    if py.limit is None:
        return np.zeros(len(live), dtype=bool)
    took = granted > 0
    if consume:
        took = took.copy()
        took[s:] = live
    key = py.seg * (int(py.program.max()) + 1) + py.program
    taken = _earlier(key, took)[s:]
    limit = py.limit[s:]
    return (limit >= 0) & live & (taken >= limit)


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
