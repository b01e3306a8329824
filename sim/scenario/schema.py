"""Scenarios: which policies, which firms, how they behave, and how many Monte Carlo runs.

A policy says what the text says; a scenario says everything the text does not: how many
firms of which kind arrive each year, what they spend, how many take a program up and
when they apply, what a blank date is, how an oversubscribed pool is rationed.  Every such
number is an assumption, so every one carries ``why:``, its reasoning, and validation
refuses one without it.

:mod:`sim.scenario.load` reads the file and its policies into a :class:`Scenario`.

Examples
--------
>>> from sim.scenario.load import load_scenario
>>> s = load_scenario("scenarios/binjiang.yaml")
>>> s2 = s.with_overrides({"monte_carlo.runs": 50})
>>> s2.monte_carlo.runs
50
"""

from __future__ import annotations

import copy
import datetime as dt
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from sim.policy.attributes import VOCABULARY, coerce_value
from sim.policy.models import RATE_SCHEMA, Policy
from sim.policy.money import parse_rate
from sim.policy.overrides import apply_path
from sim.scenario.correlation import Correlation
from sim.scenario.posterior import Draws
from sim.scenario.uncertain import PAYMENT_DISTS, Parameter


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _why(value: str) -> str:
    if not str(value).strip():
        raise ValueError("an assumption needs its reasoning in 'why'")
    return value


Why = Annotated[str, AfterValidator(_why)]  # every assumption carries its reasoning


DistKind = Literal["constant", "uniform", "normal", "lognormal", "gamma", "weibull", "bernoulli", "choice", "empirical"]
_PARAMS: dict[str, tuple[str, ...]] = {
    "constant": ("value",),
    "uniform": ("low", "high"),
    "normal": ("mean", "sd"),
    "lognormal": ("median", "sigma"),
    "gamma": ("shape", "scale"),
    "weibull": ("shape", "scale"),
    "bernoulli": ("p",),
    "choice": ("values",),
    "empirical": ("values",),
}


class Dist(Strict):
    """A distribution of one attribute over firms, with optional bounds and yearly growth.

    ``lognormal`` is given by its median and sigma (of the log), which is how people
    describe skewed spending ("typically 300万, often three times more or less").
    ``gamma`` and ``weibull`` take scipy's ``shape`` and ``scale`` (the scale in the
    attribute's unit), as `sim fit` prints them: ``stats.gamma(shape, scale=scale)`` and
    ``stats.weibull_min(shape, scale=scale)``.
    ``growth`` multiplies money and numbers by ``(1 + growth)`` per year after arrival.
    """

    dist: DistKind
    why: Why
    value: Any = None
    low: Any = None
    high: Any = None
    mean: Any = None
    sd: Any = None
    median: Any = None
    sigma: float | None = Field(None, ge=0)
    shape: float | None = Field(None, gt=0)
    scale: Any = None
    p: float | None = Field(None, ge=0, le=1)
    values: Any = None
    min: Any = None
    max: Any = None
    growth: float = 0.0


    @model_validator(mode="after")
    def _params(self) -> "Dist":
        for name in _PARAMS[self.dist]:
            if getattr(self, name) is None:
                raise ValueError(f"a {self.dist} distribution needs '{name}'")
        extra = [k for k in ("value", "low", "high", "mean", "sd", "median", "sigma", "shape", "scale", "p", "values")
                 if getattr(self, k) is not None and k not in _PARAMS[self.dist]]
        if extra:
            raise ValueError(f"a {self.dist} distribution does not take {', '.join(extra)}")
        if self.dist == "choice" and not (isinstance(self.values, dict) and self.values):
            raise ValueError("choice needs values as a mapping of value to weight, e.g. {ai: 0.7, software: 0.3}")
        if self.dist == "empirical" and not (isinstance(self.values, list) and self.values):
            raise ValueError("empirical needs values as a non-empty list of observed values")
        return self

    def highest(self) -> float | None:
        """The largest value this distribution gives once typed (its ``max`` if lower), None if unbounded."""
        natural = {"constant": lambda: self.value, "uniform": lambda: self.high,
                   "choice": lambda: max(self.values), "empirical": lambda: max(self.values)}.get(self.dist)
        top = None if natural is None else float(natural())
        if self.max is not None:
            top = float(self.max) if top is None else min(top, float(self.max))
        return top

    def typed(self, attr: str) -> "Dist":
        """This distribution with its numbers parsed for ``attr`` (money in yuan, …)."""
        spec = VOCABULARY[attr]
        kind = spec.kind
        if kind == "flag" and self.dist not in ("constant", "bernoulli", "choice"):
            raise ValueError(f"{attr} is yes/no: use constant, bernoulli or choice")
        if kind == "category" and self.dist not in ("constant", "choice", "empirical"):
            raise ValueError(f"{attr} is a category: use constant, choice or empirical")
        if kind != "flag" and self.dist == "bernoulli":
            raise ValueError(f"bernoulli gives yes/no values; {attr} is a {kind}")
        if self.growth and kind not in ("money", "number", "count"):
            raise ValueError(f"growth applies to amounts and numbers; {attr} is a {kind}")
        if self.growth <= -1:
            raise ValueError(f"growth must be above -1 (-100% a year); got {self.growth}")
        out = {}
        for key in ("value", "low", "high", "mean", "median", "scale", "min", "max"):
            if getattr(self, key) is not None:
                try:
                    out[key] = coerce_value(attr, getattr(self, key))
                except ValueError as exc:
                    raise ValueError(f"@{key}: {exc}") from None
        if self.sd is not None:
            out["sd"] = coerce_value(attr, self.sd) if kind != "share" else float(self.sd)
        if self.dist == "choice":
            weights = {str(k) if kind == "category" else coerce_value(attr, k): float(w) for k, w in self.values.items()}
            if kind == "category":
                for k in weights:
                    coerce_value(attr, k)
            if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
                raise ValueError("choice weights must be non-negative with a positive total")
            out["values"] = weights
        if self.dist == "empirical":
            out["values"] = [coerce_value(attr, v) for v in self.values]
        if self.dist in ("gamma", "weibull") and not out["scale"] > 0:
            raise ValueError(f"@scale: a {self.dist} distribution's scale must be above 0; got {self.scale}")
        if self.dist == "uniform" and out["high"] < out["low"]:
            raise ValueError(f"uniform needs low <= high; got {self.low} > {self.high}")
        if "min" in out and "max" in out and out["max"] < out["min"]:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self.model_copy(update=out)


class TakeUp(Strict):
    p: float = Field(ge=0, le=1)
    why: Why



class FromData(Strict):
    """Firms' attributes taken by resampling rows of a data file (last year's applicant list).

    Each firm of the segment is one row drawn at random (with replacement), so the joint
    structure of real firms — big renters are big corpus buyers — is kept as it is in the
    data.  ``columns`` maps the file's headers to attributes of the vocabulary (cells read
    in the attribute's unit: ``350万`` for money, yes/no for flags); ``growth`` grows an
    attribute from the data by ``(1 + growth)`` a year after the firm's first year, as for
    drawn attributes.  The file is a path relative to the scenario's folder.
    """

    file: str
    columns: dict[str, str] = Field(min_length=1)
    growth: dict[str, float] = {}
    why: Why

    @field_validator("columns")
    @classmethod
    def _known(cls, value: dict[str, str]) -> dict[str, str]:
        for column, attr in value.items():
            if attr not in VOCABULARY:
                raise ValueError(f"@{column}: unknown firm attribute {attr!r}; see sim/policy/attributes.py for the vocabulary")
        twice = sorted({a for a in value.values() if list(value.values()).count(a) > 1})
        if twice:
            raise ValueError(f"two columns give {', '.join(twice)}; map each attribute from one column")
        return value

    @model_validator(mode="after")
    def _grows(self) -> "FromData":
        for attr, rate in self.growth.items():
            if attr not in self.columns.values():
                raise ValueError(f"@growth.{attr}: not an attribute taken from the data ({', '.join(self.columns.values())})")
            if VOCABULARY[attr].kind not in ("money", "number", "count"):
                raise ValueError(f"@growth.{attr}: growth applies to amounts and numbers; {attr} is a {VOCABULARY[attr].kind}")
            if rate <= -1:
                raise ValueError(f"@growth.{attr}: growth must be above -1 (-100% a year); got {rate}")
        return self

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(self.columns.values())


class Segment(Strict):
    """A kind of firm: how many there are, how many arrive, what they look like, what they use.

    ``correlation`` rank-correlates its firms' attributes (spending on compute and on corpus
    go together): pairs such as ``{compute_rental ~ corpus_purchases: 0.6}``, or
    ``{attributes: [a, b, …], matrix: [[1, …], …]}``; see :mod:`sim.scenario.correlation`.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    why: Why
    firms_at_start: int = Field(0, ge=0)
    arrivals_per_year: float | dict[int, float] = 0.0
    attributes: dict[str, Dist] = {}
    from_data: FromData | None = None
    correlation: Correlation | None = None
    take_up: dict[str, TakeUp] = {}

    @model_validator(mode="after")
    def _correlated(self) -> "Segment":
        if self.from_data is not None:
            both = sorted(set(self.from_data.attributes) & set(self.attributes))
            if both:
                raise ValueError(f"@attributes.{both[0]}: {', '.join(both)} also taken from the data (from_data); give "
                                 "each attribute once")
            if self.correlation is not None and set(self.correlation.names) & set(self.from_data.attributes):
                raise ValueError("@correlation: attributes taken from the data keep the data's own correlation; "
                                 "correlate only drawn attributes")
        if self.correlation is not None:
            self.correlation.check(self.attributes)
        return self

    @property
    def attribute_names(self) -> set[str]:
        """Every attribute its firms have: drawn ones and those taken from data."""
        return set(self.attributes) | set(self.from_data.attributes if self.from_data else ())


    @field_validator("attributes")
    @classmethod
    def _known(cls, value: dict[str, Dist]) -> dict[str, Dist]:
        out = {}
        for name, dist in value.items():
            if name not in VOCABULARY:
                raise ValueError(f"@{name}: unknown firm attribute {name!r}; see sim/policy/attributes.py for the vocabulary")
            try:
                out[name] = dist.typed(name)
            except ValueError as exc:
                text = str(exc)
                raise ValueError(f"@{name}.{text[1:]}" if text.startswith("@") else f"@{name}: {text}") from None
        return out

    @field_validator("arrivals_per_year")
    @classmethod
    def _rates(cls, value: Any) -> Any:
        rates = value.values() if isinstance(value, dict) else [value]
        if any(r < 0 for r in rates):
            raise ValueError("arrival rates must be 0 or more firms a year")
        return value

    def arrivals_in(self, year: int) -> float:
        if isinstance(self.arrivals_per_year, dict):
            return float(self.arrivals_per_year.get(year, 0))
        return float(self.arrivals_per_year)


MonthDay = str


def _month_day(value: Any) -> str:
    text = str(value)
    try:
        dt.date(2024, int(text[:2]), int(text[3:5]))
        assert len(text) == 5 and text[2] == "-"
    except (ValueError, AssertionError):
        raise ValueError(f"{value!r} is not a month-day like 03-01") from None
    return text


class Call(Strict):
    """When in each year firms apply (month-day, inclusive)."""

    start: str = "01-01"
    end: str = "12-31"

    _md = field_validator("start", "end")(classmethod(lambda cls, v: _month_day(v)))

    @model_validator(mode="after")
    def _ordered(self) -> "Call":
        if self.end < self.start:
            raise ValueError(f"call ends ({self.end}) before it starts ({self.start})")
        return self


LAG_TYPE = dict(PAYMENT_DISTS)["lag_months"]  # a lag in months is typed and drawn as a number attribute (0 or more)
LAPSE_TYPE = dict(PAYMENT_DISTS)["lapse"]  # a lapsed share as a share attribute (0–1)


def _typed_as(dist: Dist, carrier: str, name: str, unit: str) -> Dist:
    """``dist`` typed as a quantity that is no firm attribute, through an attribute of the same kind.

    Messages name the quantity (``lag_months``), not the attribute that carried its type.
    """
    try:
        return dist.typed(carrier)
    except ValueError as exc:
        text = str(exc).replace(f"({VOCABULARY[carrier].unit})", f"({unit})").replace(carrier, name)
        raise ValueError(text) from None


class Deadline(Strict):
    """A voucher not redeemed within ``months`` of its issue lapses whole, on that day."""

    months: float = Field(gt=0)
    why: Why


def _instalment_shares(value: Any) -> tuple[Fraction, ...]:
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError("shares is a list of yearly shares adding up to 1, e.g. [40%, 30%, 30%] or [1/3, 1/3, 1/3]")
    shares = tuple(parse_rate(v) for v in value)
    if any(share <= 0 for share in shares):
        raise ValueError(f"every yearly share must be above 0; got {', '.join(str(v) for v in value)}")
    if sum(shares) != 1:
        raise ValueError(f"yearly shares must add up to 1; {', '.join(str(v) for v in value)} add up to {sum(shares)}")
    return shares


class Instalments(Strict):
    """Yearly parts of a grant: the first at the decision, the next a year later, and so on."""

    shares: Annotated[tuple[Fraction, ...], BeforeValidator(_instalment_shares),
                      WithJsonSchema({"type": "array", "items": RATE_SCHEMA, "minItems": 1,
                                      "description": "Yearly shares adding up to 1, e.g. [40%, 30%, 30%]"})]
    why: Why


class PaymentAssumptions(Strict):
    """When a program's grants are paid: the numbers its text leaves open.

    The policy says how a program pays (``payment.kind``: on redemption, after a
    milestone, in instalments); the scenario says how long and how much:

    - ``lag_months``: months from the decision to the payment (a voucher's redemption, a
      project's completion), drawn for each grant; its largest value must be bounded
      (a ``max`` for normal and lognormal), so that the tail of payments has an end;
    - ``lapse``: the share of each grant never paid (a voucher never used, a project
      never completed), drawn for each grant: ``{dist: constant, value: 0.1}`` pays 90% of
      every grant, ``{dist: choice, values: {0: 0.9, 1: 0.1}}`` leaves one voucher in ten
      unredeemed;
    - ``deadline``: a voucher not redeemed within so many months lapses whole;
    - ``instalments``: the yearly shares of a grant paid by progress.
    """

    lag_months: Dist | None = None
    lapse: Dist | None = None
    deadline: Deadline | None = None
    instalments: Instalments | None = None

    @model_validator(mode="after")
    def _typed(self) -> "PaymentAssumptions":
        update = {}
        if self.lag_months is not None:
            lag = self.lag_months
            if lag.growth:
                raise ValueError("@lag_months: growth applies to a firm's attributes, not to a lag")
            try:
                update["lag_months"] = lag = _typed_as(lag, LAG_TYPE, "lag_months", "months")
            except ValueError as exc:
                text = str(exc)
                raise ValueError(f"@lag_months.{text[1:]}" if text.startswith("@") else f"@lag_months: {text}") from None
            if lag.highest() is None:
                raise ValueError(f"@lag_months: a {lag.dist} lag has no longest value; give max (months), so that "
                                 "the tail of payments ends")
        if self.lapse is not None:
            try:
                update["lapse"] = _typed_as(self.lapse, LAPSE_TYPE, "lapse", "0-1")
            except ValueError as exc:
                text = str(exc)
                raise ValueError(f"@lapse.{text[1:]}" if text.startswith("@") else f"@lapse: {text}") from None
        return self.model_copy(update=update) if update else self

    def given(self) -> list[str]:
        """The fields this scenario gives."""
        return [k for k in ("lag_months", "lapse", "deadline", "instalments") if getattr(self, k) is not None]


class ProgramBehaviour(Strict):
    """Assumptions about one program: when firms apply, how they are ranked, what is paid and when."""

    why: Why
    call: Call = Call()
    score: str = "entitled"
    award_share: Dist | None = None
    amount: Dist | None = None
    payment: PaymentAssumptions | None = None


    @model_validator(mode="after")
    def _typed(self) -> "ProgramBehaviour":
        update = {}
        if self.score not in ("entitled", "random") and self.score not in VOCABULARY:
            raise ValueError(f"score must be entitled, random or a firm attribute; got {self.score!r}")
        if self.award_share is not None:
            update["award_share"] = self.award_share.typed("domestic_compute_share")  # any share attribute
        if self.amount is not None:
            update["amount"] = self.amount.typed("project_investment")  # any money attribute
        return self.model_copy(update=update) if update else self


class PoolBehaviour(Strict):
    why: Why
    review: str | None = None

    _md = field_validator("review")(classmethod(lambda cls, v: v if v is None else _month_day(v)))


class Override(Strict):
    value: Any
    why: Why



class BaseCount(Strict):
    """How much of a base year's annual flows a program's applications are credited.

    A firm pays its rental, sells, consumes through the year; a program paying a rate on
    such a flow pays on what falls in the days that count.  ``count``:

    - ``in_force`` (what a program without an entry does): the days of the base year on
      which the firm existed and the policy was in force (a firm arriving on 1 July is
      credited half its year; Ningxia's 2023, in force from 15 September, 108 days) —
      unless the policy's text counts spending from before its start
      (``benefit.base_before_start``), and then from the start of the year;
    - ``before_policy``: the days the firm existed, spending before the policy's start
      included (a reading the text does not give: say why);
    - ``full_year``: the whole year's flow whatever the firm's arrival and the policy's
      dates — an upper bound, to be labelled as such in ``why``.
    """

    count: Literal["in_force", "before_policy", "full_year"]
    why: Why


class StackGroup(Strict):
    """Similar programs of different policies of which a firm gets only the highest.

    ``period`` says over what span: ``life`` (the same project or product: one program of
    the group over the whole horizon) or ``year`` (an annual flow: one a budget year);
    ``why`` says why these programs are similar and why that span.
    """

    programs: tuple[str, ...] = Field(min_length=2)
    period: Literal["life", "year"]
    why: Why



class Factor(Strict):
    """A common factor of a run (an AI-market boom or bust) that uncertain numbers load on.

    ``at`` holds it at one quantile in every run (0.9: a boom), as `sim sensitivity` does;
    left out, it is drawn anew in each run.
    """

    why: Why
    at: float | None = Field(None, gt=0, lt=1)


class PosteriorFile(Strict):
    """Parameter draws a calibration kept (``calibration.parquet``), sampled one row per run.

    The values of each row replace the prior's draws of the parameters it names, so that
    what the observations tie together stays together; see :mod:`sim.scenario.posterior`.
    """

    file: str
    why: Why


class Horizon(Strict):
    start: dt.date = dt.date(2023, 1, 1)
    end: dt.date = dt.date(2026, 12, 31)

    @model_validator(mode="after")
    def _whole_years(self) -> "Horizon":
        if (self.start.month, self.start.day) != (1, 1) or (self.end.month, self.end.day) != (12, 31):
            raise ValueError("the horizon runs over whole budget years: start on 01-01, end on 12-31")
        if self.end < self.start:
            raise ValueError("the horizon ends before it starts")
        return self

    @property
    def years(self) -> list[int]:
        return list(range(self.start.year, self.end.year + 1))


class MonteCarlo(Strict):
    runs: int = Field(1000, gt=0)
    seed: int = Field(0, ge=0)
    batch_size: int = Field(100, gt=0)


class ScenarioFile(Strict):
    """The file as written; :class:`Scenario` adds the loaded policies."""

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    title: str = ""
    policies: tuple[str, ...] = Field(min_length=1)
    horizon: Horizon = Horizon()
    monte_carlo: MonteCarlo = MonteCarlo()
    overrides: dict[str, Override] = {}
    programs: dict[str, ProgramBehaviour] = {}
    pools: dict[str, PoolBehaviour] = {}
    stacking: tuple[StackGroup, ...] = ()
    bases: dict[str, BaseCount] = {}  # by policy id or policy.program (the program's entry first)
    factors: dict[str, Factor] = {}
    posterior: PosteriorFile | None = None
    segments: tuple[Segment, ...] = Field(min_length=1)


class PolicySource(BaseModel):
    """A policy file as read once: its path, its data before the scenario's overrides, its lines."""

    model_config = ConfigDict(frozen=True)

    path: str
    data: dict
    lines: dict


class Scenario(BaseModel):
    """A validated scenario with its policies loaded and overridden: what the engine runs.

    ``sources`` keeps each policy file as read, so that a variant (:meth:`with_overrides`)
    is validated again without reading any file; ``lines`` maps the scenario's fields to
    their lines, so that a variant's error still names the line of the field it concerns.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    spec: ScenarioFile
    policies: dict[str, Policy]
    path: str
    raw: dict
    sha256: str
    sources: dict[str, PolicySource] = {}
    policy_data: tuple[dict, ...] = ()
    lines: dict = {}
    parameters: tuple[Parameter, ...] = ()  # the uncertain numbers, each drawn once per run
    settings: tuple[tuple[str, Any], ...] = ()  # paths set on top of the file (sim run --set, a sweep's variant)
    posterior: Draws | None = None  # a calibration's draws, one row per run (scenario-level ``posterior:``)
    files: tuple[tuple[str, str], ...] = ()  # data files the scenario reads, with their sha256 (in the digest)
    data: dict[str, Any] = {}  # segment name -> its from_data rows (sim.scenario.data.Rows)

    @property
    def name(self) -> str:
        return self.spec.name

    def parameter(self, path: str) -> Parameter:
        """The uncertain number at ``path`` (KeyError naming those there are)."""
        for p in self.parameters:
            if p.path == path:
                return p
        raise KeyError(f"{path} is not an uncertain number of {self.name}; they are: "
                       + (", ".join(p.path for p in self.parameters) or "none"))

    @property
    def monte_carlo(self) -> MonteCarlo:
        return self.spec.monte_carlo

    @property
    def horizon(self) -> Horizon:
        return self.spec.horizon

    def with_overrides(self, values: dict[str, Any]) -> "Scenario":
        """A copy with dotted paths of the scenario file set, e.g. ``{"monte_carlo.runs": 50}``.

        Policy values are reached through the scenario's overrides, e.g.
        ``{"overrides.binjiang.pools.compute_vouchers.budget": "5000万"}``.  No file is read
        again: a policy is validated again only when its overrides changed.
        """
        from sim.scenario.load import (
            build_scenario,  # the loader builds Scenarios: imported when used
        )

        raw = copy.deepcopy(self.raw)
        for path, value in values.items():
            apply_path(raw, path, value, self.path)
        variant = build_scenario(raw, self.path, self.lines, Path(self.path).resolve().parent, earlier=self)
        settings = dict(self.settings) | {k: v for k, v in values.items() if not k.startswith("monte_carlo.")}
        return variant.model_copy(update={"settings": tuple(settings.items())})
