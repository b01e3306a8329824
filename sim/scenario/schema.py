"""Scenarios: which policies, which firms, how they behave, and how many Monte Carlo runs.

A policy says what the text says; a scenario says everything the text does not: how many
firms of which kind arrive each year, what they spend, how many take a program up and
when they apply, what a blank date is, how an oversubscribed pool is rationed.  Every such
number is an assumption, so every one carries ``why:``, its reasoning, and validation
refuses one without it.

Examples
--------
>>> s = load_scenario("scenarios/binjiang.yaml")
>>> s2 = s.with_overrides({"monte_carlo.runs": 50})
>>> s2.monte_carlo.runs
50
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.policy.attributes import VOCABULARY
from sim.errors import InputError, PolicyError, Problem, ScenarioError
from sim.policy.loader import Lines, line_of, problems_from, read_yaml
from sim.policy.models import Policy, coerce_value, implicit_pools, resolve_policy, set_path, validate_policy



class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _why(value: str) -> str:
    if not str(value).strip():
        raise ValueError("an assumption needs its reasoning in 'why'")
    return value


Why = Annotated[str, AfterValidator(_why)]  # every assumption carries its reasoning


DistKind = Literal["constant", "uniform", "normal", "lognormal", "bernoulli", "choice", "empirical"]
_PARAMS: dict[str, tuple[str, ...]] = {
    "constant": ("value",),
    "uniform": ("low", "high"),
    "normal": ("mean", "sd"),
    "lognormal": ("median", "sigma"),
    "bernoulli": ("p",),
    "choice": ("values",),
    "empirical": ("values",),
}


class Dist(Strict):
    """A distribution of one attribute over firms, with optional bounds and yearly growth.

    ``lognormal`` is given by its median and sigma (of the log), which is how people
    describe skewed spending ("typically 300万, often three times more or less").
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
        extra = [k for k in ("value", "low", "high", "mean", "sd", "median", "sigma", "p", "values")
                 if getattr(self, k) is not None and k not in _PARAMS[self.dist]]
        if extra:
            raise ValueError(f"a {self.dist} distribution does not take {', '.join(extra)}")
        if self.dist == "choice" and not (isinstance(self.values, dict) and self.values):
            raise ValueError("choice needs values as a mapping of value to weight, e.g. {ai: 0.7, software: 0.3}")
        if self.dist == "empirical" and not (isinstance(self.values, list) and self.values):
            raise ValueError("empirical needs values as a non-empty list of observed values")
        return self

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
        for key in ("value", "low", "high", "mean", "median", "min", "max"):
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
        if self.dist == "uniform" and out["high"] < out["low"]:
            raise ValueError(f"uniform needs low <= high; got {self.low} > {self.high}")
        if "min" in out and "max" in out and out["max"] < out["min"]:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self.model_copy(update=out)


class TakeUp(Strict):
    p: float = Field(ge=0, le=1)
    why: Why



class Segment(Strict):
    """A kind of firm: how many there are, how many arrive, what they look like, what they use."""

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    why: Why
    firms_at_start: int = Field(0, ge=0)
    arrivals_per_year: float | dict[int, float] = 0.0
    attributes: dict[str, Dist] = {}
    take_up: dict[str, TakeUp] = {}


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


class ProgramBehaviour(Strict):
    """Assumptions about one program: when firms apply, how they are ranked, what is paid."""

    why: Why
    call: Call = Call()
    score: str = "entitled"
    award_share: Dist | None = None
    amount: Dist | None = None


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



class StackGroup(Strict):
    """Similar programs of different policies of which a firm gets only the highest."""

    programs: tuple[str, ...] = Field(min_length=2)
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
    segments: tuple[Segment, ...] = Field(min_length=1)


class Scenario(BaseModel):
    """A validated scenario with its policies loaded and overridden: what the engine runs."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    spec: ScenarioFile
    policies: dict[str, Policy]
    path: str
    raw: dict
    sha256: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def monte_carlo(self) -> MonteCarlo:
        return self.spec.monte_carlo

    @property
    def horizon(self) -> Horizon:
        return self.spec.horizon

    def with_overrides(self, values: dict[str, Any]) -> "Scenario":
        """A copy with dotted paths of the scenario file set, e.g. ``{"monte_carlo.runs": 50}``.

        Policy values are reached through the scenario's overrides, e.g.
        ``{"overrides.binjiang.pools.compute_vouchers.budget": "5000万"}``.
        """
        raw = copy.deepcopy(self.raw)
        for path, value in values.items():
            apply_path(raw, path, value, self.path)
        return build_scenario(raw, self.path, {}, Path(self.path).resolve().parent)


def apply_path(raw: dict, path: str, value: Any, file: str) -> None:
    """Set a scenario field; under ``overrides.`` the rest of the path is a policy path."""
    if path.startswith("overrides."):
        key = path[len("overrides."):]
        entry = raw.setdefault("overrides", {}).get(key)
        why = entry["why"] if isinstance(entry, dict) and "why" in entry else "set on the command line"
        raw["overrides"][key] = {"value": value, "why": why}
        return
    set_path(raw, path, value, ScenarioError, file)


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load, validate and resolve a scenario and its policies.

    Raises :class:`ScenarioError` (or :class:`PolicyError` for a bad policy) listing every
    problem with file, line and field.
    """
    path = Path(path)
    raw, lines = read_yaml(path, ScenarioError)
    for key, value in (overrides or {}).items():
        apply_path(raw, key, value, str(path))
    return build_scenario(raw, str(path), lines, path.resolve().parent)


def build_scenario(raw: dict, file: str, lines: Lines, folder: Path) -> Scenario:
    try:
        spec = ScenarioFile.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(problems_from(exc, file, lines)) from None
    policies, policy_data = _load_policies(spec, file, lines, folder)
    problems = _cross_checks(spec, policies, file, lines)
    if problems:
        raise ScenarioError(problems)
    digest = inputs_digest(raw, policy_data)
    return Scenario(spec=spec, policies=policies, path=file, raw=raw, sha256=digest)


def inputs_digest(raw: dict, policy_data: list[dict]) -> str:
    """A fingerprint of everything a run depends on: the scenario and its policies, as resolved."""
    text = json.dumps([raw, policy_data], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def file_digest(path: str | Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _load_policies(spec: ScenarioFile, file: str, lines: Lines, folder: Path) -> tuple[dict[str, Policy], list[dict]]:
    by_policy: dict[str, dict[str, Any]] = {}
    for key, override in spec.overrides.items():
        policy_id, _, rest = key.partition(".")
        if policy_id not in [Path(p).stem for p in spec.policies] or not rest:
            raise ScenarioError.one(file, f"overrides.{key}", f"must start with one of the scenario's policies ({', '.join(spec.policies)}) and name a field, e.g. binjiang.pools.compute_vouchers.budget", line_of(lines, ("overrides", key)))
        by_policy.setdefault(policy_id, {})[rest] = override.value
        if rest.endswith(".rationing"):
            by_policy[policy_id][rest + "_basis"] = "scenario"
    out: dict[str, Policy] = {}
    datas: list[dict] = []
    for i, name in enumerate(spec.policies):
        try:
            ppath = resolve_policy(name, base=folder.parent if folder.name == "scenarios" else folder)
            data, plines = read_yaml(ppath, PolicyError)
            data = implicit_pools(data)
            for key, value in by_policy.get(Path(name).stem, {}).items():
                set_path(data, key, value, ScenarioError, f"{file}: overrides.{Path(name).stem}")
            policy = validate_policy(data, str(ppath), plines)
            datas.append(data)
        except PolicyError as exc:
            if any(p.file == name for p in exc.problems):
                raise ScenarioError.one(file, f"policies.{i}", exc.problems[0].message, line_of(lines, ("policies", i))) from None
            raise _blame_overrides(exc, Path(name).stem, by_policy.get(Path(name).stem, {}), file, lines) from None
        out[policy.id] = policy
    return out, datas


def _blame_overrides(exc: PolicyError, policy_id: str, overrides: dict[str, Any], file: str, lines: Lines) -> InputError:
    """A policy problem caused by a scenario's override is reported at the override's line."""
    problems = []
    for p in exc.problems:
        key = next((k for k in overrides if p.field == k or p.field.startswith(k + ".") or k.startswith(p.field + ".")), None)
        if key is None:
            problems.append(p)
        else:
            loc = ("overrides", f"{policy_id}.{key.removesuffix('_basis')}")
            problems.append(Problem(file, f"overrides.{policy_id}.{key}", f"{p.message} (in policy {policy_id})", line_of(lines, loc)))
    return ScenarioError(problems) if len(problems) != len([p for p in problems if p in exc.problems]) else exc


def _cross_checks(spec: ScenarioFile, policies: dict[str, Policy], file: str, lines: Lines) -> list[Problem]:
    """What only makes sense with the policies in hand: names, dates and needed attributes."""
    problems: list[Problem] = []

    def bad(loc: tuple, message: str) -> None:
        problems.append(Problem(file, ".".join(map(str, loc)), message, line_of(lines, loc)))

    programs = {f"{pid}.{prog}": (policies[pid], prog) for pid in policies for prog in policies[pid].programs}
    pools = {f"{pid}.{pool}" for pid in policies for pool in policies[pid].pools}
    for pid, policy in policies.items():
        w = policy.effective
        if w.start is None:
            bad(("policies",), f"policy {pid} has no start date in its text ({w.note or w.quote}); set it with overrides: {{{pid}.effective.start: {{value: YYYY-MM-DD, why: ...}}}}")
        elif w.last_day is None:
            bad(("policies",), f"policy {pid} has no end date in its text; set overrides {pid}.effective.end or {pid}.effective.duration_years")
        for case, shares in (policy.funding.cases or {}).items():
            if shares is None:
                bad(("policies",), f"policy {pid}: funding shares for {policy.funding.by} = {case} are not in the text; set overrides {pid}.funding.cases.{case} (e.g. {{city: 1/2, county: 1/2}})")
    for key in spec.programs:
        if key not in programs:
            bad(("programs", key), f"unknown program; use policy.program, e.g. {next(iter(programs))}")
    for key in spec.pools:
        if key not in pools:
            bad(("pools", key), f"unknown pool; pools are {', '.join(sorted(pools))}")
    for i, group in enumerate(spec.stacking):
        for name in group.programs:
            if name not in programs:
                bad(("stacking", i, "programs"), f"unknown program {name!r}; use policy.program")
    for i, seg in enumerate(spec.segments):
        for key in seg.take_up:
            if key not in programs:
                bad(("segments", i, "take_up", key), f"unknown program; use policy.program, e.g. {next(iter(programs))}")
                continue
            policy, prog_id = programs[key]
            needed = set(policy.programs[prog_id].attributes())
            needed |= {u.when.attr for u in policy.uplifts}
            funding = policy.funding_of(prog_id)
            if funding.by:
                needed.add(funding.by)
            behaviour = spec.programs.get(key)
            if behaviour and behaviour.score in VOCABULARY:
                needed.add(behaviour.score)
            missing = sorted(needed - set(seg.attributes))
            if missing:
                bad(("segments", i, "take_up", key), f"segment {seg.name} takes up {key}, which needs attributes {', '.join(missing)}; give them under segments.{i}.attributes")
    return problems
