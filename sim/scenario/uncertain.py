"""Uncertain assumptions: the numbers a scenario does not know, each drawn once per run.

Take-up 0.7, a spend median of 120万, growth of 25% a year, an effective date: every such
number is a guess, and no finance office knows take-up within ±20%.  Wherever a scenario
gives a number as an assumption it may give a distribution instead::

    take_up:
      binjiang.compute_voucher: {p: {dist: beta, mean: 0.6, sd: 0.1}, why: ...}
    attributes:
      compute_rental: {dist: lognormal, median: 120万, sigma: 1.2,
                       growth: {dist: triangular, low: 0.1, mode: 0.25, high: 0.4}, why: ...}

Such a number is drawn **once per run** and shared by every firm of that run, so the
spread of a report's figures across runs then holds what the scenario does not know as
well as firm-to-firm chance.  Where a number may be uncertain (its *kind* says what values
it may take):

=====================================================  ==========================================
``segments.S.firms_at_start``                          count (whole firms, 0 or more)
``segments.S.arrivals_per_year`` (or ``.YEAR``)        rate (firms a year, 0 or more)
``segments.S.attributes.A.median|low|scale|…|max``     the attribute's kind (money in yuan, share …)
``segments.S.attributes.A.sd`` / ``.sigma|.shape``     positive
``segments.S.attributes.A.p`` (bernoulli)              probability
``segments.S.attributes.A.growth``                     growth (above −100% a year)
``segments.S.from_data.growth.A``                      growth of an attribute taken from data
``segments.S.take_up.PROGRAM.p``                       probability
``programs.PROGRAM.award_share.…``, ``.amount.…``      share, money (as for attributes)
``overrides.POLICY.effective.start|end``               date
``overrides.POLICY.programs.ID.benefit|cap|eligibility.…``, ``overrides.POLICY.uplifts.N.…``
                                                       a rate (``30%``), an amount or a number
=====================================================  ==========================================

``S`` is the segment's **name**: a parameter is named by its path in the scenario (e.g.
``segments.ai_smes.take_up.binjiang.compute_voucher.p``), and its random stream is keyed
by that path, so reordering segments, or adding or removing another uncertain number,
changes no draw.  A pool's budget is refused: it is the decision being sized, not an
uncertainty (``sim size`` finds it, ``sim sweep`` compares several).

Distributions (numbers in the kind's unit: ``120万``, ``30%``, ``2025-03-01`` are read as such):

- ``uniform`` (low, high); ``triangular`` (low, mode, high);
- ``normal`` (mean, sd; optional low and high bound it: a truncated normal);
- ``lognormal`` (median, sigma of the log); ``gamma`` (mean and sd, or shape and scale);
- ``beta`` (mean and sd, or a and b; on 0–1, or on low–high when given);
- ``choice`` (values: a mapping of value to weight, or a list of equally likely values);
- ``empirical`` (values: observed values, each equally likely).

Quantiles come from scipy.stats frozen distributions (``ppf``) and, for ``choice`` and
``empirical``, from numpy's inverted-CDF quantile: a value is ``ppf(u)`` of one uniform
number ``u`` of the parameter's stream, so a parameter held at its 10th percentile is
``ppf(0.1)`` and the draws of a run can be moved together.

**Common factors.**  An AI-market boom lifts take-up and growth of every segment together.
A scenario names such factors (``factors: {ai_market: {why: …}}``) and a parameter loads on
one (``factor: ai_market, loading: 0.6``): its normal score is ``loading · F +
sqrt(1 − loading²) · ε`` with ``F`` the factor's standard normal draw of the run and ``ε`` its
own, so its distribution is unchanged and two parameters loading ``a`` and ``b`` have normal
scores correlated ``a · b`` (rank correlation ``(6/π) asin(a b / 2)``).  A negative loading
moves against the factor.

This module reads and checks them (:func:`extract`); :mod:`sim.engine.parameters` draws them.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Iterator, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from scipy import special

from sim.errors import MoneyError, Problem
from sim.policy.attributes import VOCABULARY
from sim.policy.loader import Lines, dotted, line_of, problems_from
from sim.policy.money import parse_money, parse_rate
from sim.policy.overrides import value_at

EPOCH = dt.date(1970, 1, 1)

UncertainKind = Literal["uniform", "triangular", "normal", "lognormal", "beta", "gamma", "choice", "empirical"]
KINDS = ("uniform", "triangular", "normal", "lognormal", "beta", "gamma", "choice", "empirical")
NUMBERS = ("mean", "sd", "median", "sigma", "low", "mode", "high", "a", "b", "shape", "scale")  # in the order shown
_NEEDS: dict[str, tuple[tuple[str, ...], ...]] = {  # one of these sets of parameters, nothing else but low/high bounds
    "uniform": (("low", "high"),),
    "triangular": (("low", "mode", "high"),),
    "normal": (("mean", "sd"),),
    "lognormal": (("median", "sigma"),),
    "beta": (("mean", "sd"), ("a", "b")),
    "gamma": (("mean", "sd"), ("shape", "scale")),
    "choice": (("values",),),
    "empirical": (("values",),),
}
_BOUNDS_ALLOWED = ("normal", "beta")  # low/high bound a normal and place a beta; elsewhere they are parameters

# What a number may be, by the kind of the field it replaces: (lowest, highest, lowest excluded)
Kind = Literal["probability", "share", "count", "rate", "money", "number", "positive", "growth", "date"]
DOMAINS: dict[str, tuple[float, float, bool]] = {
    "probability": (0.0, 1.0, False), "share": (0.0, 1.0, False), "count": (0.0, math.inf, False),
    "rate": (0.0, math.inf, False), "money": (0.0, math.inf, False), "number": (-math.inf, math.inf, False),
    "positive": (0.0, math.inf, False), "growth": (-1.0, math.inf, True), "date": (-math.inf, math.inf, False),
}
_DOMAIN_TEXT = {"probability": "a probability (0–1)", "share": "a share (0–1)", "count": "a number of firms (0 or more)",
                "rate": "a rate of firms a year (0 or more)", "money": "an amount of money (0 or more)",
                "positive": "a spread (0 or more)", "growth": "a growth rate (above -100% a year)"}


class Uncertain(BaseModel):
    """A distribution in place of a number, as written; :func:`extract` reads it in the number's unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dist: UncertainKind
    low: Any = None
    high: Any = None
    mode: Any = None
    mean: Any = None
    sd: Any = None
    median: Any = None
    sigma: Any = None
    a: Any = None
    b: Any = None
    shape: Any = None
    scale: Any = None
    values: Any = None
    factor: str | None = None
    loading: float | None = None
    why: str | None = None

    @model_validator(mode="after")
    def _parameters(self) -> "Uncertain":
        given = {k for k in (*NUMBERS, "values") if getattr(self, k) is not None}
        sets = _NEEDS[self.dist]
        bounds = {"low", "high"} if self.dist in _BOUNDS_ALLOWED else set()
        match = next((s for s in sets if set(s) <= given), None)
        if match is None:
            need = " or ".join(", ".join(s) for s in sets)
            missing = [k for k in sets[0] if k not in given]
            raise ValueError(f"a {self.dist} distribution needs {need}" + (f" ('{missing[0]}' is missing)" if len(sets) == 1 else ""))
        extra = sorted(given - set(match) - bounds)
        if extra:
            raise ValueError(f"a {self.dist} distribution given {', '.join(match)} does not take {', '.join(extra)}")
        if (self.factor is None) != (self.loading is None):
            raise ValueError("a parameter on a common factor needs both 'factor' (its name) and 'loading' (-1 to 1)")
        if self.loading is not None and not -1 <= self.loading <= 1:
            raise ValueError(f"loading must be between -1 and 1; got {self.loading}")
        return self


@dataclass(frozen=True)
class Parameter:
    """One uncertain number of a scenario: its path, what it may be, its distribution in that unit.

    Money is in yuan, dates in days since 1970-01-01, rates as fractions (0.3 for 30%).
    ``factor`` and ``loading``: the common factor it moves with, if any.
    """

    path: str
    kind: str
    dist: str
    numbers: tuple[tuple[str, float], ...]  # the distribution's parameters in the unit
    values: tuple[float, ...] = ()  # choice and empirical: the values, ascending
    weights: tuple[float, ...] = ()  # choice: their weights (summing to 1)
    factor: str | None = None
    loading: float = 0.0
    why: str = ""
    line: int | None = None
    _frozen: Any = field(default=None, compare=False, repr=False)

    def number(self, name: str) -> float | None:
        return dict(self.numbers).get(name)

    def frozen(self):
        """The scipy.stats frozen distribution (None for choice and empirical)."""
        if self._frozen is None and self.dist not in ("choice", "empirical"):
            object.__setattr__(self, "_frozen", _scipy(self.dist, dict(self.numbers)))
        return self._frozen

    def ppf(self, u) -> np.ndarray:
        """The value at cumulative probability ``u`` (one per element), typed to the kind (see :meth:`typed`)."""
        u = np.asarray(u, dtype=np.float64)
        if self.dist in ("choice", "empirical"):
            raw = np.quantile(np.array(self.values), u, method="inverted_cdf",
                              weights=np.array(self.weights) if self.dist == "choice" else None)
        else:
            raw = self.frozen().ppf(u)
        return self.rounded(raw)

    def rounded(self, values: np.ndarray) -> np.ndarray:
        """Values as the field holds them: whole firms, whole yuan, whole days, rates to 1/10000."""
        values = np.asarray(values, dtype=np.float64)
        if self.kind in ("count", "money", "date"):
            return np.rint(values)
        if self.path.startswith("overrides."):
            return np.rint(values * 10_000) / 10_000
        return values

    def quantile(self, q: float) -> float:
        return float(self.ppf(q))

    def support(self) -> tuple[float, float]:
        """The lowest and highest value the distribution can give."""
        if self.dist in ("choice", "empirical"):
            present = [v for v, w in zip(self.values, self.weights or [1.0] * len(self.values)) if w > 0]
            return (min(present), max(present))
        lo, hi = self.frozen().support()
        return (float(lo), float(hi))

    def typed(self, value: float) -> Any:
        """A value as a scenario file would hold it: int for counts and yuan, a date for dates."""
        if self.kind in ("count", "money"):
            return int(round(value))
        if self.kind == "date":
            return EPOCH + dt.timedelta(days=int(round(value)))
        return float(value)

    def describe(self) -> str:
        """Short text of the distribution, e.g. ``beta(mean 0.6, sd 0.1)``, in the field's unit."""
        if self.dist in ("choice", "empirical"):
            shown = ", ".join(_show(self.kind, v) for v in self.values[:6]) + (", …" if len(self.values) > 6 else "")
            return f"{self.dist}({shown})"
        inner = ", ".join(f"{k} {_show(self.kind if k not in ('sigma', 'a', 'b', 'shape') else 'number', v)}"
                          for k, v in self.numbers)
        return f"{self.dist}({inner})"


def _show(kind: str, value: float) -> str:
    if kind == "money":
        return f"{value / 10_000:,.0f}万"
    if kind == "date":
        return str(EPOCH + dt.timedelta(days=int(round(value))))
    return f"{value:g}"


def _scipy(dist: str, n: dict[str, float]):
    """The frozen scipy.stats distribution of a continuous uncertain number.

    scipy.stats is imported here, when a number is drawn: it takes most of a second to
    load, and reading or validating a scenario never needs it.
    """
    from scipy import stats

    if dist == "uniform":
        return stats.uniform(loc=n["low"], scale=n["high"] - n["low"])
    if dist == "triangular":
        width = n["high"] - n["low"]
        return stats.triang((n["mode"] - n["low"]) / width, loc=n["low"], scale=width)
    if dist == "normal":
        if "low" in n or "high" in n:
            lo, hi = n.get("low", -math.inf), n.get("high", math.inf)
            return stats.truncnorm((lo - n["mean"]) / n["sd"], (hi - n["mean"]) / n["sd"], loc=n["mean"], scale=n["sd"])
        return stats.norm(loc=n["mean"], scale=n["sd"])
    if dist == "lognormal":
        return stats.lognorm(n["sigma"], scale=n["median"])
    if dist == "beta":
        lo, hi = n.get("low", 0.0), n.get("high", 1.0)
        return stats.beta(n["a"], n["b"], loc=lo, scale=hi - lo)
    if dist == "gamma":
        return stats.gamma(n["shape"], scale=n["scale"])
    raise ValueError(f"not a continuous distribution: {dist}")


# --------------------------------------------------------------------------- reading a scenario's

@dataclass(frozen=True)
class Position:
    """A place in a scenario where a number may be uncertain."""

    loc: tuple  # keys and list indices into the raw data
    path: str  # the parameter's name: segments by name
    kind: str
    attr: str | None = None  # the firm attribute whose unit the number is in, if any


@dataclass(frozen=True)
class Extracted:
    """A scenario's raw data with its uncertain numbers taken out (see :func:`extract`)."""

    plain: dict  # the data with each uncertain number replaced by its median
    parameters: list[Parameter]
    problems: list[Problem]  # distributions refused, each with file, line and field
    stray: list[Problem]  # distributions where no number may be uncertain
    refused: list[str]  # the fields (dotted) whose distribution was refused


def extract(raw: dict, file: str, lines: Lines) -> Extracted:
    """Find, check and take out every uncertain number of a scenario's raw data.

    The rest of the scenario is then validated as a file of plain numbers would be, each
    uncertain number at its median.  ``stray`` distributions are reported by the caller
    unless their field is unknown anyway (a misspelt field is one mistake, said once).
    """
    plain = copy.deepcopy(raw)
    params: list[Parameter] = []
    problems: list[Problem] = []
    refused: list[str] = []
    factors = _factor_names(raw)
    known: set[tuple] = set()
    for pos in positions(raw):
        value = value_at(raw, pos.loc)
        known.add(pos.loc)
        if isinstance(value, dict) and "dist" in value and not is_distribution(value):
            problems.append(Problem(file, dotted(pos.loc + ("dist",)), f"unknown distribution {value['dist']!r}; an "
                                    f"uncertain number is {', '.join(KINDS[:-1])} or {KINDS[-1]}",
                                    line_of(lines, pos.loc + ("dist",))))
            refused.append(dotted(pos.loc))
            continue
        if not is_distribution(value):
            continue
        try:
            param = read(value, pos, line_of(lines, pos.loc), factors)
        except _Bad as bad:
            problems.append(Problem(file, dotted(pos.loc + bad.sub), bad.message, line_of(lines, pos.loc + bad.sub)))
            refused.append(dotted(pos.loc))
            continue
        params.append(param)
        _set(plain, pos.loc, param.typed(param.quantile(0.5)))
    problems += _pairs(params, file, lines, raw)
    seen: dict[str, Parameter] = {}
    for p in params:
        if p.path in seen:
            problems.append(Problem(file, p.path, f"two uncertain numbers have the same path {p.path}; give segments "
                                    "different names", p.line))
        seen[p.path] = p
    return Extracted(plain, params, problems, _stray(raw, known, file, lines), refused)


def is_distribution(value: Any) -> bool:
    """A mapping that gives an uncertain number's distribution (``dist`` one of :data:`KINDS`)."""
    return isinstance(value, dict) and isinstance(value.get("dist"), str) and value["dist"] in KINDS


def positions(raw: dict) -> Iterator[Position]:
    """Every place in the raw data where a number may be given as a distribution."""
    for i, seg in enumerate(raw.get("segments") or []):
        if not isinstance(seg, dict):
            continue
        name = seg.get("name") if isinstance(seg.get("name"), str) else str(i)
        at, path = ("segments", i), f"segments.{name}"
        yield Position(at + ("firms_at_start",), f"{path}.firms_at_start", "count")
        arrivals = seg.get("arrivals_per_year")
        if isinstance(arrivals, dict) and not is_distribution(arrivals):
            for year in arrivals:
                yield Position(at + ("arrivals_per_year", year), f"{path}.arrivals_per_year.{year}", "rate")
        else:
            yield Position(at + ("arrivals_per_year",), f"{path}.arrivals_per_year", "rate")
        for attr, dist in (seg.get("attributes") or {}).items():
            yield from _dist_positions(at + ("attributes", attr), f"{path}.attributes.{attr}", attr, dist)
        source = seg.get("from_data")
        if isinstance(source, dict) and isinstance(source.get("growth"), dict):
            for attr in source["growth"]:
                yield Position(at + ("from_data", "growth", attr), f"{path}.from_data.growth.{attr}", "growth")
        for key in seg.get("take_up") or {}:
            yield Position(at + ("take_up", key, "p"), f"{path}.take_up.{key}.p", "probability")
    for key, behaviour in (raw.get("programs") or {}).items():
        if not isinstance(behaviour, dict):
            continue
        for name, attr in (("award_share", "domestic_compute_share"), ("amount", "project_investment")):
            yield from _dist_positions(("programs", key, name), f"programs.{key}.{name}", attr, behaviour.get(name),
                                       grows=False)
        payment = behaviour.get("payment")
        for name, attr in PAYMENT_DISTS if isinstance(payment, dict) else ():
            yield from _dist_positions(("programs", key, "payment", name), f"programs.{key}.payment.{name}", attr,
                                       payment.get(name), grows=False)
    for key, entry in (raw.get("overrides") or {}).items():
        if isinstance(entry, dict) and is_distribution(entry.get("value")):
            kind = _override_kind(key)
            if kind is not None:
                yield Position(("overrides", key, "value"), f"overrides.{key}", kind)


def _dist_positions(loc: tuple, path: str, attr: str, dist: Any, *, grows: bool = True) -> Iterator[Position]:
    """The numbers of a firm attribute's distribution that may be uncertain."""
    if attr not in VOCABULARY or not isinstance(dist, dict):
        return
    kind = VOCABULARY[attr].kind
    if kind == "category":
        return
    if kind == "flag":
        yield Position(loc + ("p",), f"{path}.p", "probability", attr)
        return
    unit = {"money": "money", "share": "share", "count": "count", "number": "number"}[kind]
    for name in ("value", "low", "high", "mean", "median", "scale", "min", "max"):
        yield Position(loc + (name,), f"{path}.{name}", unit, attr)
    yield Position(loc + ("sd",), f"{path}.sd", "positive", attr)
    yield Position(loc + ("sigma",), f"{path}.sigma", "positive")
    yield Position(loc + ("shape",), f"{path}.shape", "positive")
    if grows:
        yield Position(loc + ("growth",), f"{path}.growth", "growth")


_DATES = ("effective.start", "effective.end")

# A grant's payment lag and lapsed share are drawn per grant like a firm's attribute, typed
# through an attribute of the same kind: a lag in months as a number (0 or more), a lapsed
# share as a share (0–1).  The numbers of their distributions may be uncertain.
PAYMENT_DISTS = (("lag_months", "pue"), ("lapse", "domestic_compute_share"))


def _override_kind(key: str) -> str | None:
    """What an overridden policy field may vary as per run; None: it may not (see :func:`_stray`)."""
    _, _, rest = key.partition(".")
    if rest in _DATES:
        return "date"
    parts = rest.split(".")
    if len(parts) >= 4 and parts[0] == "programs" and parts[2] in ("benefit", "cap", "eligibility"):
        return "number"
    if len(parts) >= 3 and parts[0] == "uplifts":
        return "number"
    return None


def _stray(raw: dict, known: set[tuple], file: str, lines: Lines) -> list[Problem]:
    """Distributions where a number may not be uncertain: each named, with what is allowed."""
    problems = []
    for key, entry in (raw.get("overrides") or {}).items():
        value = entry.get("value") if isinstance(entry, dict) else None
        if is_distribution(value) and is_budget(key):  # other fields are checked against the policy (see refusal)
            loc = ("overrides", key, "value")
            problems.append(Problem(file, dotted(loc), refusal(key), line_of(lines, loc)))
    attribute_dists = {("segments", i, "attributes", a) for i, s in enumerate(raw.get("segments") or [])
                       if isinstance(s, dict) for a in (s.get("attributes") or {})}
    attribute_dists |= {("programs", k, n) for k, b in (raw.get("programs") or {}).items() if isinstance(b, dict)
                        for n in ("award_share", "amount")}
    attribute_dists |= {("programs", k, "payment", n) for k, b in (raw.get("programs") or {}).items()
                        if isinstance(b, dict) for n, _ in PAYMENT_DISTS}  # per grant, like a firm's attribute
    for loc, value in _walk(raw, ()):
        if not is_distribution(value) or loc in known or loc in attribute_dists or loc[:1] == ("overrides",):
            continue
        problems.append(Problem(file, dotted(loc), "cannot be uncertain; a distribution may replace take-up p, "
                                "arrivals_per_year, firms_at_start, the numbers of an attribute's distribution and its "
                                "growth, award_share and amount numbers, and policy rates and dates set through "
                                "overrides", line_of(lines, loc)))
    return problems


def is_budget(key: str) -> bool:
    """An override of a pool's budget (``POLICY.pools.POOL.budget``)."""
    return ".pools." in f".{key}" and key.endswith(".budget")


def may_vary(key: str) -> bool:
    """Whether an overridden policy field may vary from run to run (its dates, its rules' numbers)."""
    return _override_kind(key) is not None


def refusal(key: str) -> str:
    """Why an override's field may not be uncertain, and what to do instead."""
    if is_budget(key):
        return ("a pool's budget is the decision being sized, not an uncertainty: give one amount "
                "(`sim size` finds the budget for a risk, `sim sweep` compares several)")
    return ("only a policy's effective dates (effective.start, effective.end) and the numbers of a program's rule "
            "(programs.ID.benefit, .cap, .eligibility) or of an uplift may vary from run to run; give one value "
            "(`sim sweep` compares several)")


def _walk(node: Any, loc: tuple) -> Iterator[tuple[tuple, Any]]:
    yield loc, node
    if isinstance(node, dict):
        if is_distribution(node) and loc:
            return
        for key, value in node.items():
            yield from _walk(value, loc + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, loc + (i,))


def _set(data: Any, loc: tuple, value: Any) -> None:
    for key in loc[:-1]:
        data = data[key]
    data[loc[-1]] = value


def _factor_names(raw: dict) -> set[str]:
    factors = raw.get("factors")
    return set(factors) if isinstance(factors, dict) else set()


class _Bad(Exception):
    def __init__(self, message: str, sub: tuple = ()):
        super().__init__(message)
        self.message, self.sub = message, sub


def read(value: dict, pos: Position, line: int | None, factors: set[str]) -> Parameter:
    """Check one distribution and read its numbers in the field's unit; raises _Bad with the field at fault."""
    try:
        spec = Uncertain.model_validate(value)
    except ValidationError as exc:
        first = problems_from(exc, "", {})[0]
        sub = tuple(first.field.split(".")) if first.field else ()
        raise _Bad(first.message, sub) from None
    if spec.factor is not None and spec.factor not in factors:
        known = ", ".join(sorted(factors)) or "none"
        raise _Bad(f"unknown factor {spec.factor!r}; name it under factors: (known: {known})", ("factor",))
    numbers = {}
    for name in NUMBERS:
        raw = getattr(spec, name)
        if raw is not None:
            numbers[name] = _number(raw, name, pos)
    values, weights = (), ()
    if spec.dist == "choice":
        values, weights = _choice(spec.values, pos)
    elif spec.dist == "empirical":
        if not isinstance(spec.values, list) or not spec.values:
            raise _Bad("empirical needs values as a non-empty list of observed values", ("values",))
        values = tuple(sorted(_number(v, "values", pos) for v in spec.values))
    _check(spec.dist, numbers, pos)
    numbers = _canonical(spec.dist, numbers)
    param = Parameter(path=pos.path, kind=pos.kind, dist=spec.dist, numbers=tuple(numbers.items()), values=values,
                      weights=weights, factor=spec.factor, loading=float(spec.loading or 0.0), why=spec.why or "",
                      line=line)
    _check_support(param)
    return param


def _number(raw: Any, name: str, pos: Position) -> float:
    """One number of a distribution in the field's unit (yuan, days since 1970-01-01, a fraction)."""
    sub = (name,) if name != "values" else ("values",)
    kind = pos.kind if name not in ("sigma", "a", "b", "shape") else "number"
    if name == "sd" and pos.kind == "date":
        kind = "number"  # a spread of dates in days
    try:
        if kind == "date":
            if isinstance(raw, dt.date):
                return float((raw - EPOCH).days)
            return float((dt.date.fromisoformat(str(raw).strip()) - EPOCH).days)
        if kind == "money" or (pos.attr and VOCABULARY[pos.attr].kind == "money" and name not in ("sigma",)):
            return float(parse_money(raw, pos.attr or pos.path))
        if isinstance(raw, str) and raw.strip().endswith(("%", "‰")) or isinstance(raw, str) and "/" in raw:
            return float(parse_rate(raw, pos.path))
        if isinstance(raw, str) and pos.kind == "number" and raw.strip()[-1:] in ("万", "亿", "元"):
            return float(parse_money(raw, pos.path))
        if isinstance(raw, bool):
            raise ValueError
        return float(raw)
    except (MoneyError, ValueError, TypeError):
        what = {"date": "a date (YYYY-MM-DD)", "money": "an amount of money (e.g. 120万)"}.get(kind, "a number")
        raise _Bad(f"{raw!r} is not {what}", sub) from None


def _choice(values: Any, pos: Position) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if isinstance(values, list) and values:
        pairs = [(_number(v, "values", pos), 1.0) for v in values]
    elif isinstance(values, dict) and values:
        pairs = []
        for v, w in values.items():
            try:
                weight = float(w)
            except (TypeError, ValueError):
                raise _Bad(f"the weight of {v} must be a number; got {w!r}", ("values", str(v))) from None
            pairs.append((_number(v, "values", pos), weight))
    else:
        raise _Bad("choice needs values: a mapping of value to weight (e.g. {0.5: 1, 0.7: 2}) or a list", ("values",))
    if any(w < 0 for _, w in pairs) or sum(w for _, w in pairs) <= 0:
        raise _Bad("choice weights must be 0 or more with a positive total", ("values",))
    pairs.sort()
    total = sum(w for _, w in pairs)
    return tuple(v for v, _ in pairs), tuple(w / total for _, w in pairs)


def _check(dist: str, n: dict[str, float], pos: Position) -> None:
    """Refuse impossible distributions, naming the number at fault."""
    def positive(*names: str) -> None:
        for name in names:
            if name in n and not n[name] > 0:
                raise _Bad(f"{name} must be above 0; got {_show(pos.kind if name in ('sd',) and pos.kind != 'date' else 'number', n[name])}", (name,))

    if dist in ("uniform", "triangular") or ("low" in n and "high" in n):
        if "low" in n and "high" in n and not n["low"] < n["high"]:
            raise _Bad(f"low ({_show(pos.kind, n['low'])}) must be below high ({_show(pos.kind, n['high'])})", ("low",))
    if dist == "triangular" and not n["low"] <= n["mode"] <= n["high"]:
        raise _Bad(f"mode ({_show(pos.kind, n['mode'])}) must lie between low and high", ("mode",))
    positive("sd", "sigma", "a", "b", "shape", "scale")
    if dist == "normal" and ("low" in n or "high" in n):
        lo, hi = n.get("low", -math.inf), n.get("high", math.inf)
        if special.ndtr((hi - n["mean"]) / n["sd"]) - special.ndtr((lo - n["mean"]) / n["sd"]) < 1e-9:
            raise _Bad("the bounds leave no probability: mean and sd put nothing between low and high", ("low",))
    if dist == "lognormal":
        positive("median")
    if dist == "gamma" and "mean" in n:
        positive("mean")
    if dist == "beta" and "mean" in n:
        lo, hi = n.get("low", 0.0), n.get("high", 1.0)
        if not lo < n["mean"] < hi:
            raise _Bad(f"a beta's mean must lie strictly between {_show(pos.kind, lo)} and {_show(pos.kind, hi)}; "
                       f"got {_show(pos.kind, n['mean'])}", ("mean",))
        m, v = (n["mean"] - lo) / (hi - lo), (n["sd"] / (hi - lo)) ** 2
        if not v < m * (1 - m):
            top = math.sqrt(m * (1 - m)) * (hi - lo)
            raise _Bad(f"sd {n['sd']:g} is too large for a beta with mean {n['mean']:g}: it must be below {top:.4g}", ("sd",))


def _canonical(dist: str, n: dict[str, float]) -> dict[str, float]:
    """Beta and gamma by their shape parameters (a, b; shape, scale) whichever way they were given."""
    if dist == "beta" and "mean" in n:
        lo, hi = n.get("low", 0.0), n.get("high", 1.0)
        m, v = (n["mean"] - lo) / (hi - lo), (n["sd"] / (hi - lo)) ** 2
        k = m * (1 - m) / v - 1
        out = {"a": m * k, "b": (1 - m) * k}
        return out | {key: n[key] for key in ("low", "high") if key in n}
    if dist == "gamma" and "mean" in n:
        return {"shape": (n["mean"] / n["sd"]) ** 2, "scale": n["sd"] ** 2 / n["mean"]}
    return n


def _check_support(param: Parameter) -> None:
    """The values a distribution can give must be values the field may take."""
    if param.kind == "date":
        if param.dist not in ("uniform", "triangular", "choice", "empirical", "normal"):
            raise _Bad(f"a date may be uniform, triangular, normal (with low and high), choice or empirical; not {param.dist}")
        if param.dist == "normal" and (param.number("low") is None or param.number("high") is None):
            raise _Bad("a normal distribution of dates needs low and high dates to bound it", ("low",))
        return
    lowest, highest, open_low = DOMAINS[param.kind]
    lo, hi = param.support()
    below = lo < lowest or (open_low and lo <= lowest)
    if below or hi > highest:
        what = _DOMAIN_TEXT.get(param.kind, "this field")
        reach = f"reaches {_show(param.kind, lo)}" if below else f"reaches {_show(param.kind, hi)}"
        if math.isinf(lo if below else hi):
            reach = "is unbounded " + ("below" if below else "above")
        hint = {"probability": "; use beta, or uniform or triangular within 0–1",
                "share": "; use beta, or uniform or triangular within 0–1"}.get(param.kind, "")
        if param.dist == "normal" and not hint:
            hint = f"; bound it with low: {_show(param.kind, lowest)}" if below else ""
        sub = ("low",) if below and param.number("low") is not None else ("high",) if not below and param.number("high") is not None else ()
        raise _Bad(f"is {what}, but this {param.dist} distribution {reach}{hint}", sub)


def _pairs(params: list[Parameter], file: str, lines: Lines, raw: dict) -> list[Problem]:
    """Bounds that runs could draw crossed: an attribute's low above its high, or min above max."""
    by_path = {p.path: p for p in params}
    problems = []
    for pos in positions(raw):
        if not pos.path.endswith((".low", ".min")):
            continue
        first = pos.path
        second = first[: -len("low")] + "high" if first.endswith(".low") else first[: -len("min")] + "max"
        if first not in by_path and second not in by_path:
            continue
        lo_loc, hi_loc = pos.loc, pos.loc[:-1] + (second.rsplit(".", 1)[1],)
        lo = by_path[first].support()[1] if first in by_path else _plain_number(value_at(raw, lo_loc), pos)
        hi = by_path[second].support()[0] if second in by_path else _plain_number(value_at(raw, hi_loc), pos)
        if lo is not None and hi is not None and lo > hi:
            names = (first.rsplit(".", 1)[1], second.rsplit(".", 1)[1])
            loc = lo_loc if first in by_path else hi_loc
            problems.append(Problem(file, dotted(loc), f"runs could draw {names[0]} above {names[1]}: {names[0]} reaches "
                                    f"{_show(pos.kind, lo)}, {names[1]} goes down to {_show(pos.kind, hi)}",
                                    line_of(lines, loc)))
    return problems


def _plain_number(value: Any, pos: Position) -> float | None:
    if value is None:
        return None
    try:
        return _number(value, "value", pos)
    except _Bad:
        return None


def check_factors(raw: dict, params: list[Parameter], file: str, lines: Lines) -> list[Problem]:
    """A factor no parameter loads on is most likely a mistake: say so."""
    problems = []
    used = {p.factor for p in params if p.factor}
    for name in _factor_names(raw):
        if name not in used:
            loc = ("factors", name)
            problems.append(Problem(file, dotted(loc), f"no uncertain number loads on factor {name!r}; give some "
                                    f"'factor: {name}, loading: …', or remove it", line_of(lines, loc)))
    return problems


# --------------------------------------------------------------------------- for editors

_WIDENED = {"TakeUp": ("p",), "Segment": ("firms_at_start", "arrivals_per_year"),
            "Dist": ("value", "low", "high", "mean", "sd", "median", "sigma", "shape", "scale", "p", "min", "max", "growth")}


def widen_json_schema(schema: dict) -> dict:
    """The scenario file's JSON Schema with a distribution allowed wherever a number may be uncertain.

    The models validate a scenario with its uncertain numbers already replaced (see
    :func:`extract`), so their schema says "a number"; an editor should offer either.
    """
    defs = schema.setdefault("$defs", {})
    spec = Uncertain.model_json_schema()
    spec["description"] = ("An uncertain number: a distribution drawn once per run (uniform, triangular, normal, "
                           "lognormal, beta, gamma, choice, empirical), optionally on a common factor.")
    defs["Uncertain"] = spec
    ref = {"$ref": "#/$defs/Uncertain"}
    for model, fields in _WIDENED.items():
        props = defs.get(model, {}).get("properties", {})
        for name in fields:
            if name in props:
                prop = props[name]
                kept = {k: prop.pop(k) for k in ("title", "description", "default") if k in prop}
                props[name] = {**kept, "anyOf": [prop, ref]}
    return schema
