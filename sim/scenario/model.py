"""The compiled model: a scenario turned into indexed programs and pools that engines run.

Policies and scenarios speak in names and dates; engines want small integers and day
numbers.  :func:`build` does that translation once per scenario: every program and pool
gets an index, every date becomes a day since the horizon's start, every assumption the
scenario makes about a program (its call, its score, its award share) sits beside it.
Nothing here is random and nothing changes during a run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from sim.errors import ScenarioError
from sim.policy.models import Policy, Program
from sim.scenario.schema import PaymentAssumptions, ProgramBehaviour, Scenario


@dataclass(frozen=True)
class ProgramSpec:
    index: int
    policy: str
    id: str
    program: Program
    pool: int
    behaviour: ProgramBehaviour
    one_time: bool
    top_up: bool  # 补足差额: pays the difference on promotion to a higher grade, once per grade
    same_year: bool  # 当年: a one-time award claimed in one budget year only
    count_limit: int | None
    max_years: int | None
    firm_caps: tuple[int, ...]
    funding: tuple[tuple[tuple[str, Fraction], ...], ...]  # shares per funding case
    funding_by: str | None
    funding_cases: tuple[str, ...]
    window: tuple[int, int]  # first and last day in force, clipped to the horizon
    group: int = -1  # the 不重复 group it belongs to (index into Model.groups), -1 for none
    pays_on: str = "decision"  # the policy's payment kind: decision, redemption, milestone, instalments
    payment: PaymentAssumptions | None = None  # the scenario's lags, lapse, deadline, instalments
    credit: str = "in_force"  # which days of a base year its flows count: in_force, before_policy, full_year

    @property
    def key(self) -> str:
        return f"{self.policy}.{self.id}"

    def latest_payment(self, highest: Mapping[str, float] | None = None) -> float:
        """Months after its decision by which every payment or lapse of a grant has happened.

        ``highest`` gives the largest value an uncertain number of the lag's distribution
        can take, by name (``high``, ``max``…): the tail must hold the longest lag of any run.
        """
        a = self.payment
        if self.pays_on == "instalments" and a is not None and a.instalments is not None:
            return 12.0 * (len(a.instalments.shares) - 1)
        if self.pays_on not in ("redemption", "milestone") or a is None or a.lag_months is None:
            return 0.0
        lag = a.lag_months.model_copy(update=dict(highest or {})).highest()
        if a.deadline is None:
            return lag
        # past the deadline a grant lapses on it; a lapsed share lapses on it too
        return a.deadline.months if a.lapse is not None else min(lag, a.deadline.months)


def pool_openings(period: str, budgets: Mapping[int, int | None], years: Sequence[int]) -> dict[int, int | None]:
    """The budget years in which a pool opens, each with the balance it opens with.

    An annual pool (``period: year``) opens every budget year with that year's budget; what
    was left lapses.  A pool over the policy's life (``life``) opens once, in the first
    year, and carries its balance to the end.  In a year that does not open, the pool
    spends what it carried.  None is a pool without a limit.

    This is the one statement of the rule: the ledger's resets, the fast engine, the
    ``pool_years`` table (through :meth:`PoolSpec.openings`) and the report (from the
    manifest's period and budgets) all read it, so a new shape of pool changes only this.
    """
    if period == "year":
        return {year: budgets[year] for year in years}
    if period == "life":
        return {years[0]: budgets[years[0]]}
    raise ValueError(f"a pool's period is year or life, not {period!r}")


@dataclass(frozen=True)
class PoolSpec:
    index: int
    key: str
    title: str
    rationing: str
    rationing_basis: str
    period: str
    budgets: dict[int, int | None]  # by budget year; None = no limit
    review: dict[int, int]  # decision day per year (competitive and pro-rata rounds)
    programs: tuple[int, ...]

    def openings(self) -> dict[int, int | None]:
        """The budget years in which the pool opens, with the balance it opens with (see :func:`pool_openings`)."""
        return pool_openings(self.period, self.budgets, list(self.budgets))


@dataclass(frozen=True)
class GroupSpec:
    """Programs of which a firm is paid by one only (从优就高不重复), over the horizon or a year.

    ``programs`` in the group's order, which breaks ties between equal entitlements;
    ``period`` is ``life`` (one program over the whole horizon) or ``year`` (one a budget year).
    """

    index: int
    programs: tuple[int, ...]
    period: str
    source: str  # where it is stated: "POLICY stacking N" or "scenario stacking N"


@dataclass(frozen=True)
class FirmCapSpec:
    index: int
    amount: int
    period: str
    programs: tuple[int, ...]


@dataclass
class Model:
    scenario: Scenario
    start: dt.date
    years: list[int]
    year_start: dict[int, int]
    year_end: dict[int, int]
    programs: list[ProgramSpec]
    pools: list[PoolSpec]
    firm_caps: list[FirmCapSpec]
    groups: list[GroupSpec]
    funders: list[str] = field(default_factory=list)
    cash_years: list[int] = field(default_factory=list)  # the budget years and the years of the tail of payments
    cache: dict = field(default_factory=dict)  # lookups an engine derives once per model

    def day(self, date: dt.date) -> int:
        return (date - self.start).days

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=int(day))

    def month_day(self, year: int, md: str) -> int:
        return self.day(dt.date(year, int(md[:2]), int(md[3:5])))

    def program(self, key: str) -> ProgramSpec:
        return next(p for p in self.programs if p.key == key)


def build(scenario: Scenario) -> Model:
    """Index the scenario's enabled programs and their pools."""
    horizon = scenario.horizon
    years = horizon.years
    model = Model(
        scenario=scenario, start=horizon.start, years=years,
        year_start={}, year_end={}, programs=[], pools=[], firm_caps=[], groups=[],
    )
    model.year_start = {y: model.day(dt.date(y, 1, 1)) for y in years}
    model.year_end = {y: model.day(dt.date(y, 12, 31)) for y in years}
    pool_index: dict[str, int] = {}
    pool_members: dict[str, list[int]] = {}
    for pid, policy in scenario.policies.items():
        for prog_id, program in policy.enabled_programs().items():
            pool_key = f"{pid}.{policy.pool_of(prog_id)}"
            pool_index.setdefault(pool_key, len(pool_index))
            index = len(model.programs)
            pool_members.setdefault(pool_key, []).append(index)
            model.programs.append(_program(model, policy, prog_id, program, pool_index[pool_key], index))
    for key, idx in pool_index.items():
        pid, _, pool_id = key.partition(".")
        model.pools.append(_pool(model, scenario, scenario.policies[pid], pool_id, key, idx, pool_members[key]))
    _caps_and_stacking(model, scenario)
    model.funders = sorted({f for p in model.programs for case in p.funding for f, _ in case})
    model.cash_years = _cash_years(model)
    return model


def months_later(start: dt.date, day, months) -> np.ndarray:
    """The day (since ``start``) that lies ``months`` calendar months after ``day``, keeping its place in the month.

    A date's place is its month plus how far into the month it lies (the middle of the
    day, as a share of the month's length); the months are added to that place and the
    date read back.  So 15 November + 2 is 15 January, 30 November + 2 is 31 January (the
    last day stays the last), 29 February + 12 is 28 February, 15 November + 3 is 14
    February (the middle of February), and a fraction of a month counts in the month
    reached (15 November + 2.5 is 31 January).  Whole months always land in the month so
    many months on, and more months never give an earlier day.  ``day`` and ``months`` are
    numbers or arrays; the result is never before ``day``.
    """
    day = np.asarray(day, dtype=np.int64)
    origin = np.datetime64(start, "D").astype(np.int64)  # days since 1970
    month, first, length = _months_of(origin + day)
    place = month + (origin + day - first + 0.5) / length + np.asarray(months, dtype=np.float64)
    whole = np.floor(place)
    to = whole.astype(np.int64)
    _, to_first, to_length = _months_of(None, to)
    within = np.minimum(np.floor((place - whole) * to_length).astype(np.int64), to_length - 1)
    return np.maximum(to_first + within - origin, day)


def _months_of(days: np.ndarray | None, months: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Months since 1970 of ``days`` since 1970 (or the ``months`` given), with each month's first day and length.

    Calendar arithmetic is done once per day or month of the range spanned, not once per
    element: a pass of runs pays tens of thousands of grants over a few years.
    """
    given = np.asarray(days if months is None else months, dtype=np.int64)
    if given.size == 0:
        return given, given, given
    low = int(given.min())
    span = np.arange(low, int(given.max()) + 1)
    month = span.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) if months is None else span
    first = month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    length = (month + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - first
    at = given - low
    return month[at], first[at], length[at]


def _cash_years(model: Model) -> list[int]:
    """The horizon's budget years and every later year in which a grant of the horizon can be paid or lapse."""
    last = model.years[-1]
    tops = {p.path: p.support()[1] for p in model.scenario.parameters}
    for spec in model.programs:
        at = f"programs.{spec.key}.payment.lag_months."
        months = spec.latest_payment({k[len(at):]: v for k, v in tops.items() if k.startswith(at)})
        if not np.isfinite(months):
            raise ScenarioError.one(model.scenario.path, at.rstrip("."), "an uncertain number of this lag has no "
                                    "largest value, so the years of payments have no end; bound it (high, max)")
        if months > 0:
            day = int(months_later(model.start, spec.window[1], months))
            last = max(last, model.date(day).year)
    return list(range(model.years[0], last + 1))


def _program(model: Model, policy: Policy, prog_id: str, program: Program, pool: int, index: int) -> ProgramSpec:
    key = f"{policy.id}.{prog_id}"
    behaviour = model.scenario.spec.programs.get(key) or ProgramBehaviour(why="defaults: apply any time in the year")
    funding = policy.funding_of(prog_id)
    if funding.by:
        cases = tuple(funding.cases)
        shares = tuple(tuple((funding.cases[c] or {}).items()) for c in cases)
    else:
        cases, shares = (), (tuple(funding.shares.items()),)
    top_up = any(r.rule == "top_up" and prog_id in r.programs for r in policy.stacking)
    window = policy.effective
    first = max(model.day(window.start), 0)
    last = min(model.day(window.last_day), model.year_end[model.years[-1]])
    return ProgramSpec(
        index=index, policy=policy.id, id=prog_id, program=program, pool=pool, behaviour=behaviour,
        one_time=program.one_time, top_up=top_up, same_year=program.same_year is not None,
        count_limit=program.count_limit.per_year if program.count_limit else None,
        max_years=program.max_years, firm_caps=(), funding=shares, funding_by=funding.by,
        funding_cases=cases, window=(first, last), pays_on=program.pays_on, payment=behaviour.payment,
        credit=_credit(model.scenario, policy, prog_id, program),
    )


def _credit(scenario: Scenario, policy: Policy, prog_id: str, program: Program) -> str:
    """Which days of a base year count (:class:`sim.scenario.schema.BaseCount`): the scenario's
    entry for the program, else for its policy, else what the text says."""
    bases = scenario.spec.bases
    entry = bases.get(f"{policy.id}.{prog_id}") or bases.get(policy.id)
    if entry is not None:
        return entry.count
    return "before_policy" if program.benefit.base_before_start is not None else "in_force"


def _pool(model: Model, scenario: Scenario, policy: Policy, pool_id: str, key: str, idx: int, members: list[int]) -> PoolSpec:
    pool = policy.pools[pool_id]
    if pool.period == "life" and isinstance(pool.budget, dict):
        raise ScenarioError.one(scenario.path, f"overrides.{key}.budget", "a pool over the policy's life has one budget, not one per year")
    behaviour = scenario.spec.pools.get(key)
    review = {}
    for year in model.years:
        ends = [model.programs[m].behaviour.call.end for m in members]
        md = behaviour.review if behaviour and behaviour.review else max(ends)  # checked at load: never before max(ends)
        review[year] = model.month_day(year, md)
    return PoolSpec(
        index=idx, key=key, title=pool.title, rationing=pool.rationing, rationing_basis=pool.rationing_basis,
        period=pool.period, budgets={y: pool.budget_in(y) for y in model.years}, review=review,
        programs=tuple(members),
    )


def _caps_and_stacking(model: Model, scenario: Scenario) -> None:
    by_key = {p.key: p.index for p in model.programs}
    for pid, policy in scenario.policies.items():
        for cap in policy.firm_caps:
            members = tuple(by_key[f"{pid}.{p}"] for p in cap.programs if f"{pid}.{p}" in by_key)
            pools = {model.programs[m].pool for m in members}
            if len(pools) > 1:
                raise ScenarioError.one(scenario.path, "policies", f"{pid} firm cap {cap.clause} spans several pools; sim needs its programs to share one pool")
            spec = FirmCapSpec(len(model.firm_caps), cap.amount, cap.period, members)
            model.firm_caps.append(spec)
            for m in members:
                p = model.programs[m]
                model.programs[m] = _replace(p, firm_caps=p.firm_caps + (spec.index,))
        for i, rule in enumerate(policy.stacking):
            if rule.rule == "highest_only" and rule.scope == "within" and rule.programs:
                members = tuple(by_key[f"{pid}.{p}"] for p in rule.programs if f"{pid}.{p}" in by_key)
                _group(model, scenario, members, rule.over.period, f"{pid} stacking {i} ({rule.clause})")
    for i, group in enumerate(scenario.spec.stacking):
        members = tuple(by_key[k] for k in group.programs if k in by_key)
        _group(model, scenario, members, group.period, f"scenario stacking {i}")


def _group(model: Model, scenario: Scenario, members: tuple[int, ...], period: str, source: str) -> None:
    """A 不重复 group of two or more programs in force; a program belongs to one group at most."""
    if len(members) < 2:
        return  # the others are switched off: nothing to choose between
    for m in members:
        p = model.programs[m]
        if p.group >= 0:
            raise ScenarioError.one(scenario.path, "stacking", f"{p.key} is in two 不重复 groups ({model.groups[p.group].source} "
                                    f"and {source}); sim needs each program in one group at most: merge them")
    spec = GroupSpec(len(model.groups), members, period, source)
    model.groups.append(spec)
    for m in members:
        model.programs[m] = _replace(model.programs[m], group=spec.index)


def _replace(spec: ProgramSpec, **changes) -> ProgramSpec:
    from dataclasses import replace

    return replace(spec, **changes)
