"""The firms of a batch of runs and every application they make, drawn at once as numpy arrays.

Firms of each segment exist at the start or arrive through the years (a Poisson number a
year, on uniform days); their attributes are drawn once and grow each year.  Each firm
takes a program up or not, and applies once in each budget year the program is open to it,
on a day inside the program's call.  Where a 不重复 group lets a firm be paid by only one of
several programs, the sampler ranks the firm's applications in the group by what the rule
entitles it to (its preference, :func:`preference`); the engines then decide, after
selection, which one pays.

Many runs are drawn in one pass: each array holds the rows of every run of the pass, each
row carrying its run, so the Python work is per segment and program, not per run.
Randomness still belongs to each run: every number comes from a named stream of
:mod:`sim.engine.streams`, addressed by (seed, name, run, counter), so a run's firms do
not depend on the batch, the batch size or the worker count.  Streams are named by
purpose, segment, program or attribute, cohort and year; the counter is the firm's number
within its cohort (the firms there at the start, or those arriving in one year)::

    arrivals/SEGMENT/YEAR                          how many firms arrive that year
    arrival_day/SEGMENT/COHORT                     the day each of them arrives
    attr/SEGMENT/ATTRIBUTE/COHORT                  each firm's base value of an attribute
    row/SEGMENT/COHORT                             the data row a firm takes its attributes from (from_data)
    takeup/SEGMENT/PROGRAM/COHORT                  whether it takes the program up
    timing|score|award|amount/SEGMENT/PROGRAM/YEAR/COHORT    its application in one year

COHORT is ``start`` or the arrival year.  Hence common random numbers: variants that
differ by a budget, a rate or a disabled program draw the same firms, spending and days
for everything else; adding or removing a program or an attribute adds or removes its
streams and moves no other draw; a different arrival rate in 2026 leaves the firms of the
start and of 2025 as they were.  A number is drawn only for an application that is made
(its day, score, award share), so no draw depends on how many others were made.

An application's entitlement is the policy's rule on its base year's attributes (last
year's for a ``previous_year`` base), with the annual flows the rule pays on credited for
the days of that year on which the firm existed and the policy was in force
(:func:`_credit`; a scenario's ``bases`` may count more).

Scalar assumptions (a take-up probability, an attribute's median or sigma, a growth
rate, firms at the start, arrivals a year, an award share's bounds) may be given one
value per run through ``values``, keyed by the assumption's path in the scenario
(:func:`assumption_paths` lists them, in the units of the parsed scenario: yuan for
money): the sampler gathers every scalar per row, so a value per run changes nothing else.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import special

from sim.engine import streams
from sim.engine.outcomes import CANDIDATE, EXPOSURE, OUT_OF_WINDOW
from sim.errors import PolicyError
from sim.policy.attributes import VOCABULARY
from sim.policy.entitlement import eligible, entitlement, tier_reached
from sim.policy.load import validate_policy
from sim.policy.models import Policy
from sim.policy.overrides import set_path
from sim.scenario.model import Model, ProgramSpec
from sim.scenario.schema import Dist, Segment
from sim.scenario.uncertain import PAYMENT_DISTS

# firm-years drawn in one pass: enough to spread the Python work per segment and program
# over many runs (a default batch of 100 Binjiang runs is one pass), few enough to keep a
# pass's arrays to some tens of MB
ROWS_PER_PASS = 1 << 19

Values = Mapping[str, np.ndarray]  # assumption path -> one value per run of the pass


@dataclass
class Applications:
    """One row per application (a firm asking a program for one budget year)."""

    firm: np.ndarray  # int64, unique within the run
    program: np.ndarray  # int32 index into model.programs
    year: np.ndarray  # int32 budget year
    day: np.ndarray  # int32 days since the horizon's start
    entitled: np.ndarray  # int64 yuan the rule gives (after cap, uplift, award share)
    score: np.ndarray  # float64, higher ranks first in competitive rounds
    case: np.ndarray  # int16 funding case (index into the program's cases), 0 if none
    status: np.ndarray  # int8: 0 candidate, or OUT_OF_WINDOW, EXPOSURE
    grade: np.ndarray  # int16 the grade (档) a top-up program pays for: tier reached, drawn grade; 0 otherwise
    rank: np.ndarray  # int16 the firm's preference for it within its 不重复 group (0 first), -1 outside any group
    firms: int = 0

    def __len__(self) -> int:
        return len(self.firm)

    def order(self) -> np.ndarray:
        """Time order with an explicit tie-break: day, then firm, then program."""
        return np.lexsort((self.program, self.firm, self.day))

    def take(self, index: np.ndarray) -> "Applications":
        return Applications(**{k: getattr(self, k)[index] for k in _FIELDS}, firms=self.firms)


_FIELDS = ("firm", "program", "year", "day", "entitled", "score", "case", "status", "grade", "rank")
_DTYPES = {"firm": np.int64, "program": np.int32, "year": np.int32, "day": np.int32, "entitled": np.int64,
           "score": np.float64, "case": np.int16, "status": np.int8, "grade": np.int16, "rank": np.int16}


@dataclass
class Sample:
    """The firms and applications of runs ``first`` … ``last - 1``, drawn in one pass.

    ``apps`` holds the rows of every run, grouped by run in order (``at`` is each row's
    run less ``first``); :meth:`applications` gives one run's rows, as views, to an engine.
    """

    first: int
    last: int
    apps: Applications
    at: np.ndarray  # int64 run of each row, less first
    bounds: np.ndarray  # the rows of run first + b are bounds[b]:bounds[b + 1]
    firms: np.ndarray  # firms in each run
    arrivals: list[tuple[np.ndarray, np.ndarray]]  # per segment: each firm's arrival day, its rows per run
    values: dict[str, np.ndarray] = field(default_factory=dict)  # assumptions set per run (values)

    @property
    def runs(self) -> range:
        return range(self.first, self.last)

    def applications(self, run: int) -> Applications:
        a, z = self.bounds[run - self.first], self.bounds[run - self.first + 1]
        return Applications(**{k: getattr(self.apps, k)[a:z] for k in _FIELDS}, firms=int(self.firms[run - self.first]))

    def arrival_days(self, run: int) -> np.ndarray:
        """The arrival day of each firm of one run, indexed by firm number."""
        b = run - self.first
        return np.concatenate([day[rows[b]:rows[b + 1]] for day, rows in self.arrivals])


def sample(model: Model, run: int) -> Applications:
    """Draw the firms and applications of run ``run`` of the model's scenario."""
    return sample_runs(model, run, run + 1).applications(run)


def samples(model: Model, first: int, last: int, *, values: Values | None = None) -> Iterator[Sample]:
    """Runs ``first`` … ``last - 1`` in passes of about :data:`ROWS_PER_PASS` firm-years each."""
    step = runs_per_pass(model)
    for a in range(first, last, step):
        z = min(a + step, last)
        part = None if values is None else {k: np.asarray(v)[a - first:z - first] for k, v in values.items()}
        yield sample_runs(model, a, z, values=part)


def runs_per_pass(model: Model) -> int:
    """How many runs make about :data:`ROWS_PER_PASS` firm-years (at least one)."""
    years = len(model.years)
    rows = sum((s.firms_at_start + sum(s.arrivals_in(y) for y in model.years)) * (1 + len(s.take_up) * years)
               for s in model.scenario.spec.segments)
    return max(1, int(ROWS_PER_PASS // max(rows, 1.0)))


def sample_runs(model: Model, first: int, last: int, *, values: Values | None = None) -> Sample:
    """Draw the firms and applications of runs ``first`` … ``last - 1`` together.

    ``values`` gives assumptions one value per run (an array of ``last - first``), keyed
    by their paths in the scenario (:func:`assumption_paths`); others keep the scenario's.
    """
    draws = _Draws(model, first, last, values or {})
    segments = model.scenario.spec.segments
    firms: list[_Firms] = []
    counted = np.zeros(last - first, dtype=np.int64)  # firms of the earlier segments, in each run
    for i, segment in enumerate(segments):
        firms.append(_Firms(draws, i, segment, counted))
        counted = counted + firms[-1].per_run
    programs = {p.key: p for p in model.programs}
    parts: list[dict[str, np.ndarray]] = []
    for i, segment in enumerate(segments):
        for key in segment.take_up:
            if key in programs:  # else switched off by an override
                part = _applications(draws, firms[i], programs[key])
                if part is not None:
                    parts.append(part)
    apps, at, rule = _grouped(parts, last - first)
    apps.rank[:] = preference(model, apps, at, rule)
    bounds = np.searchsorted(at, np.arange(last - first + 1))
    return Sample(first, last, apps, at, bounds, counted, [(f.day, f.bounds) for f in firms], draws.values)


def assumption_paths(model: Model) -> list[str]:
    """Every scalar assumption the sampler reads, by its path in the scenario: what ``values`` may set."""
    out = []
    for segment in model.scenario.spec.segments:
        at = f"segments.{segment.name}"
        out.append(f"{at}.firms_at_start")
        if isinstance(segment.arrivals_per_year, dict):
            out += [f"{at}.arrivals_per_year.{y}" for y in model.years]
        else:
            out.append(f"{at}.arrivals_per_year")
        for attr, dist in segment.attributes.items():
            out += [f"{at}.attributes.{attr}.{name}" for name in _numbers(dist, attr)]
        if segment.from_data is not None:
            out += [f"{at}.from_data.growth.{attr}" for attr in segment.from_data.attributes
                    if VOCABULARY[attr].kind in ("money", "number", "count")]
        out += [f"{at}.take_up.{key}.p" for key in segment.take_up]
    for key, behaviour in model.scenario.spec.programs.items():
        for field, attr in (("award_share", "domestic_compute_share"), ("amount", "project_investment")):
            dist = getattr(behaviour, field)
            if dist is not None:
                out += [f"programs.{key}.{field}.{name}" for name in _numbers(dist, attr, grows=False)]
        if behaviour.payment is not None:  # read when the grants are paid (sim.engine.payments)
            for field, attr in PAYMENT_DISTS:
                dist = getattr(behaviour.payment, field)
                if dist is not None:
                    out += [f"programs.{key}.payment.{field}.{name}" for name in _numbers(dist, attr, grows=False)]
    # a policy's dates and the numbers of its programs' rules, where the scenario makes them uncertain
    out += [p.path for p in model.scenario.parameters if p.path.startswith("overrides.")]
    return out


def _numbers(dist: Dist, attr: str, *, grows: bool = True) -> list[str]:
    """The parameters of a distribution that are single numbers (``growth`` too for a firm's attribute)."""
    kind = VOCABULARY[attr].kind
    if kind == "category":
        return []
    names = [n for n in ("value", "low", "high", "mean", "sd", "median", "sigma", "shape", "scale", "p")
             if getattr(dist, n) is not None]
    if kind != "flag":
        names += [n for n in ("min", "max") if getattr(dist, n) is not None] + (["growth"] if grows else [])
    return names


class _Draws:
    """What every draw of one pass shares: the model, its runs, values per run, stream bases."""

    def __init__(self, model: Model, first: int, last: int, values: Values):
        self.model = model
        self.runs = np.arange(first, last, dtype=np.int64)
        unknown = set(values) - set(assumption_paths(model)) if values else set()
        if unknown:
            raise ValueError(f"no scalar assumption at {', '.join(sorted(unknown))}; see assumption_paths()")
        self.values = {k: np.asarray(v) for k, v in values.items()}
        wrong = [k for k, v in self.values.items() if v.shape != (len(self.runs),)]
        if wrong:
            raise ValueError(f"values for {', '.join(wrong)} must hold one number per run ({len(self.runs)})")
        # streams seen by earlier passes get their starting points in one numpy call
        self._keys: dict[str, np.uint64] = model.cache.setdefault("stream_keys", {})
        self._row = {name: i for i, name in enumerate(self._keys)}
        self._table = streams.bases(np.array(list(self._keys.values()), dtype=np.uint64), self.runs)
        self._in_force: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}

    def value(self, path: str, default):
        """The assumption at ``path``: the scenario's number, or one value per run."""
        return self.values.get(path, default)

    def _policy_values(self, pid: str) -> dict[str, np.ndarray]:
        """Values per run of the policy's fields the scenario makes uncertain, keyed by the path in the policy."""
        prefixes = _policy_prefixes(self.model.scenario)
        out = {}
        for path, value in self.values.items():
            if path.startswith("overrides."):
                prefix, _, rest = path[len("overrides."):].partition(".")
                if prefixes.get(prefix) == pid:
                    out[rest] = value
        return out

    def window(self, pid: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The policy's first and last day in force in each run, clipped to the horizon, where its dates vary by run (else None)."""
        dates = self.in_force(pid)
        if dates is None:
            return None
        model = self.model
        return np.maximum(dates[0], 0), np.minimum(dates[1], model.year_end[model.years[-1]])

    def in_force(self, pid: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The policy's first and last day in force in each run (days since the horizon's start,
        before it too), where its dates vary by run (else None).

        Worked out once a pass per policy: every program of the policy reads them.
        """
        if pid not in self._in_force:
            self._in_force[pid] = self._dates(pid)
        return self._in_force[pid]

    def _dates(self, pid: str) -> tuple[np.ndarray, np.ndarray] | None:
        dates = {k: v for k, v in self._policy_values(pid).items() if k in _DATES}
        if not dates:
            return None
        model = self.model
        effective = model.scenario.policies[pid].effective
        starts = dates.get("effective.start", np.full(len(self.runs), np.nan))
        ends = dates.get("effective.end", np.full(len(self.runs), np.nan))
        seen: dict[tuple[float, float], tuple[int, int]] = {}
        first, last = np.zeros(len(self.runs), dtype=np.int64), np.zeros(len(self.runs), dtype=np.int64)
        for b, key in enumerate(zip(starts.tolist(), ends.tolist())):
            if key not in seen:
                start, end = (EPOCH + dt.timedelta(days=int(v)) if v == v else own for v, own in zip(key, (effective.start, effective.end)))
                seen[key] = (model.day(start), model.day(effective.last_day_from(start, end)))
            first[b], last[b] = seen[key]
        return first, last

    def variants(self, spec: ProgramSpec) -> list[tuple[np.ndarray, Policy]] | None:
        """Where numbers of the policy's rules vary by run: each version of the policy and the runs that have it."""
        rules = {k: v for k, v in self._policy_values(spec.policy).items() if k not in _DATES}
        if not rules:
            return None
        paths = sorted(rules)
        table = np.column_stack([np.asarray(rules[k], dtype=np.float64) for k in paths])
        versions, which = np.unique(table, axis=0, return_inverse=True)
        which = which.ravel()
        return [(which == i, _policy_version(self.model, spec.policy, tuple(zip(paths, row.tolist()))))
                for i, row in enumerate(versions)]

    def bases(self, names: tuple[str, ...]) -> np.ndarray:
        """Where each named stream starts in each run: (len(names), runs)."""
        new = [n for n in names if n not in self._row]
        if new:
            seed = self.model.scenario.monte_carlo.seed
            for n in new:
                self._keys[n] = streams.stream_key(seed, n)
                self._row[n] = len(self._row)
            more = streams.bases(np.array([self._keys[n] for n in new], dtype=np.uint64), self.runs)
            self._table = np.concatenate([self._table, more])
        return self._table[[self._row[n] for n in names]]


_DATES = ("effective.start", "effective.end")
EPOCH = dt.date(1970, 1, 1)


def _policy_prefixes(scenario) -> dict[str, str]:
    """How a scenario's overrides name each policy (by id or by its file's name) → the policy's id."""
    out = {}
    for name, source in scenario.sources.items():
        pid = str(source.data.get("id"))
        out[Path(name).stem] = pid
        out[pid] = pid
    return out


def _policy_version(model: Model, pid: str, settings: tuple[tuple[str, float], ...]) -> Policy:
    """The policy with some numbers of its rules set (one run's draw), validated once per model and values."""
    cache = model.cache.setdefault("policy_versions", {})
    key = (pid, settings)
    if key not in cache:
        if len(cache) > 10_000:  # continuous draws make a version per run: keep memory bounded
            cache.clear()
        scenario = model.scenario
        prefix = next(k for k, v in _policy_prefixes(scenario).items() if v == pid)
        index = next(i for i, name in enumerate(scenario.spec.policies) if scenario.sources[name].data.get("id") == pid)
        source = scenario.sources[scenario.spec.policies[index]]
        data = copy.deepcopy(scenario.policy_data[index])
        for rest, value in settings:
            typed = scenario.parameter(f"overrides.{prefix}.{rest}").typed(value)
            set_path(data, rest, typed, PolicyError, source.path)
        cache[key] = validate_policy(data, source.path, source.lines)
    return cache[key]


def _per_row(value, at: np.ndarray):
    """A scalar as it is; one value per run as one value per row."""
    return value[at] if np.ndim(value) else value


class _Firms:
    """One segment's firms in every run of a pass, in rows ordered by run, cohort and number."""

    def __init__(self, draws: _Draws, index: int, segment: Segment, numbered: np.ndarray):
        """``numbered``: how many firms of each run the earlier segments hold (this one's come after)."""
        model = draws.model
        self.draws, self.index, self.segment = draws, index, segment
        self.cohorts = ["start"] + [str(y) for y in model.years]
        runs = len(draws.runs)
        counts = np.zeros((runs, len(self.cohorts)), dtype=np.int64)
        counts[:, 0] = _whole(draws.value(f"segments.{segment.name}.firms_at_start", segment.firms_at_start))
        u = streams.uniform(self.draws.bases(tuple(f"arrivals/{segment.name}/{y}" for y in model.years)), 0)
        for yi, year in enumerate(model.years):
            rate = draws.value(_arrivals_path(segment, year), segment.arrivals_in(year))
            counts[:, yi + 1] = streams.poisson(u[yi], rate)
        per = counts.ravel()
        group = np.repeat(np.arange(per.size), per)
        self.at, self.cohort = np.divmod(group, len(self.cohorts))
        self.stream = self.cohort * runs + self.at  # the firm's place in a (cohort, run) table of streams
        self.number = (np.arange(len(group)) - (np.cumsum(per) - per)[group]).astype(np.uint64)
        self.per_run = counts.sum(axis=1)
        self.bounds = np.concatenate([[0], np.cumsum(self.per_run)])
        self.id = numbered[self.at] + np.arange(len(group)) - self.bounds[self.at]  # the firm's number in its run
        self.arrival_year = np.array([model.years[0] - 1] + model.years)[self.cohort]
        first = np.array([0] + [model.year_start[y] for y in model.years])
        span = np.array([1] + [model.year_end[y] - model.year_start[y] + 1 for y in model.years])
        self.day = np.zeros(len(group), dtype=np.int64)
        came = np.flatnonzero(self.cohort > 0)
        if len(came) == len(group):  # every firm arrived during the horizon
            came = slice(None)
        u = self.uniform(f"arrival_day/{segment.name}", came)
        self.day[came] = first[self.cohort[came]] + _below(u, span[self.cohort[came]])
        self._values: dict = {}

    def since(self) -> np.ndarray:
        """The first day each firm's flows accrue: its arrival day, or long before the horizon for a firm there at the start."""
        if ("since",) not in self._values:
            self._values[("since",)] = np.where(self.cohort > 0, self.day, np.iinfo(np.int64).min // 4)
        return self._values[("since",)]

    def uniform(self, stream: str, rows: np.ndarray | slice | None = None, year: np.ndarray | None = None) -> np.ndarray:
        """One uniform number per firm (of ``rows``) from ``stream/COHORT``, counted by firm number.

        With ``year`` (one calendar year per row) the stream is ``stream/YEAR/COHORT``.
        """
        if rows is None:
            rows = slice(None)
        place = self.stream[rows]
        if year is None:
            table = self.draws.bases(tuple(f"{stream}/{c}" for c in self.cohorts))
        else:
            years = self.draws.model.years
            table = self.draws.bases(tuple(f"{stream}/{y}/{c}" for y in years for c in self.cohorts))
            place = place + (year - years[0]) * (len(self.cohorts) * len(self.draws.runs))
        return streams.uniform(table.ravel()[place], self.number[rows])

    def attribute(self, attr: str) -> np.ndarray:
        """Each firm's base value of ``attr``, drawn once (with the attributes it is correlated with).

        A segment taking attributes from data gives each firm one row of the data, drawn
        from the stream ``row/SEGMENT/COHORT``, and all its data attributes from that row.
        """
        source = self.segment.from_data
        if source is not None and attr in source.columns.values():
            if ("row",) not in self._values:
                rows = self.draws.model.scenario.data[self.segment.name]
                self._values[("row",)] = _below(self.uniform(f"row/{self.segment.name}"), rows.rows)
            return self.draws.model.scenario.data[self.segment.name].values[attr][self._values[("row",)]]
        if attr not in self._values:
            correlation = self.segment.correlation
            names = correlation.names if correlation is not None and attr in correlation.names else [attr]
            u = np.column_stack([self.uniform(f"attr/{self.segment.name}/{a}") for a in names])
            if len(names) > 1:
                u = _copula(u, self.draws.model.cache, self.segment)
            for j, a in enumerate(names):
                dist = self.segment.attributes[a]
                self._values[a] = draw(dist, a, u[:, j], self._param(f"segments.{self.segment.name}.attributes.{a}", dist))
        return self._values[attr]

    def in_year(self, attr: str, rows: np.ndarray, year: np.ndarray) -> np.ndarray:
        """``attr`` of firms ``rows`` in ``year`` (one per row): the base value grown once a year since the firm's first year."""
        base = self.attribute(attr)[rows]
        growth = self.draws.value(*_growth(self.segment, attr))
        if not np.any(growth):
            return base
        start = np.maximum(self.arrival_year[rows], self.draws.model.years[0])
        value = base * (1.0 + _per_row(growth, self.at[rows])) ** np.maximum(year - start, 0)
        kind = VOCABULARY[attr].kind
        if kind == "money":
            return np.rint(value).astype(np.int64)
        return np.rint(value) if kind == "count" else value

    def _param(self, path: str, dist: Dist, rows: np.ndarray | None = None) -> Callable[[str], object]:
        at = self.at if rows is None else self.at[rows]
        return lambda name: _per_row(self.draws.value(f"{path}.{name}", getattr(dist, name)), at)


def _growth(segment: Segment, attr: str) -> tuple[str, float]:
    """The path of an attribute's growth and the scenario's number for it (attributes drawn or from data)."""
    source = segment.from_data
    if source is not None and attr in source.columns.values():
        return f"segments.{segment.name}.from_data.growth.{attr}", source.growth.get(attr, 0.0)
    return f"segments.{segment.name}.attributes.{attr}.growth", segment.attributes[attr].growth


def _copula(u: np.ndarray, cache: dict, segment: Segment) -> np.ndarray:
    """Uniforms made rank-correlated as the segment says, each column still uniform (a Gaussian copula).

    Each firm's normal scores ``Φ⁻¹(u)`` are mixed by the Cholesky factor L of the normal
    correlation matrix (:mod:`sim.scenario.correlation`): ``z = L Φ⁻¹(u)`` has that
    correlation and standard normal columns, so ``Φ(z)`` keeps every marginal exactly.  The
    first attribute named keeps its own numbers (L's first row is (1, 0, …)).
    """
    low = cache.get(("copula", segment.name))
    if low is None:
        low = cache.setdefault(("copula", segment.name), segment.correlation.cholesky())
    z = streams.normal(u) @ low.T
    return np.clip(special.ndtr(z), 2.0 ** -53, 1.0 - 2.0 ** -53)


def _arrivals_path(segment: Segment, year: int) -> str:
    if isinstance(segment.arrivals_per_year, dict):
        return f"segments.{segment.name}.arrivals_per_year.{year}"
    return f"segments.{segment.name}.arrivals_per_year"


def _whole(value) -> np.ndarray:
    count = np.rint(np.asarray(value, dtype=np.float64)).astype(np.int64)
    if (count < 0).any():
        raise ValueError(f"firm counts must be 0 or more; got {count.min()}")
    return count


def _below(u: np.ndarray, n) -> np.ndarray:
    """Uniform integers 0 … n − 1 from uniforms (n ≥ 1, a number or one per element).

    ``u · n`` stays below n: u ≤ 1 − 2⁻⁵³, and n − n·2⁻⁵³ rounds down (or is exact, for a
    power of two) for any whole n below 2⁵³.
    """
    return (u * n).astype(np.int64)


def draw(dist: Dist, attr: str, u: np.ndarray, param: Callable[[str], object] | None = None) -> np.ndarray:
    """Values of ``attr`` from ``dist``, one per uniform in ``u``, bounded, typed as the attribute's kind.

    Each is the inverse of the distribution's CDF at its uniform.  ``param(name)`` gives
    the distribution's parameter ``name``: a number, or one per element of ``u``
    (default: the distribution's own numbers).
    """
    param = param or (lambda name: getattr(dist, name))
    kind = VOCABULARY[attr].kind
    if dist.dist == "constant":
        values = np.array(np.broadcast_to(np.asarray(param("value"), dtype=object if kind == "category" else None), u.shape))
    elif dist.dist == "uniform":
        low = param("low")
        values = low + (param("high") - low) * u
    elif dist.dist == "normal":
        values = param("mean") + param("sd") * streams.normal(u)
    elif dist.dist == "lognormal":
        values = param("median") * np.exp(param("sigma") * streams.normal(u))
    elif dist.dist == "gamma":  # scipy's stats.gamma(shape, scale=scale).ppf(u)
        values = param("scale") * special.gammaincinv(param("shape"), u)
    elif dist.dist == "weibull":  # scipy's stats.weibull_min(shape, scale=scale).ppf(u)
        values = param("scale") * (-np.log1p(-u)) ** (1.0 / np.asarray(param("shape"), dtype=np.float64))
    elif dist.dist == "bernoulli":
        values = u < param("p")
    elif dist.dist == "choice":
        options = list(dist.values)
        weights = np.cumsum(np.array(list(dist.values.values()), dtype=float))
        values = np.array(options)[np.minimum(np.searchsorted(weights / weights[-1], u, side="right"), len(options) - 1)]
    else:  # empirical: resample the observed values
        values = np.array(dist.values)[_below(u, len(dist.values))]
    return _typed(values, kind, param)


def _typed(values: np.ndarray, kind: str, param: Callable[[str], object]) -> np.ndarray:
    if kind == "category":
        return values.astype(str)
    if kind == "flag":
        return values.astype(bool)
    values = values.astype(np.float64, copy=False)
    low, high = param("min"), param("max")
    low = 0.0 if low is None else low
    high = 1.0 if kind == "share" and high is None else high
    values = np.maximum(values, low)
    if high is not None:
        values = np.minimum(values, high)
    if kind == "money":
        return np.rint(values).astype(np.int64)
    if kind == "count":
        return np.rint(values)
    return values


def _needed(spec: ProgramSpec, policy, segment: Segment) -> list[str]:
    """The attributes one program reads: its conditions and rule, uplifts, funding, score."""
    names = set(spec.program.attributes()) | policy.uplift_attributes(spec.id)
    names |= {spec.funding_by} if spec.funding_by else set()
    names |= {spec.behaviour.score} if spec.behaviour.score in segment.attribute_names else set()
    return sorted(names & segment.attribute_names)


def _applications(draws: _Draws, firms: _Firms, spec: ProgramSpec) -> dict[str, np.ndarray] | None:
    """One segment's applications to one program, in every run and year of the pass.

    Rows are (firm, year) pairs, firm by firm, so they stay in the order of the runs.
    """
    model, segment = draws.model, firms.segment
    name = f"{segment.name}/{spec.key}"
    program, policy = spec.program, model.scenario.policies[spec.policy]
    calendar = _Calendar(model, spec, draws.window(spec.policy))
    if not len(calendar.year):
        return None  # the policy is not in force in any year of the horizon (in any run)
    p = draws.value(f"segments.{segment.name}.take_up.{spec.key}.p", segment.take_up[spec.key].p)
    if np.ndim(p) == 0 and p in (0, 1):  # certain: no number drawn (none is needed)
        takers = np.arange(len(firms.at)) if p == 1 else np.zeros(0, dtype=np.int64)
    else:
        takers = np.flatnonzero(firms.uniform(f"takeup/{name}") < _per_row(p, firms.at))
    # a firm applies in every year of the calendar from the first in which it exists: it has
    # spent in the year before (a claim on last year's), or arrived before the call ends; its
    # flows are credited from its arrival (_credit)
    previous = program.benefit.base_period == "previous_year"
    if previous:
        first = np.searchsorted(calendar.year, firms.arrival_year[takers], side="right")
    else:
        first = np.searchsorted(calendar.call_end, firms.day[takers], side="left")
    count = len(calendar.year) - first
    who = np.repeat(takers, count)
    y = np.arange(len(who)) - np.repeat(np.cumsum(count) - count - first, count)  # index into the calendar
    if calendar.inforce is not None:  # the policy's dates vary by run: only the years it is in force that run
        open_ = calendar.inforce[y, firms.at[who]]
        who, y = who[open_], y[open_]
    year = calendar.year[y]
    at = firms.at[who]  # the run of each
    base_year = year - 1 if previous else year
    attrs = {a: firms.in_year(a, who, base_year) for a in _needed(spec, policy, segment)}
    m = len(who)
    ok, entitled, cap, grade = _rule(draws, spec, attrs, at, _credit(draws, firms, spec, who, at, base_year))
    if program.benefit.kind == "none":
        amount = spec.behaviour.amount
        entitled = _assumed(firms, spec, "amount", who, year) if amount is not None else np.zeros(m, dtype=np.int64)
        if cap is not None:
            entitled = np.minimum(entitled, cap)
        rule = entitled
        keep = ok if amount is None else ok & (entitled > 0)
    else:
        rule = entitled  # what the rule gives before any drawn share: a 不重复 group prefers on it
        if program.benefit.upto and spec.behaviour.award_share is not None:
            share = _assumed(firms, spec, "award_share", who, year)
            entitled = np.floor(entitled * share).astype(np.int64)
            if spec.top_up:  # the drawn 档: grades of the share within each tier
                levels = _grades(spec.behaviour.award_share)
                grade = grade * len(levels) + np.maximum(np.searchsorted(levels, share, side="right") - 1, 0)
        keep = ok & (entitled > 0)  # nothing to ask: the firm does not apply
    if not keep.all():
        who, at, y, year, entitled, rule, grade = who[keep], at[keep], y[keep], year[keep], entitled[keep], rule[keep], grade[keep]
        attrs = {a: v[keep] for a, v in attrs.items()}
    if len(who) == 0:
        return None
    status, day = calendar.days(y, firms.day[who], firms.uniform(f"timing/{name}", who, year), at)
    if program.benefit.kind == "none" and spec.behaviour.amount is None:
        status = np.where(status == OUT_OF_WINDOW, OUT_OF_WINDOW, EXPOSURE).astype(np.int8)
    random = firms.uniform(f"score/{name}", who, year) if spec.behaviour.score == "random" else None
    return {
        "at": at,
        "firm": firms.id[who],
        "program": np.full(len(who), spec.index, dtype=np.int32),
        "year": year.astype(np.int32),
        "day": day,
        "entitled": entitled.astype(np.int64, copy=False),
        "score": _score(spec, entitled, attrs, random),
        "case": _case(spec, attrs, len(who)),
        "status": status,
        "grade": grade,
        "rank": np.full(len(who), -1, dtype=np.int16),
        "rule": rule,
    }


def _grades(dist: Dist) -> np.ndarray:
    """The award shares a graded award (补足差额) may be paid at, lowest first: its 档."""
    if dist.dist == "choice":
        values = list(dist.values)
    elif dist.dist == "empirical":
        values = list(dist.values)
    else:
        values = [dist.value]
    return np.unique(np.asarray(values, dtype=np.float64))


def _rule(draws: _Draws, spec: ProgramSpec, attrs: dict[str, np.ndarray], at: np.ndarray, credit=None):
    """Eligibility, entitlement, the program's cap (for programs without a formula) and the tier reached of each row.

    ``credit`` (days counted, days of the base year) prorates the flows the rule pays on
    (:func:`_credit`).  Where the scenario makes numbers of the program's rule uncertain,
    each run has its own version of the policy (:meth:`_Draws.variants`), and each row is
    decided by its run's.  The tier reached (0 below every tier or without a table) is the
    grade a top-up pays for; tiers read the annual figure, never the prorated one.
    """
    m = len(at)
    variants = draws.variants(spec)
    if variants is None:
        policy = draws.model.scenario.policies[spec.policy]
        cap = spec.program.cap.amount if spec.program.cap is not None else None
        return (eligible(spec.program, attrs, m), entitlement(policy, spec.id, attrs, m, credit), cap,
                _tier(spec, spec.program, attrs, m))
    ok, entitled = np.zeros(m, dtype=bool), np.zeros(m, dtype=np.int64)
    cap = np.full(m, np.iinfo(np.int64).max, dtype=np.int64)
    tier = np.zeros(m, dtype=np.int64)
    for runs, policy in variants:
        rows = np.flatnonzero(runs[at])
        if len(rows) == 0:
            continue
        program = policy.programs[spec.id]
        sub = {a: v[rows] for a, v in attrs.items()}
        ok[rows] = eligible(program, sub, len(rows))
        part = None if credit is None else (credit[0][rows], credit[1][rows])
        entitled[rows] = entitlement(policy, spec.id, sub, len(rows), part)
        tier[rows] = _tier(spec, program, sub, len(rows))
        if program.cap is not None:
            cap[rows] = program.cap.amount
    return ok, entitled, cap, tier


def _tier(spec: ProgramSpec, program, attrs: dict[str, np.ndarray], m: int) -> np.ndarray:
    """The tier each row reaches, for a top-up program paid by a tier table; else 0."""
    if not spec.top_up or program.benefit.kind != "tiers":
        return np.zeros(m, dtype=np.int64)
    return np.maximum(tier_reached(program.benefit, attrs, m), 0)


def _credit(draws: _Draws, firms: _Firms, spec: ProgramSpec, who: np.ndarray, at: np.ndarray,
            base_year: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The days of each application's base year its annual flows are credited for, and the year's days (``at``: the run of each).

    A firm's flows (rental, sales, kWh) accrue while it exists and count while the policy
    is in force: a firm that arrived on 1 July 2025 is credited 184 of 2025's 365 days; a
    voucher paid on last year's rental, in force from 1 January 2025, counts nothing of
    2024, so its first payout is in 2026; Ningxia's 2023, in force from 15 September, counts
    108 days.  Firms there at the start have always existed.  The policy's days are the
    run's own (a start date drawn per run).  ``spec.credit`` (the scenario's ``bases``, or
    the text) may count the days before the policy's start (``before_policy``) or the
    whole year (``full_year``: None, nothing is prorated).  None too where every row
    counts its whole year, so the rule reads the year's figures unchanged.
    """
    benefit = spec.program.benefit
    bases = [benefit.base] + ([benefit.bound.base] if benefit.bound is not None else [])
    if spec.credit == "full_year" or not any(a is not None and VOCABULARY[a].flow for a in bases):
        return None
    model = draws.model
    years = np.arange(model.years[0] - 1, model.years[-1] + 2)
    starts = np.array([model.day(dt.date(int(y), 1, 1)) for y in years.tolist()])
    k = base_year - years[0]
    first, length = starts[:-1][k], np.diff(starts)[k]  # the base year's first day and its days
    lo = np.maximum(first, firms.since()[who])  # from the firm's arrival
    dates = draws.in_force(spec.policy)
    if dates is None:
        effective = model.scenario.policies[spec.policy].effective
        since, until = model.day(effective.start), model.day(effective.last_day)
    else:
        since, until = dates[0][at], dates[1][at]
    if spec.credit == "in_force":
        lo = np.maximum(lo, since)
    days = np.minimum(first + (length - 1), until)
    days -= lo - 1
    np.maximum(days, 0, out=days)
    if (days == length).all():
        return None
    return days, length


_ASSUMED = {"award_share": ("award", "domestic_compute_share"), "amount": ("amount", "project_investment")}


def _assumed(firms: _Firms, spec: ProgramSpec, field: str, who: np.ndarray, year: np.ndarray) -> np.ndarray:
    """A program's assumed award share or amount for each applying firm in its year."""
    stream, attr = _ASSUMED[field]
    dist = getattr(spec.behaviour, field)
    u = firms.uniform(f"{stream}/{firms.segment.name}/{spec.key}", who, year)
    return draw(dist, attr, u, firms._param(f"programs.{spec.key}.{field}", dist, who))


class _Calendar:
    """A program's budget years in force, with its call and the policy's window in each (as days).

    ``window``: the policy's first and last day in each run of the pass, where its dates
    vary by run; then the years are those in force in some run, ``inforce[y, run]`` says
    which, and the open part of each call is per year and run.
    """

    def __init__(self, model: Model, spec: ProgramSpec, window: tuple[np.ndarray, np.ndarray] | None = None):
        call = spec.behaviour.call
        first, last = (np.array([spec.window[0]]), np.array([spec.window[1]])) if window is None else window
        start = np.array([model.year_start[y] for y in model.years])[:, None]
        end = np.array([model.year_end[y] for y in model.years])[:, None]
        inforce = np.maximum(first[None, :], start) <= np.minimum(last[None, :], end)  # (years, runs)
        keep = inforce.any(axis=1)
        years = [y for y, k in zip(model.years, keep) if k]
        self.year = np.array(years, dtype=np.int64)
        self.call_start = np.array([model.month_day(y, call.start) for y in years], dtype=np.int64)
        self.call_end = np.array([model.month_day(y, call.end) for y in years], dtype=np.int64)
        # the part of the call inside the policy's window (empty if the window misses the call)
        self.open_from = np.maximum(self.call_start[:, None], np.maximum(first[None, :], start[keep]))
        self.open_to = np.minimum(self.call_end[:, None], np.minimum(last[None, :], end[keep]))
        self.inforce = inforce[keep] if window is not None else None
        if window is None:
            self.open_from, self.open_to = self.open_from[:, 0], self.open_to[:, 0]

    def days(self, y: np.ndarray, arrival: np.ndarray, u: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Day of each application: uniform over the part of the year's call open to the firm.

        ``y`` indexes each row's year in this calendar, ``at`` its run in the pass.  A call
        that lies wholly outside the policy's window that year gives an out-of-window
        application on the call's first day the firm exists.
        """
        if self.inforce is None:
            lo, hi = np.maximum(self.open_from[y], arrival), self.open_to[y]
        else:
            lo, hi = np.maximum(self.open_from[y, at], arrival), self.open_to[y, at]
        inside = lo <= hi
        day = lo + _below(u, np.maximum(hi - lo + 1, 1))
        if inside.all():
            return np.zeros(len(day), dtype=np.int8), day.astype(np.int32)
        day = np.where(inside, day, np.maximum(self.call_start[y], arrival))
        return np.where(inside, 0, OUT_OF_WINDOW).astype(np.int8), day.astype(np.int32)


def _score(spec: ProgramSpec, entitled: np.ndarray, attrs: dict[str, np.ndarray], u: np.ndarray | None) -> np.ndarray:
    score = spec.behaviour.score
    if score == "entitled":
        return entitled.astype(np.float64)
    if score == "random":
        return u.astype(np.float64)
    return np.asarray(attrs[score], dtype=np.float64)


def _case(spec: ProgramSpec, attrs: dict[str, np.ndarray], n: int) -> np.ndarray:
    if not spec.funding_by:
        return np.zeros(n, dtype=np.int16)
    values = attrs[spec.funding_by]
    out = np.zeros(n, dtype=np.int16)
    for i, case in enumerate(spec.funding_cases):
        out[values == case] = i
    return out


def _grouped(parts: list[dict[str, np.ndarray]], runs: int) -> tuple[Applications, np.ndarray, np.ndarray]:
    """All parts as one set of rows, grouped by run (within a run, in the order of the parts).

    Also returns each row's run and the amount its rule gives before any drawn share.
    """
    if not parts:
        empty = {k: np.zeros(0, dtype=d) for k, d in _DTYPES.items()}
        return Applications(**empty), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if len(parts) == 1:  # rows already in run order
        cols = {k: parts[0][k].astype(_DTYPES[k], copy=False) for k in _FIELDS}
        return Applications(**cols), parts[0]["at"], parts[0]["rule"]
    at = np.concatenate([p["at"] for p in parts])
    cols = {k: np.concatenate([p[k] for p in parts]).astype(_DTYPES[k], copy=False) for k in _FIELDS}
    rule = np.concatenate([p["rule"] for p in parts])
    if runs > 1:
        # a stable sort of small integers is a radix sort: linear in the rows
        order = np.argsort(at.astype(np.int16 if runs < 2**15 else np.int64), kind="stable")
        cols = {k: v[order] for k, v in cols.items()}
        at, rule = at[order], rule[order]
    return Applications(**cols), at, rule


def preference(model: Model, apps: Applications, at: np.ndarray, rule: np.ndarray) -> np.ndarray:
    """Each application's place in its firm's preference within its 不重复 group (0 first), -1 outside any.

    从优就高: a firm prefers the program of the group whose rule entitles it to most, ties
    going to the program listed first.  The choice is made once, on the rule's amount
    before any drawn award share, so a share drawn anew each year never flips it.  Over a
    group's life (``life``) the firm compares each program's largest amount over all the
    years it applies to it, and keeps that order every year; within a year (``year``) it
    compares that year's amounts.  The engines decide with it: an application waits while
    one the firm prefers, in the same group and budget year, is undecided.
    """
    rank = np.full(len(apps), -1, dtype=np.int16)
    if not model.groups or len(apps) == 0:
        return rank
    group = np.array([p.group for p in model.programs], dtype=np.int64)[apps.program]
    idx = np.flatnonzero((group >= 0) & (apps.status == CANDIDATE))
    if len(idx) == 0:
        return rank
    place = np.zeros(len(model.programs), dtype=np.int64)  # a program's place in its group's order
    for g in model.groups:
        place[list(g.programs)] = np.arange(len(g.programs))
    g, firm, run, program = group[idx], apps.firm[idx], at[idx], apps.program[idx].astype(np.int64)
    amount = rule[idx].astype(np.int64)
    life = np.array([g.period == "life" for g in model.groups])[g]
    if life.any():  # over the group's life: each program's largest amount over the years
        key = (run[life] * (int(firm.max()) + 1) + firm[life]) * len(model.programs) + program[life]  # a firm's program in a run
        pair = np.unique(key, return_inverse=True)[1].ravel()
        most = np.full(pair.max() + 1, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(most, pair, amount[life])
        amount[life] = most[pair]
    year = np.where(life, 0, apps.year[idx])  # the rows ranked together: a firm's in its group (and year)
    order = np.lexsort((place[program], -amount, year, g, firm, run))
    unit = np.column_stack([run, firm, g, year])[order]
    starts = np.r_[True, (unit[1:] != unit[:-1]).any(axis=1)]
    step = starts | np.r_[True, program[order][1:] != program[order][:-1]]  # a new program, or a new unit
    count = np.cumsum(step)
    first = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    rank[idx[order]] = count - count[first]
    return rank
