"""Policies as code: what each program pays, to whom, from which pool, under which rules.

A policy file (``policies/<id>.yaml``) encodes one source document.  Every program cites
its clause as printed and quotes the sentence it comes from, so a reader can check each
number against the text.  What the text leaves open (a blank date, a pool it never sizes,
how an oversubscribed pool is rationed) is left blank or carries a labelled default that
a scenario overrides.

The models here are frozen: the engine and the quote read them, nothing changes them.
What-if questions are answered by loading a policy again with overrides
(:mod:`sim.policy.overrides`); :mod:`sim.policy.load` reads and checks the files.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from sim.policy.attributes import VOCABULARY, coerce_value
from sim.policy.money import MoneyError, parse_money, parse_rate


def _money(value: Any) -> int:
    try:
        return parse_money(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None


def _price(value: Any) -> Fraction:
    """Yuan per unit: ``0.12`` (yuan/kWh), ``1000`` (yuan/rack) or ``100万`` (per standard)."""
    if isinstance(value, str) and value.strip().rstrip("元")[-1:] in ("万", "亿"):
        return Fraction(_money(value))
    return parse_rate(value)


def _budget(value: Any) -> Any:
    """A budget per year (``4000万``) or by year (``{2024: 4000万, 2025: 5000万}``)."""
    if value is None:
        return None
    if isinstance(value, dict):
        try:
            return {int(year): _money(amount) for year, amount in value.items()}
        except (TypeError, ValueError) as exc:
            raise ValueError(f"a budget by year maps years to amounts, e.g. {{2025: 4000万}}: {exc}") from None
    return _money(value)


# How each value is written in a file, for the JSON Schema editors read (`sim schema policy`).
MONEY_SCHEMA = {"anyOf": [{"type": "integer", "minimum": 0},
                          {"type": "string", "pattern": r"^\s*(\d+|\d{1,3}(,\d{3})+)(\.\d+)?\s*[万亿]?\s*元?\s*$"}],
                "description": "An amount in yuan: 2000, 2000万, 1.5亿 or 2,000万元", "examples": ["2000万", "1亿"]}
RATE_SCHEMA = {"anyOf": [{"type": "number", "minimum": 0},
                         {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*[%‰]|\d+\s*/\s*\d+|\d+(\.\d+)?)\s*$"}],
               "description": "A rate: 30%, 1‰, 1/3 or 0.3", "examples": ["30%", "1/3"]}
PRICE_SCHEMA = {"anyOf": [RATE_SCHEMA["anyOf"][0], RATE_SCHEMA["anyOf"][1], MONEY_SCHEMA["anyOf"][1]],
                "description": "Yuan per unit: 0.12 (per kWh), 1000 (per rack) or 100万 (per standard)"}
Money = Annotated[int, BeforeValidator(_money), WithJsonSchema(MONEY_SCHEMA)]
Budget = Annotated[int | dict[int, int] | None, BeforeValidator(_budget), WithJsonSchema({
    "anyOf": [MONEY_SCHEMA, {"type": "object", "additionalProperties": MONEY_SCHEMA, "propertyNames": {"pattern": r"^\d{4}$"}},
              {"type": "null"}],
    "description": "Per budget year (4000万), by year ({2025: 4000万, 2026: 5000万}), or empty: no limit in the text"})]
Rate = Annotated[Fraction, BeforeValidator(parse_rate), WithJsonSchema(RATE_SCHEMA)]
Price = Annotated[Fraction, BeforeValidator(_price), WithJsonSchema(PRICE_SCHEMA)]
Funder = Literal["province", "city", "district", "county"]
Selection = Literal["entitlement", "recognition", "competitive", "case_by_case"]
Rationing = Literal["first_come", "competitive", "pro_rata"]
Instrument = Literal[
    "voucher", "award", "subsidy", "rent_subsidy", "interest_subsidy", "electricity_subsidy", "transfer"
]
Level = Literal["province", "city", "district", "county"]


class Strict(BaseModel):
    """Unknown fields are errors: a misspelt key must not silently mean 'absent'."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


def _attribute(name: str) -> str:
    if name not in VOCABULARY:
        raise ValueError(
            f"unknown firm attribute {name!r}; use one of the vocabulary (sim/policy/attributes.py), "
            f"e.g. revenue, compute_rental, pue"
        )
    return name


Attr = Annotated[str, BeforeValidator(_attribute), WithJsonSchema({
    "type": "string", "enum": sorted(VOCABULARY), "description": "A firm attribute of the vocabulary (sim/policy/attributes.py)"})]


class Condition(Strict):
    """An eligibility test on one attribute, e.g. ``{attr: pue, lt: 1.2}``."""

    attr: Attr
    ge: Any = None
    gt: Any = None
    le: Any = None
    lt: Any = None
    eq: Any = None
    in_: tuple[str, ...] | None = Field(None, alias="in")

    @model_validator(mode="after")
    def _typed(self) -> "Condition":
        ops = {k: getattr(self, k) for k in ("ge", "gt", "le", "lt", "eq")}
        given = [k for k, v in ops.items() if v is not None] + (["in"] if self.in_ is not None else [])
        if not given:
            raise ValueError(f"condition on {self.attr} needs one of ge, gt, le, lt, eq, in, e.g. {{attr: pue, lt: 1.2}}")
        kind = VOCABULARY[self.attr].kind
        if kind in ("flag", "category") and any(ops[k] is not None for k in ("ge", "gt", "le", "lt")):
            raise ValueError(f"{self.attr} is a {kind}; compare it with eq or in, not ge/gt/le/lt")
        if kind not in ("category",) and self.in_ is not None:
            raise ValueError(f"{self.attr} is not a category; 'in' needs a category attribute")
        for key, value in ops.items():
            if value is not None:
                object.__setattr__(self, key, coerce_value(self.attr, value))
        for value in self.in_ or ():
            coerce_value(self.attr, value)
        return self

    def describe(self) -> str:
        parts = []
        for key, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"), ("eq", "=")):
            value = getattr(self, key)
            if value is not None:
                parts.append(f"{self.attr} {sign} {_show(self.attr, value)}")
        if self.in_ is not None:
            parts.append(f"{self.attr} in {{{', '.join(self.in_)}}}")
        return " and ".join(parts)


def _show(attr: str, value: Any) -> str:
    from sim.policy.money import format_wan

    if VOCABULARY[attr].kind == "money":
        return format_wan(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Split(Strict):
    """A second rate for the part of the base an attribute's share designates.

    Binjiang （六）: 30% of compute rental, 60% for the domestic part: ``rate: 30%`` with
    ``split: {share: domestic_compute_share, rate: 60%}``.
    """

    share: Attr
    rate: Rate

    @model_validator(mode="after")
    def _is_share(self) -> "Split":
        if VOCABULARY[self.share].kind != "share":
            raise ValueError(f"split.share must be a share attribute (0-1); {self.share} is not")
        return self


class Tier(Strict):
    """One step of a tier table: from ``min`` (inclusive, or strictly above with ``gt``)."""

    min: Any = None
    gt: Any = None
    amount: Money | None = None
    rate: Rate | None = None

    @model_validator(mode="after")
    def _one_bound_one_value(self) -> "Tier":
        if (self.min is None) == (self.gt is None):
            raise ValueError("a tier needs exactly one bound: min (from, inclusive) or gt (strictly above)")
        if (self.amount is None) == (self.rate is None):
            raise ValueError("a tier needs exactly one of amount or rate")
        return self

    @property
    def bound(self) -> Any:
        return self.min if self.min is not None else self.gt


BenefitKind = Literal["fixed", "rate", "tiers", "per_unit", "none"]


class BaseBeforeStart(Strict):
    """Where a text counts spending from before the policy is in force (e.g. 2024年1月1日以来发生的).

    Without it, a base counts only from the policy's first day: the conditions a text sets
    (a partner list, a filed contract) exist only once it is in force.
    """

    clause: str
    quote: str


class Bound(Strict):
    """A second ceiling a rate rule must also respect: ``rate`` × ``share`` × ``base``.

    Binjiang （二十一）: the interest subsidy is at most 50% of the interest paid (the rule)
    and at most 50% of the LPR on the loan (``{rate: 50%, share: lpr, base: loan_principal}``).
    """

    rate: Rate
    base: Attr
    share: Attr | None = None

    @model_validator(mode="after")
    def _kinds(self) -> "Bound":
        if VOCABULARY[self.base].kind != "money":
            raise ValueError(f"bound.base must be an amount of money; {self.base} is not")
        if self.share is not None and VOCABULARY[self.share].kind != "share":
            raise ValueError(f"bound.share must be a share attribute (0-1); {self.share} is not")
        return self


class Benefit(Strict):
    """How the amount is computed before the cap.

    ``fixed``: ``amount``.  ``rate``: ``rate`` × ``base`` (with an optional ``split``).
    ``tiers``: the highest tier of ``on`` that the firm reaches, paying its ``amount`` or
    its ``rate`` × ``base``.  ``per_unit``: ``price`` yuan per unit of ``base``.
    ``none``: the text gives no formula (一事一议, or only a ceiling with no base).
    ``upto``: the text states the figure as a ceiling (最高, 不超过), not a fixed sum.
    ``bound``: a second ceiling on a rate rule (:class:`Bound`), the smaller of the two applies.
    ``base_period``: the year whose figures the base is (``previous_year``: 上一年度, claimed the
    year after).  A base that is an annual flow counts only the days the policy is in force
    and the firm exists, unless ``base_before_start`` quotes the text counting earlier spending.
    """

    kind: BenefitKind
    amount: Money | None = None
    base: Attr | None = None
    rate: Rate | None = None
    split: Split | None = None
    price: Price | None = None
    on: Attr | None = None
    tiers: tuple[Tier, ...] = ()
    base_period: Literal["current_year", "previous_year"] = "current_year"
    base_before_start: BaseBeforeStart | None = None
    upto: bool = False
    bound: Bound | None = None

    @model_validator(mode="after")
    def _shape(self) -> "Benefit":
        need: dict[str, tuple[str, ...]] = {
            "fixed": ("amount",),
            "rate": ("base", "rate"),
            "tiers": ("on", "tiers"),
            "per_unit": ("base", "price"),
            "none": (),
        }
        for field in need[self.kind]:
            if getattr(self, field) in (None, ()):
                raise ValueError(f"a {self.kind} benefit needs '{field}'")
        allowed = set(need[self.kind]) | {"kind", "base_period", "upto"}
        allowed |= {"base_before_start"} if self.base is not None else set()
        allowed |= {"split", "bound"} if self.kind == "rate" else set()
        allowed |= {"base"} if self.kind == "tiers" else set()
        extra = [f for f in ("amount", "base", "rate", "split", "price", "on", "bound", "base_before_start")
                 if getattr(self, f) is not None and f not in allowed]
        if self.tiers and self.kind != "tiers":
            extra.append("tiers")
        if extra:
            raise ValueError(f"a {self.kind} benefit does not take {', '.join(extra)}")
        if self.kind == "rate" and VOCABULARY[self.base].kind != "money":
            raise ValueError(f"a rate applies to an amount of money; {self.base} is not money (use per_unit)")
        if self.kind == "tiers":
            self._check_tiers()
        return self

    def _check_tiers(self) -> None:
        bounds = []
        for i, tier in enumerate(self.tiers):
            value = coerce_value(self.on, tier.bound)
            object.__setattr__(tier, "min" if tier.min is not None else "gt", value)
            if tier.rate is not None and self.base is None:
                raise ValueError(f"tier {i} pays a rate, so the benefit needs a 'base'")
            bounds.append(value)
        if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
            raise ValueError(f"tiers must be in increasing order of their bounds; got {bounds}")

    def attributes(self) -> set[str]:
        """Attributes whose numbers the amount depends on."""
        names = {self.base, self.on, self.split.share if self.split else None}
        if self.bound is not None:
            names |= {self.bound.base, self.bound.share}
        return {n for n in names if n}


class Cap(Strict):
    amount: Money
    period: Literal["year", "once", "project", "event"] = "year"


class CountLimit(Strict):
    per_year: int = Field(gt=0)


def _shares(value: dict[str, Fraction] | None, where: str) -> None:
    if value is not None and sum(value.values()) != 1:
        raise ValueError(f"{where} shares must add up to 1; they add up to {sum(value.values())}")


class Funding(Strict):
    """Who pays each grant: fixed ``shares``, or shares ``by`` a category attribute.

    Baoding: 市管区 city 1/2 + district 1/2; 省直管县 county alone; other counties "by the
    fiscal system" with no shares given, so that case is null until a scenario fills it.
    """

    shares: dict[Funder, Rate] | None = None
    by: Attr | None = None
    cases: dict[str, dict[Funder, Rate] | None] = {}

    @model_validator(mode="after")
    def _consistent(self) -> "Funding":
        if (self.shares is None) == (self.by is None):
            raise ValueError("funding needs either shares (e.g. {district: 1}) or by + cases")
        _shares(self.shares, "funding")
        if self.by is not None:
            spec = VOCABULARY[self.by]
            if spec.kind != "category":
                raise ValueError(f"funding.by must be a category attribute; {self.by} is a {spec.kind}")
            missing = [v for v in spec.values if v not in self.cases]
            unknown = [c for c in self.cases if c not in spec.values]
            if unknown or missing:
                raise ValueError(f"funding.cases must name each value of {self.by} ({', '.join(spec.values)})")
            for case, shares in self.cases.items():
                _shares(shares, f"funding.cases.{case}")
        return self

    def funders(self) -> list[str]:
        seen: dict[str, None] = {}
        for shares in [self.shares] + list(self.cases.values()):
            for funder in shares or {}:
                seen[funder] = None
        return list(seen)


class Uplift(Strict):
    """A top-up for firms meeting a condition, on the programs the text reaches (皖北 +20%).

    ``programs`` lists them (empty: every program).  A text that only permits the uplift
    (可上浮, "may be raised") gives ``enabled: false``: it is off unless a scenario switches
    it on (``overrides: {anhui.uplifts.0.enabled: {value: true, why: …}}``).
    """

    clause: str
    quote: str
    when: Condition
    rate: Rate
    raises_cap: bool = True
    programs: tuple[str, ...] = ()
    enabled: bool = True
    note: str | None = None

    def reaches(self, program_id: str) -> bool:
        return not self.programs or program_id in self.programs


class Over(Strict):
    """Over what span a 不重复 rule holds, with the words of the text that say so.

    ``life``: the text speaks of the same product, project or standard (同一产品、项目、标准),
    so a firm or project is paid by at most one of the programs over the policies' life.
    ``year``: it speaks of an annual flow (每年), so the choice is made again each budget year.
    """

    period: Literal["life", "year"]
    quote: str
    note: str | None = None


class Stacking(Strict):
    """A stacking rule the text states.

    ``highest_only`` (从优就高不重复): a firm gets only the largest of ``programs`` (or, with
    ``scope: other_policies``, of similar programs of other policies, which a scenario
    names), over the span ``over`` says (required for a group of this policy's programs).
    ``top_up`` (补足差额): an award already paid at a lower grade (a tier, or a 档 a
    scenario draws) pays the difference when the firm is promoted to a higher one, once
    per grade.  ``stackable`` (可同时享受).
    """

    rule: Literal["highest_only", "top_up", "stackable"]
    clause: str
    quote: str
    scope: Literal["within", "other_policies"] = "within"
    programs: tuple[str, ...] = ()
    over: Over | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _span(self) -> "Stacking":
        if self.rule == "highest_only" and self.scope == "within" and self.programs and self.over is None:
            raise ValueError("@over: a 不重复 group says over what span it holds, with the words that say so: "
                             "over: {period: life, quote: 同一产品、项目、标准…} or {period: year, quote: 每年…}")
        if self.rule != "highest_only" and self.over is not None:
            raise ValueError(f"@over: only a highest_only rule has a span; this one is {self.rule}")
        return self


class SameYear(Strict):
    """A one-time award tied to the year of its occasion (当年给予), with the words that say so.

    It is claimed in one budget year only: refused then (the year's money spent, a cap or
    a count reached), it is not claimed again the next year.
    """

    quote: str
    note: str | None = None


class FirmCap(Strict):
    """A cap on what one firm gets from several programs together (Baoding 5.: 100万 a year)."""

    clause: str
    quote: str
    programs: tuple[str, ...]
    amount: Money
    period: Literal["year", "once"] = "year"
    note: str | None = None


class Window(Strict):
    """When the policy is in force; blank where the text leaves the date open."""

    clause: str
    quote: str
    start: dt.date | None = None
    end: dt.date | None = None
    duration_years: int | None = Field(None, gt=0)
    note: str | None = None

    @property
    def last_day(self) -> dt.date | None:
        return self.last_day_from(self.start, self.end)

    def last_day_from(self, start: dt.date | None, end: dt.date | None) -> dt.date | None:
        """The last day in force had the window these ``start`` and ``end`` (a scenario's drawn dates)."""
        if end is not None:
            return end
        if start is not None and self.duration_years is not None:
            return _add_years(start, self.duration_years) - dt.timedelta(days=1)
        return None

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        if self.start and self.last_day and self.last_day < self.start:
            raise ValueError(f"the window ends ({self.last_day}) before it starts ({self.start})")
        return self


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class Pool(Strict):
    """Money that several grants draw on: a budget per year, or over the policy's life."""

    title: str
    clause: str
    quote: str | None = None
    budget: Budget = None
    period: Literal["year", "life"] = "year"
    rationing: Rationing = "first_come"
    rationing_basis: Literal["default", "text", "scenario"] = "default"
    implicit: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _one_budget_for_life(self) -> "Pool":
        if self.period == "life" and isinstance(self.budget, dict):
            raise ValueError("@budget: a pool over the policy's life (period: life) has one budget, not one per year")
        return self

    def budget_in(self, year: int) -> int | None:
        if isinstance(self.budget, dict):
            return self.budget.get(year)
        return self.budget


PaymentKind = Literal["decision", "redemption", "milestone", "instalments"]


class Payment(Strict):
    """When a program's grant leaves the treasury, as the text says.

    A budget is appropriated for the cash paid in a year, and a grant is often paid after
    the year it is decided.  ``kind``:

    - ``decision`` (what a program without ``payment`` does): paid when granted;
    - ``redemption``: a voucher issued at the decision is paid when the firm redeems it,
      after using and paying for the service (Baoding 5.: 先行支付全额费用,并提出兑付申请,
      经主管部门审核通过后予以兑付); part of it may never be redeemed;
    - ``milestone``: an award decided now is paid once the project reaches a milestone
      (Yinchuan 第三條: 待項目建成投產後); a project that never gets there is never paid;
    - ``instalments``: paid in yearly parts as the work progresses (Binjiang （四）:
      根据实际投入进度分年度予以补助).

    The texts never give the numbers (how many months after, how much is never redeemed,
    the yearly shares): those are a scenario's assumptions (``programs.<key>.payment``).
    """

    kind: PaymentKind
    clause: str
    quote: str
    note: str | None = None


class Program(Strict):
    """One clause or sub-item that pays money or vouchers.

    ``instead_of`` marks another reading of the sentence a program encodes (Yinchuan 第六條's
    buyer): written with ``enabled: false``, it stays off unless a scenario switches it on,
    and then the program it names is off, so one switch changes the reading.
    """

    clause: str
    source: str
    title: str
    quote: str
    instrument: Instrument
    selection: Selection
    benefit: Benefit
    pool: str | None = None
    eligibility: tuple[Condition, ...] = ()
    cap: Cap | None = None
    count_limit: CountLimit | None = None
    max_years: int | None = Field(None, gt=0)
    once: bool = False
    same_year: SameYear | None = None
    all_or_nothing: bool = False
    funding: Funding | None = None
    payment: Payment | None = None
    enabled: bool = True
    instead_of: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _case_by_case(self) -> "Program":
        if self.selection == "case_by_case" and self.benefit.kind != "none":
            raise ValueError("a case_by_case (一事一议) program has no formula: its benefit kind must be none")
        if self.same_year is not None and not self.one_time:
            raise ValueError("@same_year: only a one-time award (once: true) is tied to one year")
        return self

    @property
    def pays_on(self) -> PaymentKind:
        """When the grant is paid: the text's ``payment.kind``, else at the decision."""
        return self.payment.kind if self.payment is not None else "decision"

    @property
    def one_time(self) -> bool:
        """Paid at most once per firm (一次性, or a one-time cap)."""
        return self.once or (self.cap is not None and self.cap.period in ("once", "project"))

    def attributes(self) -> set[str]:
        return {c.attr for c in self.eligibility} | self.benefit.attributes()


class Policy(Strict):
    """One source document: its window, pools, programs and the rules between them.

    ``source`` (and each program's) names the document's text relative to the policy file,
    e.g. ``sources/004_ef3e153d4278fd14.txt`` (:mod:`sim.policy.sources` reads it).
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    issuer: str
    level: Level
    source: str
    effective: Window
    funding: Funding
    pools: dict[str, Pool] = {}
    programs: dict[str, Program]
    stacking: tuple[Stacking, ...] = ()
    firm_caps: tuple[FirmCap, ...] = ()
    uplifts: tuple[Uplift, ...] = ()
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _implicit_pools(cls, data: Any) -> Any:
        return implicit_pools(data)

    def pool_of(self, program_id: str) -> str:
        return self.programs[program_id].pool or program_id

    def funding_of(self, program_id: str) -> Funding:
        return self.programs[program_id].funding or self.funding

    def enabled_programs(self) -> dict[str, Program]:
        """Programs in force: enabled, and not replaced by an enabled other reading."""
        replaced = {p.instead_of for p in self.programs.values() if p.enabled and p.instead_of}
        return {k: p for k, p in self.programs.items() if p.enabled and k not in replaced}

    def uplifts_for(self, program_id: str) -> tuple[Uplift, ...]:
        """The uplifts in force that reach a program."""
        return tuple(u for u in self.uplifts if u.enabled and u.reaches(program_id))

    def uplift_attributes(self, program_id: str) -> set[str]:
        """Attributes a firm needs for the uplifts of a program to be decided."""
        return {u.when.attr for u in self.uplifts_for(program_id)}



def implicit_pools(data: Any) -> Any:
    """A program the text gives no pool draws on an unlimited pool of its own, named after it.

    Applied to the raw data before overrides too, so a scenario can give such a pool a
    budget (``binjiang.pools.key_firm.budget``).
    """
    if not isinstance(data, dict) or not isinstance(data.get("programs"), dict):
        return data
    pools = dict(data.get("pools") or {})
    for pid, prog in data["programs"].items():
        if isinstance(prog, dict) and prog.get("pool") is None and pid not in pools:
            competitive = prog.get("selection") == "competitive"
            pools[pid] = {
                "title": prog.get("title", pid),
                "clause": prog.get("clause", "?"),
                "budget": None,
                "rationing": "competitive" if competitive else "first_come",
                "implicit": True,
            }
    return {**data, "pools": pools}
