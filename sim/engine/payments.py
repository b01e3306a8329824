"""Payments: when each grant leaves the treasury, and how much of it never does.

A pool's budget limits what is *committed*: the grant, on the day it is decided.  The
treasury pays *cash*, and the texts say some grants are paid later.  Baoding's compute
voucher is issued at the decision and paid only when the firm, having used the compute
and paid its bill in full, redeems it months later (先行支付全额费用…审核通过后予以兑付),
and some vouchers are never redeemed; Yinchuan pays its project awards once the project
is built (待項目建成投產後); Binjiang pays its embodied-AI platform by year as the work
progresses (分年度).  So a commitment of November is cash of January, and a policy that
ends in 2025 still pays in 2026.

Timing is applied after allocation, to the grants an engine decided, the same way for
both engines: it never changes who is granted what.  Each grant's amounts (one column per
funder, split first, see :func:`sim.runs.records.funder_split`) are paid in *slots*, all
columns on the same days:

- ``decision``: one payment, on the day of the decision;
- ``redemption`` and ``milestone``: the grant less its lapsed share is paid ``lag``
  months after the decision; the lapsed share (rounded to the yuan) lapses on the
  deadline if there is one, else on that same day; a grant whose lag passes the deadline
  lapses whole on the deadline;
- ``instalments``: share ``k`` is paid ``12 k`` months after the decision, each share
  rounded down to the yuan and the last one the rest.

So, to the yuan, what is paid and what lapses add up to the grant, column by column, and
no payment comes before its decision.  Months are calendar months
(:func:`sim.scenario.model.months_later`).

A grant's lag and lapsed share come from uniform numbers of named streams of their own,
``payment_lag/<program>/<year>`` and ``payment_lapse/<program>/<year>``, numbered by firm
(a firm has at most one grant of a program a year): they depend on (seed, run, program,
year, firm) alone, not on the batch, the worker or the other grants, and adding a
program's timing moves no other draw.  Variants with the same firms (a different budget,
rate or timing elsewhere) draw the same lags; the counter is the firm's number in its run,
so a variant with more firms in an earlier segment numbers the later ones anew and draws
their lags afresh (the same distribution, other numbers).

Examples
--------
>>> import datetime as dt, numpy as np
>>> from fractions import Fraction
>>> from sim.scenario.schema import PaymentAssumptions
>>> thirds = PaymentAssumptions.model_validate({"instalments": {"shares": ["1/3", "1/3", "1/3"], "why": "even"}})
>>> s = schedule(np.array([[50_000_000]]), np.array([0]), Timing("instalments", thirds), start=dt.date(2025, 7, 1))
>>> s.paid[0, :, 0].tolist(), [str(dt.date(2025, 7, 1) + dt.timedelta(days=int(d))) for d in s.day[0]]
([16666666, 16666666, 16666668], ['2025-07-01', '2026-07-01', '2027-07-01'])
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sim.engine import streams
from sim.engine.population import draw
from sim.scenario.model import Model, ProgramSpec, months_later
from sim.scenario.schema import LAG_TYPE, LAPSE_TYPE, PaymentAssumptions


@dataclass(frozen=True)
class Timing:
    """How one program pays: the policy's ``kind`` with the scenario's numbers (``terms``)."""

    kind: str = "decision"  # decision, redemption, milestone or instalments
    terms: PaymentAssumptions | None = None

    @classmethod
    def of(cls, spec: ProgramSpec) -> "Timing":
        return cls(spec.pays_on, spec.payment)

    @property
    def later(self) -> bool:
        """True when grants are paid otherwise than whole on the day they are decided."""
        return self.kind != "decision"

    @property
    def lagged(self) -> bool:
        return self.kind in ("redemption", "milestone")


@dataclass
class Schedule:
    """What each grant pays and loses, slot by slot: ``day`` (n, S); ``paid``, ``lapsed`` (n, S, k).

    ``instalment`` (S,) numbers each slot: the instalment it pays (0 for a single payment
    and for a lapse).
    """

    day: np.ndarray
    paid: np.ndarray
    lapsed: np.ndarray
    instalment: np.ndarray


def schedule(amounts: np.ndarray, day: np.ndarray, timing: Timing, u_lag: np.ndarray | None = None,
             u_lapse: np.ndarray | None = None, *, start: dt.date, lag_param=None, lapse_param=None) -> Schedule:
    """The payments and lapses of grants paid as ``timing`` says.

    ``amounts`` is (n, k) int64 yuan: each grant's parts (one per funder, or one column);
    ``day`` the day each grant was decided, since ``start``; ``u_lag`` and ``u_lapse`` one
    uniform number in (0, 1) per grant, turned into its lag in months and its lapsed share
    by the inverse of the scenario's distributions (needed only for a lag or a lapse).
    ``lag_param`` and ``lapse_param`` give a distribution's numbers per grant where the
    scenario makes them uncertain (its run's value); by default the scenario's numbers.
    """
    amounts = np.asarray(amounts, dtype=np.int64)
    day = np.asarray(day, dtype=np.int64)
    n, k = amounts.shape
    terms = timing.terms
    if timing.kind == "instalments":
        shares = terms.instalments.shares
        months = 12.0 * np.arange(len(shares))
        days = months_later(start, day[:, None], months[None, :])
        parts = np.empty((n, len(shares), k), dtype=np.int64)
        for i, share in enumerate(shares[:-1]):
            parts[:, i] = amounts * share.numerator // share.denominator
        parts[:, -1] = amounts - parts[:, :-1].sum(axis=1)
        return Schedule(days, parts, np.zeros_like(parts), np.arange(len(shares), dtype=np.int16))
    if not timing.lagged:
        return Schedule(day[:, None], amounts[:, None, :], np.zeros((n, 1, k), dtype=np.int64), np.zeros(1, dtype=np.int16))
    lag = draw(terms.lag_months, LAG_TYPE, np.asarray(u_lag, dtype=np.float64), lag_param)
    share = (np.zeros(n) if terms.lapse is None
             else draw(terms.lapse, LAPSE_TYPE, np.asarray(u_lapse, dtype=np.float64), lapse_param))
    lost = np.rint(amounts * share[:, None]).astype(np.int64)
    paid = amounts - lost
    paid_on = months_later(start, day, lag)
    lapse_on = paid_on
    if terms.deadline is not None:
        lapse_on = months_later(start, day, np.full(n, terms.deadline.months))
        late = lag > terms.deadline.months
        lost[late], paid[late] = amounts[late], 0
        paid_on = np.where(late, lapse_on, paid_on)
    return Schedule(np.stack([paid_on, lapse_on], axis=1), np.stack([paid, np.zeros_like(paid)], axis=1),
                    np.stack([np.zeros_like(lost), lost], axis=1), np.zeros(2, dtype=np.int16))


@dataclass
class Payments:
    """Every payment and lapse of some grants: one row per grant and slot that moves money.

    ``grant`` indexes the grants given to :func:`pay`; ``paid`` and ``lapsed`` are (rows, k)
    like the amounts; ``day`` is since the horizon's start and may lie past its end.
    """

    grant: np.ndarray
    instalment: np.ndarray
    day: np.ndarray
    paid: np.ndarray
    lapsed: np.ndarray

    def __len__(self) -> int:
        return len(self.grant)


def pay(model: Model, runs: np.ndarray, at: np.ndarray, firm: np.ndarray, program: np.ndarray, year: np.ndarray,
        day: np.ndarray, amounts: np.ndarray, *, values: dict[str, np.ndarray] | None = None) -> Payments:
    """Schedule the grants of a pass of runs; ``at`` is each grant's run as an index into ``runs``.

    ``firm``, ``program``, ``year`` and ``day`` describe each grant (its firm, its program's
    index, its budget year, the day it was decided); ``amounts`` its parts (n, k).  Grants of
    programs paid at the decision are paid in one step; the others program by program,
    each drawing its lags and lapses from its own streams.  ``values`` holds, per run of
    ``runs``, the uncertain numbers of the lag and lapse distributions
    (``programs.KEY.payment.lag_months.median``…), as the sampler took them.
    """
    values = values or {}
    amounts = np.asarray(amounts, dtype=np.int64)
    timings = _timings(model)
    later = np.array([t.later for t in timings], dtype=bool)[program] if len(program) else np.zeros(0, dtype=bool)
    now = np.flatnonzero(~later)
    parts = [Payments(now, np.zeros(len(now), dtype=np.int16), np.asarray(day, dtype=np.int64)[now], amounts[now],
                      np.zeros_like(amounts[now]))]
    for p in np.unique(program[later]).tolist():
        rows = np.flatnonzero(program == p)
        timing = timings[p]
        u_lag = u_lapse = None
        if timing.lagged:
            u_lag = _uniforms(model, "payment_lag", model.programs[p], runs, at[rows], firm[rows], year[rows])
            if timing.terms.lapse is not None:
                u_lapse = _uniforms(model, "payment_lapse", model.programs[p], runs, at[rows], firm[rows], year[rows])
        params = {name: _param(values, f"programs.{model.programs[p].key}.payment.{name}", getattr(timing.terms, name),
                               at[rows]) for name in ("lag_months", "lapse") if timing.lagged}
        parts.append(_flat(rows, schedule(amounts[rows], day[rows], timing, u_lag, u_lapse, start=model.start,
                                          lag_param=params.get("lag_months"), lapse_param=params.get("lapse"))))
    return Payments(*(np.concatenate([getattr(x, f) for x in parts]) for f in ("grant", "instalment", "day", "paid", "lapsed")))


def _param(values: dict[str, np.ndarray], path: str, dist, at: np.ndarray):
    """A distribution's number by name: its run's value where the scenario makes it uncertain, else its own."""
    if dist is None:
        return None
    return lambda name: values[f"{path}.{name}"][at] if f"{path}.{name}" in values else getattr(dist, name)


def _timings(model: Model) -> list[Timing]:
    return model.cache.get("timings") or model.cache.setdefault("timings", [Timing.of(p) for p in model.programs])


def _flat(rows: np.ndarray, s: Schedule) -> Payments:
    """A schedule's slots as rows, keeping only those that pay or lose something."""
    n, slots, k = s.paid.shape
    paid, lapsed = s.paid.reshape(n * slots, k), s.lapsed.reshape(n * slots, k)
    moves = np.flatnonzero((paid != 0).any(axis=1) | (lapsed != 0).any(axis=1))
    return Payments(rows[moves // slots], s.instalment[moves % slots], s.day.ravel()[moves], paid[moves], lapsed[moves])


def _uniforms(model: Model, purpose: str, spec: ProgramSpec, runs: np.ndarray, at: np.ndarray, firm: np.ndarray,
              year: np.ndarray) -> np.ndarray:
    """One uniform number per grant from stream ``purpose/<program>/<year>`` of its run, numbered by firm."""
    years = np.unique(year).tolist()
    keys = model.cache.setdefault("stream_keys", {})
    seed = model.scenario.monte_carlo.seed
    names = [f"{purpose}/{spec.key}/{y}" for y in years]
    for name in names:
        if name not in keys:
            keys[name] = streams.stream_key(seed, name)
    table = streams.bases(np.array([keys[n] for n in names], dtype=np.uint64), np.asarray(runs, dtype=np.int64))
    which = np.searchsorted(np.array(years), year)
    return streams.uniform(table[which, at], np.asarray(firm, dtype=np.int64).astype(np.uint64))
