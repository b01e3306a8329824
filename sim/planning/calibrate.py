"""Calibration: the scenario's uncertain assumptions narrowed to what reproduces last year.

A budget committee's first question of a forecast is "does it reproduce last year?".  The
scenario's uncertain numbers (take-up, spend medians, arrivals, …) are its prior; the
observed file (:mod:`sim.planning.observed`) says what was seen: applications, awards and
grants per program, whether and when a pool ran dry.  :func:`calibrate`

1. runs the scenario as it is (``prior/``, an ordinary run folder: progress bar, batches,
   ``--resume``), each run drawing its uncertain numbers once and recording them in its
   ``parameters`` table;
2. computes each run's version of every observed figure from its tables, and keeps the
   runs nearest the observations (rejection ABC with kernel weights and, by default, a
   regression adjustment: :mod:`sim.planning.abc`), so that the kept draws are the
   posterior, joint across parameters;
3. writes them to ``calibration.parquet`` (run, weight, distance, one column per
   parameter) and a calibrated scenario, ``<name>_calibrated.yaml``: the scenario with
   ``posterior: {file: calibration.parquet, why: …}``, whose runs each draw one row of
   those draws (:mod:`sim.scenario.posterior`), so `sim run`, `sim report`, `sim size` and
   `sim sensitivity` take it as is;
4. runs the calibrated scenario (``check/``) for the posterior-predictive check: each
   observed figure beside the calibrated model's 90% interval of it.

It refuses a calibration the prior cannot support: an observed figure that no prior run
comes near is named with the range the runs gave and how far the nearest run was, instead
of being turned into a posterior piled up at the edge of the prior.  An effective sample
size too small for 90% intervals is a warning with the number of runs that would do.

Examples
--------
>>> from sim.scenario.load import load_scenario
>>> c = calibrate(load_scenario("scenarios/binjiang.yaml"), "scenarios/observed/binjiang-2025.yaml",
...               runs=2000, out="outputs/binjiang-calibration", force=True)  # doctest: +SKIP
>>> c.summary.select("parameter", "prior_median", "posterior_median", "posterior_low", "posterior_high")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl
from scipy import special

from sim.engine import parameters
from sim.errors import OptionError, SimError
from sim.planning import abc
from sim.planning.observed import Figure, Observed, read_observed, simulated
from sim.runs.lock import locked
from sim.runs.manifest import Manifest
from sim.runs.runner import check_options, model_for, output_folder, simulate
from sim.runs.storage import scan
from sim.scenario.load import load_scenario
from sim.scenario.schema import Scenario

LOW, HIGH = 0.05, 0.95  # a 90% interval
MIN_ESS = 100  # effective draws below which the ends of a 90% interval are too uncertain to print without a warning
TOO_FAR = 0.5  # an observation outside every prior run's value by more than this many spreads is excluded by the prior


class CalibrationError(SimError):
    """Observations the prior cannot reproduce (each named, with what the prior runs gave)."""


@dataclass
class Calibration:
    """A finished calibration: where its files are and what it found."""

    out: Path
    scenario: Scenario
    observed: Observed
    runs: int
    seed: int
    accepted: int
    ess: float
    adjusted: bool
    summary: pl.DataFrame  # per parameter: prior and posterior median and 90% interval
    check: pl.DataFrame  # per observed figure: the observation and the calibrated model's 90% interval
    draws: pl.DataFrame  # calibration.parquet
    scenario_file: Path
    warnings: tuple[str, ...]
    manifest: Manifest


def calibrate(
    scenario: Scenario,
    observed: str | Path,
    *,
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    accept: float = 0.1,
    adjust: bool = True,
    check_runs: int = 200,
    out: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> Calibration:
    """Calibrate the scenario's uncertain numbers to the observed file; write the draws and the calibrated scenario.

    ``runs`` prior runs (default: the scenario's), of which the nearest ``accept`` share
    is kept; ``check_runs`` runs of the calibrated scenario for the predictive check.

    Raises :class:`ObservedError` for a bad observed file (with its lines),
    :class:`OptionError` for a bad option or a scenario without uncertain numbers,
    :class:`CalibrationError` when the prior cannot reproduce an observation, and what
    :func:`simulate` raises for the runs (``--resume`` finishes or reuses the prior runs).
    """
    check_options(runs=runs, seed=seed, batch_size=None, workers=workers, engine="auto", resume=resume, force=force)
    if not 0 < accept <= 1:
        raise OptionError("--accept", accept, "must be a share of the prior runs above 0 and at most 1, e.g. --accept 0.1")
    if isinstance(check_runs, bool) or not isinstance(check_runs, int) or check_runs < 1:
        raise OptionError("--check-runs", check_runs, "must be a whole number, 1 or more, e.g. --check-runs 200")
    names = parameters.names(scenario)
    if not names:
        raise OptionError("SCENARIO", scenario.path, "has no uncertain number to calibrate: give the assumptions the "
                          "observations speak to as distributions, e.g. take_up: {p: {dist: beta, mean: 0.6, sd: 0.15}} "
                          "(see scenarios/README.md)")
    seen = read_observed(observed, model_for(scenario))
    out = Path(out) if out is not None else output_folder(None, scenario).with_name(f"{scenario.name}-calibration")

    def stage(name: str):
        return (lambda done, total: progress(name, done, total)) if progress else None

    with locked(out):
        prior = simulate(scenario, runs=runs, seed=seed, workers=workers, out=out / "prior", resume=resume, force=force,
                         progress=stage("prior"))
        n, used_seed = prior.manifest.runs, prior.manifest.seed
        theta, sims = run_table(out / "prior", names, seen.figures)
        observed_values = np.array([f.value for f in seen.figures])
        _refuse_excluded(seen.figures, sims, observed_values)
        kept, draws = posterior(scenario, names, theta, sims, observed_values, accept=accept, adjust=adjust)
        frame = pl.DataFrame({"run": kept.index.astype(np.int32), "weight": kept.weights, "distance": kept.distances}
                             | {name: draws[:, j] for j, name in enumerate(names)})
        _write_parquet(out / "calibration.parquet", frame, prior.manifest)
        warnings = _warnings(kept, n, seen.figures)
        scenario_file = write_calibrated(scenario, out, seen, kept, n)
        calibrated = load_scenario(scenario_file)
        check = simulate(calibrated, runs=check_runs, seed=used_seed, workers=workers, out=out / "check", force=True,
                         progress=stage("check"))
        _, check_sims = run_table(out / "check", [], seen.figures)
        summary = _summary(scenario, names, theta, draws, kept.weights)
    return Calibration(out, scenario, seen, n, used_seed, len(kept.index), kept.ess, adjust, summary,
                       _check_table(seen.figures, check_sims), frame, scenario_file, tuple(warnings), prior.manifest)


def posterior(scenario: Scenario, names: list[str], theta: np.ndarray, sims: np.ndarray, observed: np.ndarray, *,
              accept: float = 0.1, adjust: bool = True) -> tuple[abc.Acceptance, np.ndarray]:
    """The kept prior runs and their (adjusted) parameter draws, from the prior runs' parameters and figures.

    ``theta``: each prior run's value of each of ``names`` (runs × names); ``sims``: its
    figures (runs × figures); ``observed``: the observed figures.
    """
    kept = abc.accept(sims, observed, share=accept)
    draws = theta[kept.index]
    if adjust and kept.bandwidth > 0:  # an exact match needs no adjustment
        draws = _adjusted(scenario, names, draws, sims[kept.index], observed, kept)
    return kept, draws


def run_table(folder: Path, names: list[str], figures: tuple[Figure, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Each run's parameter values (runs × names) and figures (runs × figures), runs ascending."""
    programs = scan(folder, "program_years").collect()
    pools = scan(folder, "pool_years").collect()
    sims = simulated(programs, pools, figures)
    if not names:
        return np.zeros((len(sims), 0)), sims
    table = (scan(folder, "parameters").collect().pivot(on="name", index="run", values="value").sort("run"))
    return table.select(names).to_numpy().astype(np.float64), sims


def _refuse_excluded(figures: tuple[Figure, ...], sims: np.ndarray, observed: np.ndarray) -> None:
    """An observation outside what every prior run gives (by more than half a spread) is excluded by the prior."""
    spread = abc.scales(sims)
    problems = []
    for j, f in enumerate(figures):
        low, high = sims[:, j].min(), sims[:, j].max()
        gap = max(low - observed[j], observed[j] - high, 0.0)
        if gap > 0 and (spread[j] == 0 or gap > TOO_FAR * spread[j]):
            nearest = low if observed[j] < low else high
            far = f"{gap / spread[j]:.1f} spreads (MAD) away" if spread[j] > 0 else "and every run gives that value"
            problems.append(f"{f.label}: observed {f.shown(observed[j])}, but no prior run comes near it: the "
                            f"{len(sims)} prior runs give {f.shown(low)} … {f.shown(high)}, the nearest "
                            f"{f.shown(nearest)} ({far})")
    if problems:
        raise CalibrationError("the prior excludes what was seen:\n  " + "\n  ".join(problems)
                               + "\nwiden the distributions that drive these figures (`sim report` ranks them), "
                                 "or check the observed figures")


def _bounds(scenario: Scenario, name: str) -> tuple[float, float] | None:
    """Where a parameter may go (its prior's support); None: leave it as drawn (a choice or a list of values)."""
    if name.startswith("factors."):
        return (-math.inf, math.inf)
    p = scenario.parameter(name)
    if p.dist in ("choice", "empirical"):
        return None
    return p.support()


def _adjusted(scenario: Scenario, names: list[str], draws: np.ndarray, sims: np.ndarray, observed: np.ndarray,
              kept: abc.Acceptance) -> np.ndarray:
    bounds = [_bounds(scenario, n) for n in names]
    free = [j for j, b in enumerate(bounds) if b is not None]
    if not free:
        return draws
    out = draws.copy()
    out[:, free] = abc.adjust(draws[:, free], sims, observed, kept.weights, [bounds[j] for j in free], kept.scales)
    return out


def _warnings(kept: abc.Acceptance, runs: int, figures: tuple[Figure, ...]) -> list[str]:
    out = []
    if kept.ess < MIN_ESS:
        advised = int(math.ceil(runs * MIN_ESS / max(kept.ess, 1.0) / 100.0) * 100)
        out.append(f"the posterior rests on {kept.ess:.0f} effective draws, too few for the ends of a 90% interval "
                   f"(at least {MIN_ESS}); run about {advised:,} prior runs (--runs {advised})")
    unused = [f.label for f, s in zip(figures, kept.scales) if s == 0]
    if unused:
        out.append(f"every prior run gives the observed value of {', '.join(unused)}: it says nothing about the parameters")
    return out


def _summary(scenario: Scenario, names: list[str], prior: np.ndarray, draws: np.ndarray, weights: np.ndarray) -> pl.DataFrame:
    """Per parameter: the prior's median and 90% interval (exact), the posterior's (weighted), and how much narrower."""
    units = parameters.units(scenario)
    rows = []
    for j, name in enumerate(names):
        if name.startswith("factors."):
            p_low, p_mid, p_high = (float(special.ndtri(q)) for q in (LOW, 0.5, HIGH))
        else:
            p = scenario.parameter(name)
            p_low, p_mid, p_high = (p.quantile(q) for q in (LOW, 0.5, HIGH))
        q_low, q_mid, q_high = (float(v) for v in abc.quantiles(draws[:, j], weights, [LOW, 0.5, HIGH]))
        rows.append({"parameter": name, "kind": units[name]["kind"], "unit": units[name]["unit"],
                     "prior_median": p_mid, "prior_low": p_low, "prior_high": p_high,
                     "posterior_median": q_mid, "posterior_low": q_low, "posterior_high": q_high,
                     "narrowing": 1.0 - (q_high - q_low) / (p_high - p_low) if p_high > p_low else 0.0})
    return pl.DataFrame(rows)


def _check_table(figures: tuple[Figure, ...], sims: np.ndarray) -> pl.DataFrame:
    """Each observed figure beside the calibrated model's median and 90% predictive interval."""
    rows = []
    for j, f in enumerate(figures):
        low, mid, high = np.quantile(sims[:, j], [LOW, 0.5, HIGH], method="inverted_cdf")
        rows.append({"figure": f.label, "kind": f.kind, "key": f.key, "year": f.year, "measure": f.measure,
                     "observed": f.value, "predicted_median": float(mid), "predicted_low": float(low),
                     "predicted_high": float(high), "inside": bool(low <= f.value <= high),
                     "shown_observed": f.shown(f.value), "shown_median": f.shown(mid),
                     "shown_low": f.shown(low), "shown_high": f.shown(high)})
    return pl.DataFrame(rows)


def _write_parquet(path: Path, frame: pl.DataFrame, manifest: Manifest) -> None:
    units = {"weight": "share of the posterior (sums to 1)", "distance": "scaled distance to the observed figures",
             "run": "the prior run the draw comes from"}
    metadata = manifest.parquet_metadata("calibration", units)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.write_parquet(tmp, metadata=metadata)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_calibrated(scenario: Scenario, out: Path, observed: Observed, kept: abc.Acceptance, runs: int) -> Path:
    """The scenario with ``posterior: {file: calibration.parquet, why: …}``, written beside the draws.

    Its name gains ``_calibrated`` (its outputs go to ``outputs/<name>_calibrated``); the
    policies it names and the data files it reads are given as paths from its folder.
    """
    import copy
    import io

    from ruamel.yaml import YAML

    from sim.policy.load import resolve_policy

    raw = copy.deepcopy(scenario.raw)
    here = Path(scenario.path).resolve().parent
    base = here.parent if here.name == "scenarios" else here
    raw["name"] = f"{scenario.name}_calibrated"
    raw["title"] = f"{raw.get('title') or scenario.name} (calibrated)"
    raw["policies"] = [os.path.relpath(resolve_policy(p, base=base).resolve(), out.resolve()) for p in scenario.spec.policies]
    for segment in raw.get("segments") or []:
        source = segment.get("from_data") if isinstance(segment, dict) else None
        if isinstance(source, dict) and "file" in source:
            source["file"] = os.path.relpath((here / source["file"]).resolve(), out.resolve())
    raw["posterior"] = {"file": "calibration.parquet",
                        "why": f"Calibrated by sim calibrate to {observed.file} ({observed.why.rstrip('.')}): "
                               f"{len(kept.index)} of {runs} prior runs kept, {kept.ess:.0f} effective draws. Each run "
                               "takes one row of these draws, so the parameters keep their joint posterior."}
    yaml = YAML(typ="rt", pure=True)  # keeps the file's order of fields
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 120
    buffer = io.StringIO()
    yaml.dump(raw, buffer)
    path = out / f"{scenario.name}_calibrated.yaml"
    header = (f"# {scenario.name} calibrated by `sim calibrate` to {observed.file}.\n"
              f"# The uncertain numbers below are the prior; `posterior:` replaces the draws of those it names\n"
              f"# by rows of calibration.parquet, one row per run (see scenarios/README.md).\n")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(header + buffer.getvalue(), encoding="utf-8")
    os.replace(tmp, path)
    return path
