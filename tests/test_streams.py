"""The counter-addressed random streams: the exact numbers, their uniformity and independence.

Every check runs at fixed seeds, so it passes or fails the same way each time; the
thresholds (p-value 0.001, |correlation| below 4 standard errors) are those a good
generator meets at almost every seed, and a flawed one (a stream repeated across runs,
a counter that leaks into the next number, a skewed transform) fails by far.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
from scipy import stats

from sim.engine import streams

N = 200_000
MASK = 2**64 - 1
G = 0x9E3779B97F4A7C15


def reference(seed: int, name: str, run: int, i: int) -> float:
    """Number ``i`` of stream (seed, name, run), computed one integer at a time as the docstring says."""
    def mix(z: int) -> int:
        z ^= z >> 30
        z = z * 0xBF58476D1CE4E5B9 & MASK
        z ^= z >> 27
        z = z * 0x94D049BB133111EB & MASK
        return z ^ (z >> 31)

    key = int.from_bytes(hashlib.blake2b(f"{seed}\x00{name}".encode(), digest_size=8).digest(), "little")
    base = mix(key ^ mix((run + 1) * G & MASK))
    x = mix((base + (i + 1) * G) & MASK)
    return (2 * (x >> 12) + 1) / 2**53


def numbers(seed: int, name: str, runs, counters) -> np.ndarray:
    state = streams.bases(streams.stream_key(seed, name), np.atleast_1d(runs))[0]
    return streams.uniform(state if np.ndim(runs) else state[0], counters)


def test_the_vectorised_numbers_are_the_documented_ones():
    counters = np.array([0, 1, 2, 1000, 2**32 + 5])
    got = numbers(7, "attr/s/revenue/2025", 3, counters)
    assert got.tolist() == [reference(7, "attr/s/revenue/2025", 3, int(i)) for i in counters]
    runs = np.array([0, 1, 10**6])
    assert numbers(7, "x", runs, 4).tolist() == [reference(7, "x", int(r), 4) for r in runs]


def test_numbers_lie_strictly_inside_zero_one_and_repeat_exactly():
    u = numbers(1, "a", 0, np.arange(N))
    assert (u > 0).all() and (u < 1).all()
    assert np.array_equal(u, numbers(1, "a", 0, np.arange(N)))
    # counters may come in any order and subset: each number depends on its counter alone
    pick = np.array([17, 3, 99_999, 3])
    assert np.array_equal(numbers(1, "a", 0, pick), u[pick])


def test_numbers_are_uniform_within_a_stream_and_across_runs():
    within = numbers(2, "timing", 5, np.arange(N))
    across = numbers(2, "timing", np.arange(N), 0)  # the first number of N runs
    for u in (within, across):
        observed = np.bincount((u * 100).astype(int), minlength=100)
        assert stats.chisquare(observed).pvalue > 1e-3
        assert stats.kstest(u, "uniform").pvalue > 1e-3


@pytest.mark.parametrize("a, b", [
    # two streams of one run
    (("takeup/s/p/start", 0), ("timing/s/p/2025/start", 0)),
    # one stream in consecutive runs
    (("attr/s/revenue/start", 41), ("attr/s/revenue/start", 42)),
    # streams whose names differ by one character
    (("attr/s/x1/start", 0), ("attr/s/x2/start", 0)),
])
def test_streams_are_independent(a, b):
    u, v = numbers(3, a[0], a[1], np.arange(N)), numbers(3, b[0], b[1], np.arange(N))
    assert abs(np.corrcoef(u, v)[0, 1]) < 4 / math.sqrt(N)
    pairs = np.bincount((u * 10).astype(int) * 10 + (v * 10).astype(int), minlength=100)
    assert stats.chisquare(pairs).pvalue > 1e-3  # the joint distribution is flat, not just uncorrelated


def test_neighbouring_counters_are_independent():
    u = numbers(4, "arrival_day/s/2025", 0, np.arange(N))
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 4 / math.sqrt(N)
    pairs = np.bincount((u[:-1] * 10).astype(int) * 10 + (u[1:] * 10).astype(int), minlength=100)
    assert stats.chisquare(pairs).pvalue > 1e-3


def test_the_seed_changes_every_stream():
    assert not np.array_equal(numbers(5, "a", 0, np.arange(10)), numbers(6, "a", 0, np.arange(10)))


def test_normals_follow_the_normal_distribution():
    z = streams.normal(numbers(8, "attr/s/revenue/start", 0, np.arange(N)))
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert np.isfinite(z).all()


@pytest.mark.parametrize("lam", [0.3, 4.0, 45.5, 2000.0, 250_000.0])
def test_poisson_counts_are_the_exact_quantiles(lam):
    u = numbers(9, "arrivals/s/2025", np.arange(20_000), 0)
    k = streams.poisson(u, lam)
    # exact inversion: P(K ≤ k − 1) < u ≤ P(K ≤ k) for every draw
    assert (stats.poisson.cdf(k - 1, lam) < u).all() and (u <= stats.poisson.cdf(k, lam)).all()
    # one rate per draw gives the same counts as one rate for all
    assert np.array_equal(streams.poisson(u, np.full(len(u), lam)), k)
    # and the counts follow the Poisson law (cells with at least 5 expected, tails pooled)
    lo, hi = int(stats.poisson.ppf(0.001, lam)), int(stats.poisson.ppf(0.999, lam))
    edges = np.arange(lo, hi + 2)
    observed = np.histogram(np.clip(k, lo, hi), bins=edges)[0]
    expected = np.diff(np.concatenate([[0.0], stats.poisson.cdf(edges[1:-1] - 1, lam), [1.0]])) * len(u)
    keep = expected >= 5
    observed = np.append(observed[keep], observed[~keep].sum())
    expected = np.append(expected[keep], expected[~keep].sum())
    assert stats.chisquare(observed[expected > 0], expected[expected > 0]).pvalue > 1e-3


def test_poisson_with_no_rate_is_zero():
    u = numbers(9, "x", 0, np.arange(5))
    assert streams.poisson(u, 0.0).tolist() == [0] * 5
    assert streams.poisson(u, np.array([0.0, 0.0, 1.0, 0.0, 0.0]))[[0, 1, 3, 4]].tolist() == [0] * 4
