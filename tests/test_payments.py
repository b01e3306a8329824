"""Issue 13: when the money leaves the treasury — the payment rule on its own, by hand and by property.

The rule is a pure function of the grants, their days, the program's timing and uniform
numbers (:func:`sim.engine.payments.schedule`); each hand case below is worked out on a
calendar, and hypothesis checks the books: what is paid and what lapses add up to the
grant, to the yuan, and nothing is paid before it is decided.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.payments import Timing, pay, schedule
from sim.scenario.load import load_scenario
from sim.scenario.model import build, months_later
from sim.scenario.schema import PaymentAssumptions

START = dt.date(2025, 1, 1)


def day(y: int, m: int, d: int) -> int:
    return (dt.date(y, m, d) - START).days


def date(d: int) -> dt.date:
    return START + dt.timedelta(days=int(d))


def terms(**fields) -> PaymentAssumptions:
    return PaymentAssumptions.model_validate({k: {**v, "why": "test"} for k, v in fields.items()})


def one(amount: int, on: int, timing: Timing, u_lag: float = 0.5, u_lapse: float = 0.5, columns: int = 1):
    amounts = np.array([[amount // columns] * (columns - 1) + [amount - amount // columns * (columns - 1)]])
    return schedule(amounts, np.array([on]), timing, np.array([u_lag]), np.array([u_lapse]), start=START)


# --------------------------------------------------------------------------- the calendar

@pytest.mark.parametrize("frm,months,to", [
    ((2025, 11, 15), 2, (2026, 1, 15)),    # the same day two months on
    ((2025, 11, 30), 2, (2026, 1, 31)),    # the last day stays the last
    ((2025, 11, 15), 2.5, (2026, 1, 31)),  # half a month more: the end of the month reached
    ((2028, 2, 29), 12, (2029, 2, 28)),    # a leap day a year on
    ((2025, 1, 31), 1, (2025, 2, 28)),     # the last of January, one month on
    ((2025, 3, 31), 0, (2025, 3, 31)),     # no lag: the same day
    ((2025, 10, 15), 24, (2027, 10, 15)),  # two years on
    ((2025, 11, 15), 3, (2026, 2, 14)),    # the middle of a 30-day month is the 14th of a 28-day one
    ((2025, 11, 1), 2, (2026, 1, 1)),      # the first stays the first: November + 2 is never December
])
def test_months_are_calendar_months(frm, months, to):
    assert date(months_later(START, day(*frm), months)) == dt.date(*to)


@given(st.integers(0, 5000), st.floats(0, 60, allow_nan=False), st.floats(0, 60, allow_nan=False))
def test_later_months_never_give_an_earlier_day(start_day, a, b):
    lo, hi = sorted((a, b))
    assert start_day <= months_later(START, start_day, lo) <= months_later(START, start_day, hi)


# --------------------------------------------------------------------------- hand cases (issue 13)

def test_a_november_voucher_with_a_two_to_four_month_lag_pays_in_the_next_budget_year():
    timing = Timing("redemption", terms(lag_months={"dist": "uniform", "low": 2, "high": 4}))
    november = np.array([day(2025, 11, d) for d in range(1, 31)])
    for u in (1e-9, 0.25, 0.5, 0.75, 1 - 1e-9):
        s = schedule(np.full((30, 1), 500_000), november, timing, np.full(30, u), start=START)
        paid_on = [date(d) for d in s.day[:, 0]]
        assert all(d.year == 2026 and d.month in (1, 2, 3) for d in paid_on)
        assert (s.paid[:, 0, 0] == 500_000).all() and (s.lapsed == 0).all()
    # 15 November, u = 0.5: a lag of 3 months; the middle of November is the middle of February, the 14th
    assert date(one(500_000, day(2025, 11, 15), timing).day[0, 0]) == dt.date(2026, 2, 14)


def test_a_5000_wan_platform_paid_in_three_yearly_instalments():
    timing = Timing("instalments", terms(instalments={"shares": ["1/3", "1/3", "1/3"]}))
    s = one(50_000_000, day(2025, 7, 1), timing)
    # a third rounded down twice, the rest last: 16,666,666 + 16,666,666 + 16,666,668 = 50,000,000
    assert s.paid[0, :, 0].tolist() == [16_666_666, 16_666_666, 16_666_668]
    assert [date(d) for d in s.day[0]] == [dt.date(2025, 7, 1), dt.date(2026, 7, 1), dt.date(2027, 7, 1)]
    assert s.instalment.tolist() == [0, 1, 2] and (s.lapsed == 0).all()


def test_uneven_instalments_split_each_funder_part():
    timing = Timing("instalments", terms(instalments={"shares": ["40%", "30%", "30%"]}))
    s = schedule(np.array([[1_000_001, 333]]), np.array([0]), timing, start=START)
    # 40% and 30% rounded down, the rest last, per funder: 400,000 + 300,000 + 300,001 and 133 + 99 + 101
    assert s.paid[0].T.tolist() == [[400_000, 300_000, 300_001], [133, 99, 101]]


def test_a_lapsed_share_of_ten_percent_pays_ninety_percent():
    timing = Timing("redemption", terms(lag_months={"dist": "constant", "value": 3},
                                        lapse={"dist": "constant", "value": 0.1}))
    s = one(1_000_000, day(2025, 4, 10), timing)
    assert s.paid[0, :, 0].tolist() == [900_000, 0] and s.lapsed[0, :, 0].tolist() == [0, 100_000]
    assert [date(d) for d in s.day[0]] == [dt.date(2025, 7, 10)] * 2  # no deadline: it lapses when the rest is paid
    halves = one(1_000_000, day(2025, 4, 10), timing, columns=2)  # split between two funders first: 50万 each
    assert halves.paid[0, 0].tolist() == [450_000, 450_000] and halves.lapsed[0, 1].tolist() == [50_000, 50_000]


def test_a_voucher_never_redeemed_lapses_whole_and_one_past_its_deadline_lapses_on_it():
    never = Timing("redemption", terms(lag_months={"dist": "constant", "value": 3},
                                       lapse={"dist": "choice", "values": {0: 0.9, 1: 0.1}}))
    assert one(500_000, 0, never, u_lapse=0.95).lapsed[0].sum() == 500_000  # the top tenth of u: never redeemed
    assert one(500_000, 0, never, u_lapse=0.5).paid[0].sum() == 500_000
    late = Timing("redemption", terms(lag_months={"dist": "uniform", "low": 6, "high": 18}, deadline={"months": 12}))
    s = one(500_000, day(2025, 3, 1), late, u_lag=0.9)  # a lag of 16.8 months, past the 12-month validity
    assert s.paid[0].sum() == 0 and s.lapsed[0].sum() == 500_000
    assert date(s.day[0, 1]) == dt.date(2026, 3, 1)  # it lapses on the deadline, a year after issue
    on_time = one(500_000, day(2025, 3, 1), late, u_lag=0.25)  # 9 months: paid on 1 December
    assert on_time.paid[0, 0, 0] == 500_000 and date(on_time.day[0, 0]) == dt.date(2025, 12, 1)


def test_an_award_paid_after_a_completion_milestone_two_years_on():
    timing = Timing("milestone", terms(lag_months={"dist": "constant", "value": 24}))
    s = one(20_000_000, day(2025, 10, 15), timing)
    assert s.paid[0, 0, 0] == 20_000_000 and date(s.day[0, 0]) == dt.date(2027, 10, 15)


def test_a_grant_paid_at_the_decision_is_paid_that_day_whole():
    s = one(1_234_567, day(2025, 6, 30), Timing())
    assert s.paid[0].tolist() == [[1_234_567]] and s.day[0].tolist() == [day(2025, 6, 30)]


def test_a_policy_ending_in_2025_pays_in_2026():
    timing = Timing("redemption", terms(lag_months={"dist": "uniform", "low": 1, "high": 3}))
    s = one(300_000, day(2025, 12, 20), timing)  # issued on the policy's last days
    assert date(s.day[0, 0]).year == 2026 and s.paid[0, 0, 0] == 300_000


# --------------------------------------------------------------------------- properties

LAGS = st.sampled_from([
    {"dist": "uniform", "low": 0, "high": 6}, {"dist": "constant", "value": 24},
    {"dist": "lognormal", "median": 3, "sigma": 1.0, "max": 40}, {"dist": "empirical", "values": [1, 2.5, 13]},
])
LAPSES = st.sampled_from([None, {"dist": "constant", "value": 0.1}, {"dist": "uniform", "low": 0, "high": 1},
                          {"dist": "choice", "values": {0: 0.8, 1: 0.2}}])


@st.composite
def timings(draw):
    kind = draw(st.sampled_from(["decision", "redemption", "milestone", "instalments"]))
    if kind == "decision":
        return Timing()
    if kind == "instalments":
        cuts = sorted(draw(st.lists(st.integers(1, 99), max_size=4, unique=True)))
        shares = [f"{b - a}/100" for a, b in zip([0] + cuts, cuts + [100])]
        return Timing(kind, terms(instalments={"shares": shares}))
    fields = {"lag_months": draw(LAGS)}
    lapse = draw(LAPSES)
    if lapse:
        fields["lapse"] = lapse
    if draw(st.booleans()):
        fields["deadline"] = {"months": draw(st.sampled_from([1, 6, 12, 30]))}
    return Timing(kind, terms(**fields))


@settings(max_examples=200, deadline=None)
@given(timings(), st.lists(st.tuples(st.integers(0, 10**10), st.integers(0, 10**9), st.integers(0, 1460),
                                     st.floats(1e-9, 1 - 1e-9), st.floats(1e-9, 1 - 1e-9)), min_size=1, max_size=30))
def test_paid_and_lapsed_add_up_to_the_grant_and_nothing_is_paid_before_its_decision(timing, grants):
    amounts = np.array([[a, b] for a, b, *_ in grants], dtype=np.int64)
    days = np.array([g[2] for g in grants])
    s = schedule(amounts, days, timing, np.array([g[3] for g in grants]), np.array([g[4] for g in grants]), start=START)
    assert ((s.paid + s.lapsed).sum(axis=1) == amounts).all()  # per grant and funder, to the yuan
    assert (s.paid >= 0).all() and (s.lapsed >= 0).all()
    assert (s.day >= days[:, None]).all()


# --------------------------------------------------------------------------- draws of a pass

@pytest.fixture(scope="module")
def model():
    return build(load_scenario("scenarios/baoding.yaml"))


def grants(model, runs: int, n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    voucher = model.program("baoding.voucher_local_platform").index
    upgrade = model.program("baoding.dc_upgrade").index
    at = np.repeat(np.arange(runs), n)
    return dict(at=at, firm=np.tile(np.arange(n), runs), program=rng.choice([voucher, upgrade], runs * n),
                year=rng.choice(model.years, runs * n), day=rng.integers(0, 1000, runs * n),
                amounts=rng.integers(1, 10**6, (runs * n, 2)))


def test_a_grant_pays_the_same_in_a_pass_of_runs_as_in_its_run_alone(model):
    g = grants(model, runs=4, n=40)
    together = pay(model, np.arange(10, 14), **g)
    for r in range(4):
        rows = np.flatnonzero(g["at"] == r)
        alone = pay(model, np.array([10 + r]), **{k: v[rows] for k, v in g.items() if k != "at"}, at=np.zeros(len(rows), dtype=np.int64))
        mine = np.isin(together.grant, rows)
        assert (np.sort(together.day[mine]) == np.sort(alone.day)).all()
        assert together.paid[mine].sum() == alone.paid.sum() and together.lapsed[mine].sum() == alone.lapsed.sum()


def test_a_grant_pays_the_same_whatever_other_grants_are_paid(model):
    """Lags are drawn by (run, program, year, firm): dropping the other program's grants moves nothing."""
    g = grants(model, runs=2, n=60)
    voucher = model.program("baoding.voucher_local_platform").index
    everything = pay(model, np.arange(2), **g)
    keep = np.flatnonzero(g["program"] == voucher)
    only = pay(model, np.arange(2), **{k: v[keep] for k, v in g.items()})
    mine = np.isin(everything.grant, keep)
    order = np.lexsort((everything.instalment[mine], everything.day[mine], everything.grant[mine]))
    assert (keep[only.grant] == everything.grant[mine][order]).all()
    assert (only.day == everything.day[mine][order]).all() and (only.paid == everything.paid[mine][order]).all()


def test_every_grant_of_a_pass_balances_and_lags_vary(model):
    g = grants(model, runs=3, n=200)
    p = pay(model, np.arange(3), **g)
    paid = np.zeros_like(g["amounts"])
    np.add.at(paid, p.grant, p.paid + p.lapsed)
    assert (paid == g["amounts"]).all()
    voucher = model.program("baoding.voucher_local_platform").index
    lags = p.day[(g["program"][p.grant] == voucher) & (p.paid.sum(axis=1) > 0)] - g["day"][p.grant[(g["program"][p.grant] == voucher) & (p.paid.sum(axis=1) > 0)]]
    assert len(np.unique(lags)) > 50 and lags.min() >= 28  # at least a month (min: 1), days differ grant by grant
