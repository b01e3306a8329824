"""Rejection ABC: which prior draws reproduce what was observed, and how sure that makes us.

Approximate Bayesian computation needs no likelihood, only the model: draw parameters from
the prior, simulate, keep the draws whose simulated figures come near the observed ones.
Here each prior draw is one ordinary Monte Carlo run of the scenario (its uncertain
numbers drawn once, recorded in its ``parameters`` table), and its figures come from the
run's tables, so the prior runs are a ``sim run`` like any other: batched, in parallel,
resumable, with common random numbers.

The steps, after Beaumont, Zhang and Balding (2002), as the R package ``abc`` does them:

1. **Scale.**  Figures differ in unit (a count of applications, yuan granted, a day of
   the year), so each is divided by its spread over the prior runs: the median absolute
   deviation (× 1.4826, a standard deviation for normal data), or, where more than half
   the runs agree (a pool that never runs dry in most runs), the mean absolute deviation
   from the median (× 1.2533).  A figure every prior run gives the same value carries no
   information and is left out (unless the observation differs, which the prior excludes).
2. **Accept.**  The Euclidean distance of each run's scaled figures to the observed; the
   nearest ``accept`` share of runs is kept, weighted by the Epanechnikov kernel
   ``1 − (d/h)²`` with ``h`` the distance of the first run left out (runs at distance 0,
   when there are enough of them, are an exact match: weight 1 each, and the result is
   the exact posterior for discrete figures).
3. **Adjust** (optional).  A weighted linear regression of each parameter on the
   accepted runs' figures corrects each draw to what it would be at the observed figures
   (``θ − (s − s_obs) β``), on a scale where the parameter is unbounded (logit of a
   probability or a bounded number, log of a positive one), so the corrected draws stay
   where the prior can go.

The effective sample size of the weights, ``(Σw)² / Σw²``, says how many independent
draws the posterior is worth; quantiles are weighted (inverted CDF).

Why not pyabc?  pyabc (ABC-SMC, well kept) calls a model function once per particle from
its own samplers and keeps its populations in an SQL database; our runs come in batches of
hundreds from the runner, written to Parquet, resumable and identical on any worker
count.  Rejection on one set of prior runs fits that directly, reuses the runs for any
other observed file, and passes the simulation-based calibration check
(``benchmarks/calibration.py``); sequential rounds would only pay where the prior is far
wider than the posterior, which the small-ESS warning then says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAD_NORMAL = 1.4826  # MAD × this is a normal standard deviation
MEAN_AD_NORMAL = 1.2533  # mean absolute deviation × this is a normal standard deviation


@dataclass(frozen=True)
class Acceptance:
    """The accepted runs (indices into the prior runs), their weights and distances, and the scales used."""

    index: np.ndarray
    weights: np.ndarray  # summing to 1
    distances: np.ndarray
    scales: np.ndarray  # per figure; 0 where the figure was left out (no spread over the prior)
    bandwidth: float

    @property
    def ess(self) -> float:
        return effective_size(self.weights)


def scales(sims: np.ndarray) -> np.ndarray:
    """Each figure's spread over the prior runs (columns of ``sims``): MAD, else mean absolute deviation, else 0."""
    sims = np.asarray(sims, dtype=np.float64)
    median = np.median(sims, axis=0)
    deviation = np.abs(sims - median)
    mad = MAD_NORMAL * np.median(deviation, axis=0)
    mean_ad = MEAN_AD_NORMAL * deviation.mean(axis=0)
    return np.where(mad > 0, mad, mean_ad)


def accept(sims: np.ndarray, observed: np.ndarray, *, share: float, least: int = 20) -> Acceptance:
    """Keep the prior runs nearest the observed figures, with Epanechnikov weights.

    ``share`` of the runs are kept (at least ``least``, at most all); figures without
    spread over the prior are left out of the distance.
    """
    sims = np.asarray(sims, dtype=np.float64)
    observed = np.asarray(observed, dtype=np.float64)
    n = len(sims)
    spread = scales(sims)
    used = spread > 0
    z = (sims[:, used] - observed[used]) / spread[used]
    distance = np.sqrt((z ** 2).sum(axis=1))
    k = min(n, max(least, int(math.ceil(share * n))))
    order = np.argsort(distance, kind="stable")
    exact = int((distance == 0).sum())
    if exact >= k:  # enough runs reproduce every figure exactly: the exact posterior of discrete figures
        index = order[:exact]
        return Acceptance(index, np.full(exact, 1.0 / exact), distance[index], np.where(used, spread, 0.0), 0.0)
    index = order[:k]
    h = distance[order[k]] if k < n else distance[order[-1]] * (1 + 1e-9) + 1e-12
    weights = 1.0 - (distance[index] / h) ** 2
    weights = np.maximum(weights, 0.0)
    if weights.sum() <= 0:  # every kept run at the bandwidth (ties): weigh them alike
        weights = np.ones(k)
    return Acceptance(index, weights / weights.sum(), distance[index], np.where(used, spread, 0.0), float(h))


def adjust(theta: np.ndarray, sims: np.ndarray, observed: np.ndarray, weights: np.ndarray,
           bounds: list[tuple[float, float]], scale: np.ndarray) -> np.ndarray:
    """Local-linear regression adjustment of accepted draws (Beaumont et al. 2002), each parameter on its own.

    ``theta``: accepted draws (runs × parameters); ``sims``: their figures (runs × figures);
    ``bounds``: each parameter's support (lowest, highest; infinite where open).
    ``scale``: the figures' scales (0: left out of the regression).
    """
    used = scale > 0
    if not used.any() or len(theta) <= used.sum() + 1:
        return theta
    x = (sims[:, used] - observed[used]) / scale[used]
    design = np.column_stack([np.ones(len(x)), x])
    root = np.sqrt(weights)[:, None]
    out = theta.copy()
    for j, (low, high) in enumerate(bounds):
        y = _to_line(theta[:, j], low, high)
        if np.ptp(y) == 0:
            continue
        beta, *_ = np.linalg.lstsq(design * root, y * root[:, 0], rcond=None)
        out[:, j] = _from_line(y - x @ beta[1:], low, high)
    return out


def _to_line(v: np.ndarray, low: float, high: float) -> np.ndarray:
    """A parameter on a scale without bounds: logit between two bounds, log above one."""
    if math.isfinite(low) and math.isfinite(high):
        width = high - low
        p = np.clip((v - low) / width, 1e-9, 1 - 1e-9)
        return np.log(p / (1 - p))
    if math.isfinite(low):
        return np.log(np.maximum(v - low, 1e-12 * max(1.0, abs(low))))
    if math.isfinite(high):
        return -np.log(np.maximum(high - v, 1e-12 * max(1.0, abs(high))))
    return v


def _from_line(y: np.ndarray, low: float, high: float) -> np.ndarray:
    if math.isfinite(low) and math.isfinite(high):
        return low + (high - low) / (1 + np.exp(-y))
    if math.isfinite(low):
        return low + np.exp(y)
    if math.isfinite(high):
        return high - np.exp(-y)
    return y


def effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of weighted draws: (Σw)² / Σw²."""
    w = np.asarray(weights, dtype=np.float64)
    return float(w.sum() ** 2 / (w ** 2).sum()) if w.size and (w ** 2).sum() > 0 else 0.0


def quantiles(values: np.ndarray, weights: np.ndarray, q) -> np.ndarray:
    """Weighted quantiles (inverted CDF: the smallest value whose cumulative weight reaches q)."""
    return np.quantile(np.asarray(values, dtype=np.float64), q, method="inverted_cdf",
                       weights=np.asarray(weights, dtype=np.float64))
