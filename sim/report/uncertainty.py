"""Monte Carlo uncertainty: how far an estimate from N runs may be from the truth.

A report that says "the pool runs dry with probability 5%" or "a budget of 1.2亿 keeps the
risk under 5%" from 200 runs may be off by a lot; from 20,000 runs, by little.  This module
gives each kind of estimate its error bar, so that a reader sees when more runs are needed:

- a mean: its standard error, ``sd / sqrt(N)``;
- a probability (the share of runs where a pool ran dry): its standard error
  ``sqrt(p (1 - p) / N)`` and a Wilson interval, which stays sensible at 0% and 100%,
  where the standard error is 0 and says nothing;
- a quantile: the sample quantile is an order statistic ``x_(k)``, ``k = ceil(N p)``, and a
  distribution-free confidence interval is a pair of order statistics ``x_(l), x_(u)``
  chosen from the binomial law of how many runs fall below the true quantile (no
  resampling, exact for any distribution).

Examples
--------
>>> quantile_ranks(100, 0.5)
QuantileRanks(k=50, lo=40, hi=61)
>>> round(wilson(5, 100)[1], 3)
0.112
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

LEVEL = 0.95  # confidence level of every interval in the reports
Z = 1.959963984540054  # standard normal quantile for LEVEL


class QuantileRanks(NamedTuple):
    """1-based ranks of the order statistics: the estimate ``k`` and the interval ``lo..hi``."""

    k: int
    lo: int | None  # None: N runs are too few to bound the quantile from below
    hi: int | None  # None: … from above (e.g. the 99th percentile of 200 runs)


def binomial_cdf(n: int, p: float) -> np.ndarray:
    """P(B ≤ j) for B ~ Binomial(n, p), j = 0..n, computed in log space (exact to rounding)."""
    if p <= 0:
        return np.ones(n + 1)
    if p >= 1:
        out = np.zeros(n + 1)
        out[-1] = 1.0
        return out
    i = np.arange(1, n + 1, dtype=np.float64)
    log_pmf = np.concatenate([[0.0], np.cumsum(np.log((n - i + 1) / i))]) + \
        np.arange(n + 1) * math.log(p) + (n - np.arange(n + 1)) * math.log1p(-p)
    pmf = np.exp(log_pmf - log_pmf.max())
    return np.cumsum(pmf) / pmf.sum()


def quantile_ranks(n: int, p: float, level: float = LEVEL) -> QuantileRanks:
    """Ranks of the sample ``p``-quantile of ``n`` values and of its confidence interval.

    The estimate is ``x_(k)``, ``k = ceil(n p)`` (the smallest value with at least a share
    ``p`` of runs at or below it).  With B ~ Binomial(n, p) the number of runs below the
    true quantile, ``P(x_(lo) ≤ q ≤ x_(hi)) ≥ P(lo ≤ B ≤ hi - 1) ≥ level``: ``lo`` is the
    largest rank with ``P(B ≤ lo - 1) ≤ α/2`` and ``hi`` the smallest with
    ``P(B ≤ hi - 1) ≥ 1 - α/2``.  A bound that no rank in ``1..n`` reaches is ``None``:
    more runs are needed to bound the quantile on that side.
    """
    if n < 1:
        raise ValueError(f"n(={n}) must be >= 1")
    if not 0 < p < 1:
        raise ValueError(f"p(={p}) must be between 0 and 1")
    k = min(max(math.ceil(n * p - 1e-9), 1), n)
    cdf = binomial_cdf(n, p)
    alpha = 1 - level
    below = np.flatnonzero(cdf[:n] <= alpha / 2)
    lo = min(int(below[-1]) + 1, k) if len(below) else None
    above = np.flatnonzero(cdf[:n] >= 1 - alpha / 2)
    hi = max(int(above[0]) + 1, k) if len(above) else None
    return QuantileRanks(k, lo, hi)


def order_statistics(sorted_values: np.ndarray, p: float, level: float = LEVEL) -> tuple[float, float, float]:
    """(estimate, lower, upper) of the ``p``-quantile of ascending ``sorted_values``; NaN if empty or unbounded."""
    n = len(sorted_values)
    if n == 0:
        return (math.nan, math.nan, math.nan)
    r = quantile_ranks(n, p, level)
    lo = sorted_values[r.lo - 1] if r.lo is not None else math.nan
    hi = sorted_values[r.hi - 1] if r.hi is not None else math.nan
    return (sorted_values[r.k - 1], lo, hi)


def proportion_se(successes: int, n: int) -> float:
    """Standard error of a share estimated from ``n`` runs."""
    if n <= 0:
        return math.nan
    p = successes / n
    return math.sqrt(p * (1 - p) / n)


def wilson(successes: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a share: informative even when no run (or every run) succeeded."""
    if n <= 0:
        return (math.nan, math.nan)
    z = Z if level == LEVEL else _z(level)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _z(level: float) -> float:
    """Normal quantile for a two-sided ``level``, by bisection on erf (no scipy needed)."""
    target = 1 - (1 - level) / 2
    lo, hi = 0.0, 10.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
