"""The uncertain numbers of a scenario, drawn once per run: one value of each for each run.

A scenario's uncertain numbers (:mod:`sim.scenario.uncertain`) are the same for every
firm of a run and differ from run to run.  Each is drawn from its own named stream keyed
by its path (``param/segments.ai_smes.take_up.binjiang.compute_voucher.p``), number 0 of
that stream in each run, so a run's value depends only on (seed, path, run): not on the
batch, the worker, the other parameters, or how many there are.  Adding or removing an
uncertain number leaves every other draw unchanged, and two variants of a scenario that
share a parameter draw the same value of it in every run (common random numbers).

A calibrated scenario (``posterior:``, :mod:`sim.scenario.posterior`) picks one row of its
draws per run, by number 0 of the stream ``posterior``, and takes that row's values of the
parameters (and factors) it names; the others are drawn as above.

A common factor (``factors:`` in the scenario) is one standard normal number per run, from
the stream ``factor/NAME``; a parameter loading ``λ`` on it takes the uniform number
``Φ(λ F + sqrt(1 − λ²) Φ⁻¹(u))`` in place of its own ``u``, which is still uniform, so its
distribution is unchanged.  A factor held at a quantile (``factors.NAME.at: 0.9``, as
`sim sensitivity` does) has ``F = Φ⁻¹(at)`` in every run.

Values are in the unit of the parsed scenario: yuan for money, fractions for shares and
rates, whole firms, days since 1970-01-01 for dates (see :meth:`Parameter.ppf`).

Examples
--------
>>> from sim.scenario.load import load_scenario
>>> values = draw(load_scenario("scenarios/binjiang.yaml"), np.arange(3))  # doctest: +SKIP
>>> values["segments.ai_smes.take_up.binjiang.compute_voucher.p"]  # doctest: +SKIP
array([0.71..., 0.58..., 0.66...])
"""

from __future__ import annotations

import numpy as np
from scipy import special

from sim.engine import streams
from sim.scenario.schema import Scenario

# uniforms kept off 0 and 1, so that an unbounded distribution's quantile stays finite
_EDGE = 2.0 ** -53


def factor_name(name: str) -> str:
    """How a factor is listed beside the parameters (in the ``parameters`` table)."""
    return f"factors.{name}"


def names(scenario: Scenario) -> list[str]:
    """What the ``parameters`` table holds for each run: every uncertain number's path, then each factor."""
    return [p.path for p in scenario.parameters] + [factor_name(n) for n in sorted(scenario.spec.factors)]


def units(scenario: Scenario) -> dict[str, dict[str, str]]:
    """Each name of :func:`names`: its kind, its distribution as the scenario gives it, and the unit of its values."""
    unit = {"money": "yuan", "date": "days since 1970-01-01", "count": "firms", "rate": "firms a year",
            "probability": "probability", "share": "share (0-1)", "growth": "growth a year (0.25 = 25%)",
            "positive": "as the attribute", "number": "as the field (a rate as a fraction)"}
    out = {p.path: {"kind": p.kind, "dist": p.describe(), "unit": unit.get(p.kind, p.kind),
                    **({"factor": p.factor, "loading": str(p.loading)} if p.factor else {})} for p in scenario.parameters}
    for n in sorted(scenario.spec.factors):
        out[factor_name(n)] = {"kind": "factor", "dist": "standard normal", "unit": "standard normal score"}
    return out


def draw(scenario: Scenario, runs: np.ndarray) -> dict[str, np.ndarray]:
    """Each uncertain number's value in each of ``runs`` (and each factor's normal score), keyed by path."""
    runs = np.asarray(runs, dtype=np.int64)
    seed = scenario.monte_carlo.seed
    scores = {name: _factor(seed, name, factor.at, runs) for name, factor in scenario.spec.factors.items()}
    out: dict[str, np.ndarray] = {}
    posterior = scenario.posterior
    if posterior is not None:  # one row of the calibration's draws per run, its values in place of the prior's
        rows = posterior.rows(_uniform(seed, "posterior", runs))
        for name, factor in scenario.spec.factors.items():
            if factor.at is None and factor_name(name) in posterior.names:
                scores[name] = posterior.column(factor_name(name))[rows]
    for p in scenario.parameters:
        if posterior is not None and p.path in posterior.names:
            out[p.path] = p.rounded(posterior.column(p.path)[rows])
            continue
        u = _uniform(seed, f"param/{p.path}", runs)
        if p.factor is not None and p.loading:
            z = p.loading * scores[p.factor] + np.sqrt(1.0 - p.loading ** 2) * special.ndtri(u)
            u = np.clip(special.ndtr(z), _EDGE, 1.0 - _EDGE)
        out[p.path] = p.ppf(u)
    for name in sorted(scores):
        out[factor_name(name)] = scores[name]
    return out


def _uniform(seed: int, name: str, runs: np.ndarray) -> np.ndarray:
    """Number 0 of stream ``name`` in each run."""
    base = streams.bases(streams.stream_key(seed, name), runs)[0]
    return streams.uniform(base, np.zeros(len(runs), dtype=np.uint64))


def _factor(seed: int, name: str, at: float | None, runs: np.ndarray) -> np.ndarray:
    """A factor's standard normal score in each run (the same score in every run when held at a quantile)."""
    if at is not None:
        return np.full(len(runs), float(special.ndtri(at)))
    return special.ndtri(_uniform(seed, f"factor/{name}", runs))
