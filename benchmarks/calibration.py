"""Simulation-based calibration of `sim calibrate` on Binjiang (issue 12): is the 90% interval a 90% interval?

Each repetition draws true parameter values from the prior, simulates the observed figures
with them, calibrates, and asks whether each true value lies inside its 90% posterior
interval.  The prior runs serve both purposes: run r's parameters are the truth and its
figures the observations of repetition r, calibrated on the other runs (leave one out), so
one set of prior runs gives every repetition.  The figures are those of the shipped
synthetic observed file (2025: compute-voucher applications, awards, granted; innovation-
voucher applications; whether and when the compute-voucher pool ran dry).

Prints, per parameter, the coverage over the repetitions (target 90%; at least 80 of 100
is the issue's check) and the mean width of the posterior interval against the prior's.

    .venv/bin/python benchmarks/calibration.py [--runs 3000] [--reps 100] [--accept 0.1] [--no-adjust]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from sim.engine import parameters
from sim.planning import abc
from sim.planning.calibrate import posterior, run_table
from sim.planning.observed import read_observed
from sim.runs.runner import model_for, simulate
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--accept", type=float, default=0.1)
    parser.add_argument("--no-adjust", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    scenario = load_scenario(ROOT / "scenarios" / "binjiang.yaml")
    figures = read_observed(ROOT / "scenarios" / "observed" / "binjiang-2025-synthetic.yaml", model_for(scenario)).figures
    names = parameters.names(scenario)
    with tempfile.TemporaryDirectory() as tmp:
        began, cpu = time.perf_counter(), time.process_time()
        simulate(scenario, runs=args.runs, workers=args.workers, out=Path(tmp) / "prior")
        print(f"{args.runs} prior runs: {time.perf_counter() - began:.1f} s wall")
        theta, sims = run_table(Path(tmp) / "prior", names, figures)
    began, cpu = time.perf_counter(), time.process_time()
    prior_width = np.array([_width(scenario, n) for n in names])
    hits, width, ess = np.zeros(len(names)), np.zeros(len(names)), []
    for r in range(args.reps):
        others = np.r_[0:r, r + 1:len(theta)]
        kept, draws = posterior(scenario, names, theta[others], sims[others], sims[r], accept=args.accept,
                                adjust=not args.no_adjust)
        low = np.array([abc.quantiles(draws[:, j], kept.weights, 0.05) for j in range(len(names))])
        high = np.array([abc.quantiles(draws[:, j], kept.weights, 0.95) for j in range(len(names))])
        hits += (low <= theta[r]) & (theta[r] <= high)
        width += (high - low) / prior_width
        ess.append(kept.ess)
    print(f"{args.reps} calibrations: {time.process_time() - cpu:.1f} CPU s; accept {args.accept:.0%}, "
          f"{'no adjustment' if args.no_adjust else 'regression-adjusted'}, ESS {np.median(ess):.0f} (median)")
    print(f"{'parameter':<60} {'coverage':>9} {'width/prior':>12}")
    for j, name in enumerate(names):
        print(f"{name:<60} {hits[j] / args.reps:>9.0%} {width[j] / args.reps:>12.2f}")


def _width(scenario, name: str) -> float:
    if name.startswith("factors."):
        return 2 * 1.6448536
    p = scenario.parameter(name)
    return p.quantile(0.95) - p.quantile(0.05)


if __name__ == "__main__":
    main()
