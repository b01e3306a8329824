"""The firms of one run and every application they make, drawn at once as numpy arrays.

Firms of each segment exist at the start or arrive through the years (a Poisson number a
year, on uniform days); their attributes are drawn once and grow each year.  Each firm
takes a program up or not, and applies once in each budget year the program is open to it,
on a day inside the program's call.  Stacking rules that let a firm have only the highest
of several programs are settled here, before any pool is touched, because they depend on
entitlements, not on money left.

Randomness comes from named streams, one per purpose, each seeded from (seed, run, name):
two variants of a scenario that differ only in a budget see exactly the same firms.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from sim.engine.outcomes import CANDIDATE, EXPOSURE, OUT_OF_WINDOW, STACKED
from sim.policy.attributes import VOCABULARY
from sim.policy.entitlement import eligible, entitlement
from sim.scenario.model import Model, ProgramSpec
from sim.scenario.schema import Dist, Segment


def stream(seed: int, run: int, name: str) -> np.random.Generator:
    """The random generator for one purpose of one run; independent of every other."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(run, key)))


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
    status: np.ndarray  # int8: 0 candidate, or OUT_OF_WINDOW, STACKED, EXPOSURE
    firms: int = 0

    def __len__(self) -> int:
        return len(self.firm)

    def order(self) -> np.ndarray:
        """Time order with an explicit tie-break: day, then firm, then program."""
        return np.lexsort((self.program, self.firm, self.day))

    def take(self, index: np.ndarray) -> "Applications":
        return Applications(**{k: getattr(self, k)[index] for k in _FIELDS}, firms=self.firms)


_FIELDS = ("firm", "program", "year", "day", "entitled", "score", "case", "status")


def sample(model: Model, run: int) -> Applications:
    """Draw the firms and applications of run ``run`` of the model's scenario."""
    seed = model.scenario.monte_carlo.seed
    parts: list[dict[str, np.ndarray]] = []
    offset = 0
    for segment in model.scenario.spec.segments:
        firms = _firms(model, segment, seed, run)
        n = len(firms["arrival_day"])
        for key, take in segment.take_up.items():
            spec = next((p for p in model.programs if p.key == key), None)
            if spec is None:  # switched off by an override
                continue
            parts.append(_applications(model, segment, spec, firms, take.p, seed, run, offset))
        offset += n
    apps = _concat(parts, offset)
    _stack(model, apps)
    return apps


def _firms(model: Model, segment: Segment, seed: int, run: int) -> dict[str, np.ndarray]:
    """Arrival day and year of each firm, and each attribute's base value."""
    rng = stream(seed, run, f"arrivals/{segment.name}")
    counts = rng.poisson([segment.arrivals_in(y) for y in model.years])
    days = [np.zeros(segment.firms_at_start, dtype=np.int64)]
    years = [np.full(segment.firms_at_start, model.years[0] - 1, dtype=np.int64)]
    for y, k in zip(model.years, counts):
        days.append(rng.integers(model.year_start[y], model.year_end[y] + 1, size=k))
        years.append(np.full(k, y, dtype=np.int64))
    firms = {"arrival_day": np.concatenate(days), "arrival_year": np.concatenate(years)}
    n = len(firms["arrival_day"])
    for attr, dist in segment.attributes.items():
        firms[f"attr:{attr}"] = draw(dist, attr, n, stream(seed, run, f"attr/{segment.name}/{attr}"))
    return firms


def draw(dist: Dist, attr: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` values of ``attr`` from ``dist``, bounded, typed as the attribute's kind."""
    kind = VOCABULARY[attr].kind
    if dist.dist == "constant":
        values = np.full(n, dist.value, dtype=object if kind == "category" else None)
    elif dist.dist == "uniform":
        values = rng.uniform(dist.low, dist.high, n)
    elif dist.dist == "normal":
        values = rng.normal(dist.mean, dist.sd, n)
    elif dist.dist == "lognormal":
        values = dist.median * np.exp(dist.sigma * rng.standard_normal(n))
    elif dist.dist == "bernoulli":
        values = rng.random(n) < dist.p
    elif dist.dist == "choice":
        options = list(dist.values)
        weights = np.array(list(dist.values.values()), dtype=float)
        values = np.array(options)[rng.choice(len(options), size=n, p=weights / weights.sum())]
    else:  # empirical: resample the observed values
        values = np.array(dist.values)[rng.integers(0, len(dist.values), size=n)]
    return _typed(values, kind, dist)


def _typed(values: np.ndarray, kind: str, dist: Dist) -> np.ndarray:
    if kind == "category":
        return values.astype(str)
    if kind == "flag":
        return values.astype(bool)
    values = values.astype(np.float64)
    low = 0.0 if dist.min is None else float(dist.min)
    high = 1.0 if kind == "share" and dist.max is None else dist.max
    values = np.clip(values, low, None if high is None else float(high))
    if kind == "money":
        return np.rint(values).astype(np.int64)
    if kind == "count":
        return np.rint(values)
    return values


def _needed(spec: ProgramSpec, policy, segment: Segment) -> list[str]:
    """The attributes one program reads: its conditions and rule, uplifts, funding, score."""
    names = set(spec.program.attributes()) | policy.uplift_attributes(spec.id)
    names |= {spec.funding_by} if spec.funding_by else set()
    names |= {spec.behaviour.score} if spec.behaviour.score in segment.attributes else set()
    return sorted(names & set(segment.attributes))


def _year_values(firms: dict[str, np.ndarray], segment: Segment, attr: str, year: int, first_year: int) -> np.ndarray:
    """The attribute in ``year``, computed once per run and year (programs share it)."""
    key = f"year:{attr}:{year}"
    if key not in firms:
        firms[key] = _grown(firms, segment, attr, year, first_year)
    return firms[key]


def _grown(firms: dict[str, np.ndarray], segment: Segment, attr: str, year: int, first_year: int) -> np.ndarray:
    """The attribute in ``year``: its base value grown once a year since the firm's first year."""
    base = firms[f"attr:{attr}"]
    growth = segment.attributes[attr].growth
    if not growth:
        return base
    start = np.maximum(firms["arrival_year"], first_year)
    factor = (1.0 + growth) ** np.maximum(year - start, 0)
    value = base * factor
    kind = VOCABULARY[attr].kind
    if kind == "money":
        return np.rint(value).astype(np.int64)
    return np.rint(value) if kind == "count" else value


def _applications(model: Model, segment: Segment, spec: ProgramSpec, firms: dict[str, np.ndarray],
                  p: float, seed: int, run: int, offset: int) -> dict[str, np.ndarray]:
    n = len(firms["arrival_day"])
    name = f"{segment.name}/{spec.key}"
    years = len(model.years)
    takes = stream(seed, run, f"takeup/{name}").random(n) < p
    timing = stream(seed, run, f"timing/{name}").random((n, years))
    # streams a program does not use are not drawn (each has its own name, so others are unchanged)
    scores = stream(seed, run, f"score/{name}").random((n, years)) if spec.behaviour.score == "random" else None
    shares = _optional(spec.behaviour.award_share, "domestic_compute_share", n, years, stream, (seed, run, f"award/{name}"))
    amounts = _optional(spec.behaviour.amount, "project_investment", n, years, stream, (seed, run, f"amount/{name}"))
    program, policy = spec.program, model.scenario.policies[spec.policy]
    needs = _needed(spec, policy, segment)
    previous = program.benefit.base_period == "previous_year"
    call = spec.behaviour.call
    out: list[dict[str, np.ndarray]] = []
    for yi, year in enumerate(model.years):
        first, last = max(spec.window[0], model.year_start[year]), min(spec.window[1], model.year_end[year])
        if first > last:
            continue  # the policy is not in force at all this year
        exists = firms["arrival_year"] < year if previous else firms["arrival_day"] <= model.month_day(year, call.end)
        who = np.flatnonzero(takes & exists)
        if len(who) == 0:
            continue
        attr_year = year - 1 if previous else year
        attrs = {a: _year_values(firms, segment, a, attr_year, model.years[0])[who] for a in needs}
        m = len(who)
        ok = eligible(program, attrs, m)
        full = entitlement(policy, spec.id, attrs, m)
        entitled = full
        if program.benefit.kind == "none":
            entitled = amounts[who, yi] if spec.behaviour.amount is not None else np.zeros(m, dtype=np.int64)
            if program.cap is not None:
                entitled = np.minimum(entitled, program.cap.amount)
            keep = ok if spec.behaviour.amount is None else ok & (entitled > 0)
        else:
            if program.benefit.upto and shares is not None:
                entitled = np.floor(entitled * shares[who, yi]).astype(np.int64)
            keep = ok & (entitled > 0)  # nothing to ask: the firm does not apply
        who, entitled = who[keep], entitled[keep]
        if len(who) == 0:
            continue
        attrs = {a: v[keep] for a, v in attrs.items()}
        status, day = _timing(model, year, call, first, last, firms["arrival_day"][who], timing[who, yi])
        if program.benefit.kind == "none" and spec.behaviour.amount is None:
            status = np.where(status == OUT_OF_WINDOW, OUT_OF_WINDOW, EXPOSURE)
        out.append({
            "firm": who + offset,
            "program": np.full(len(who), spec.index, dtype=np.int32),
            "year": np.full(len(who), year, dtype=np.int32),
            "day": day,
            "entitled": entitled.astype(np.int64),
            "score": _score(spec, entitled, attrs, scores[who, yi] if scores is not None else None),
            "case": _case(spec, attrs, len(who)),
            "status": status,
        })
    return _concat_dicts(out)


def _timing(model: Model, year: int, call, first: int, last: int, arrival: np.ndarray, u: np.ndarray):
    """Day of each application: uniform over the part of the call open to the firm.

    A call that lies wholly outside the policy's window that year gives an out-of-window
    application on the call's first day the firm exists.
    """
    call_start, call_end = model.month_day(year, call.start), model.month_day(year, call.end)
    lo = np.maximum(max(call_start, first), arrival)
    hi = min(call_end, last)
    inside = lo <= hi
    span = np.maximum(hi - lo + 1, 1)
    day = np.where(inside, lo + np.floor(u * span).astype(np.int64), np.maximum(call_start, arrival))
    status = np.where(inside, 0, OUT_OF_WINDOW).astype(np.int8)
    return status, day.astype(np.int32)


def _optional(dist: Dist | None, attr: str, n: int, years: int, make, key: tuple) -> np.ndarray | None:
    """An (n × years) draw of an assumption the scenario gives for a program, else None."""
    if dist is None:
        return None
    return draw(dist, attr, n * years, make(*key)).reshape(n, years)


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


def _concat_dicts(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if not parts:
        return {k: np.zeros(0, dtype=d) for k, d in _DTYPES.items()}
    return {k: np.concatenate([p[k] for p in parts]).astype(_DTYPES[k]) for k in _FIELDS}


_DTYPES = {"firm": np.int64, "program": np.int32, "year": np.int32, "day": np.int32, "entitled": np.int64,
           "score": np.float64, "case": np.int16, "status": np.int8}


def _concat(parts: list[dict[str, np.ndarray]], firms: int) -> Applications:
    merged = _concat_dicts(parts) if parts else _concat_dicts([])
    return Applications(**merged, firms=firms)


def _stack(model: Model, apps: Applications) -> None:
    """从优就高不重复: of each stacking group, a firm keeps only its largest application a year."""
    for group in model.stacking:
        rank = {p: i for i, p in enumerate(group)}
        idx = np.flatnonzero(np.isin(apps.program, group) & (apps.status == CANDIDATE))
        if len(idx) < 2:
            continue
        order_in_group = np.array([rank[p] for p in apps.program[idx]])
        sort = np.lexsort((order_in_group, -apps.entitled[idx], apps.year[idx], apps.firm[idx]))
        idx = idx[sort]
        same = (apps.firm[idx][1:] == apps.firm[idx][:-1]) & (apps.year[idx][1:] == apps.year[idx][:-1])
        apps.status[idx[1:][same]] = STACKED
