"""Named random streams addressed by counter: the uniform numbers every run draws from.

Each run of a scenario draws from its own named streams (``arrivals/ai_smes``,
``attr/ai_smes/compute_rental``, ``takeup/ai_smes/binjiang.compute_voucher``, …), so that
two variants of a scenario see the same firms and a run's result depends on nothing but
(seed, run).  Here uniform number ``i`` of stream (seed, name, run) is a pure function of
those four values: no generator object is built per run or per stream, and a whole batch
of runs is drawn in one numpy pass, each element carrying its run and its counter.

Why a hand-written generator: numpy's generators draw a sequence, so every (run, stream)
pair needs its own ``SeedSequence`` and ``Generator`` (about 20 µs each, some 60 a run)
and its own small numpy calls; a counter-addressed generator needs neither, and draws
only the numbers that are used (a firm's application day only if it applies) without
shifting any other number.

The generator is SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014; the generator of Java's ``SplittableRandom``), which passes
TestU01's BigCrush.  Its state advances by the odd constant γ and its output is the
state through a bijective 64-bit mixer, so number ``i`` of a stream is simply

    mix64(base + (i + 1)·γ),    base = mix64(key(seed, name) ^ mix64((run + 1)·γ))

where ``key`` is the first 8 bytes of BLAKE2b of the seed and the name.  Counters are
dense (a firm's number within its cohort, see :mod:`sim.engine.population`), so each
stream of each run is a window of the one SplitMix64 cycle starting at a pseudo-random
point; two windows of n numbers overlap with a chance of about 2n/2⁶⁴ per pair.
``tests/test_streams.py`` checks uniformity (chi-square over bins), independence between
streams, between consecutive runs and between neighbouring counters (correlations), and
the normal and Poisson transforms (KS and chi-square tests against scipy's exact
distributions).

Uniforms lie strictly inside (0, 1), at odd multiples of 2⁻⁵³ (52 random bits), so
inverse transforms (``scipy.special.ndtri``, the Poisson quantile) never see 0 or 1.
"""

from __future__ import annotations

import functools
import hashlib
import math

import numpy as np
from scipy import special

GAMMA = np.uint64(0x9E3779B97F4A7C15)  # 2⁶⁴ / golden ratio, odd: SplitMix64's increment
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_CHUNK = 1 << 16  # elements hashed at a time: numpy's temporaries stay in the CPU cache


def _mix(x: np.ndarray, scratch: np.ndarray | None = None) -> np.ndarray:
    """SplitMix64's output mixer (Stafford's variant 13), a bijection of uint64, in place."""
    t = np.empty_like(x) if scratch is None else scratch[:len(x)]
    x ^= np.right_shift(x, _S30, out=t)
    x *= _M1
    x ^= np.right_shift(x, _S27, out=t)
    x *= _M2
    x ^= np.right_shift(x, _S31, out=t)
    return x


def stream_key(seed: int, name: str) -> np.uint64:
    """The 64-bit key of one named stream of a scenario's seed."""
    digest = hashlib.blake2b(f"{seed}\x00{name}".encode("utf-8"), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


def bases(keys, runs: np.ndarray) -> np.ndarray:
    """The state before number 0 of each stream in each run: a (len(keys), len(runs)) uint64 array.

    That is ``base + γ``: number ``i`` is then the mixed ``state + i·γ``.
    """
    keys = np.atleast_1d(np.asarray(keys, dtype=np.uint64))
    with np.errstate(over="ignore"):
        x = (np.asarray(runs, dtype=np.uint64) + np.uint64(1)) * GAMMA
        x = _mix(x)
        x = _mix(keys[:, None] ^ x[None, :])
        x += GAMMA
        return x


_ONE = np.uint64(0x3FF0000000000000)  # the bits of 1.0: a 52-bit fraction below them is a float in [1, 2)
_S12 = np.uint64(12)


def uniform(state: np.ndarray, counter: np.ndarray) -> np.ndarray:
    """Uniform numbers in (0, 1): number ``counter`` of the stream whose state is ``state`` (see :func:`bases`).

    ``state`` and ``counter`` broadcast together: one element per number wanted, each with
    its own stream and counter.  The top 52 bits of the mixed state become the fraction
    of a float in [1, 2); subtracting 1 − 2⁻⁵³ leaves (2m + 1)·2⁻⁵³, exactly.
    """
    state, counter = np.asarray(state, dtype=np.uint64), np.asarray(counter, dtype=np.uint64)
    if state.shape != counter.shape:
        state, counter = np.broadcast_arrays(state, counter)
    out = np.empty(counter.shape, dtype=np.float64)
    flat_c, flat_s, bits = counter.reshape(-1), state.reshape(-1), out.reshape(-1).view(np.uint64)
    scratch = np.empty(min(len(flat_c), _CHUNK), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for a in range(0, len(flat_c), _CHUNK):
            x = bits[a:a + _CHUNK]
            np.multiply(flat_c[a:a + _CHUNK], GAMMA, out=x)
            x += flat_s[a:a + _CHUNK]
            _mix(x, scratch)
            x >>= _S12
            x |= _ONE
    out -= 1.0 - 2.0 ** -53
    return out


def normal(u: np.ndarray) -> np.ndarray:
    """Standard normal numbers from uniforms, by the exact inverse of the normal CDF."""
    return special.ndtri(u)


def poisson(u: np.ndarray, lam) -> np.ndarray:
    """Poisson(``lam``) counts from uniforms by exact inversion: the least k with P(K ≤ k) ≥ u.

    ``lam`` is a number or an array matching ``u`` (one rate per draw).  For one rate the
    CDF is tabulated once; for many, scipy's inverse of the incomplete gamma function
    gives a starting point that the CDF then moves down or up to the exact quantile.
    """
    u = np.asarray(u, dtype=np.float64)
    if np.ndim(lam) == 0 and lam <= _TABULATED:
        return np.searchsorted(_poisson_cdf(float(lam)), u, side="left")
    lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), u.shape)
    k = np.zeros(u.shape, dtype=np.float64)
    live = lam > 0
    uu, ll = u[live], lam[live]
    kk = np.maximum(np.ceil(np.nan_to_num(special.pdtrik(uu, ll), nan=0.0)), 0.0)
    while True:  # step down while the count below still reaches u
        down = (kk > 0) & (special.pdtr(kk - 1, ll) >= uu)
        if not down.any():
            break
        kk[down] -= 1
    while True:  # step up while the count does not reach u
        up = special.pdtr(kk, ll) < uu
        if not up.any():
            break
        kk[up] += 1
    k[live] = kk
    return k.astype(np.int64)


_TABULATED = 100_000.0  # rates up to this get a table (a few MB at most)


@functools.lru_cache(maxsize=64)
def _poisson_cdf(lam: float) -> np.ndarray:
    """P(K ≤ k) for k = 0, 1, … until it rounds to 1 (a point 40 sd past the mean is far beyond)."""
    if lam <= 0:
        return np.ones(1)
    top = int(lam + 40 * math.sqrt(lam) + 40)
    cdf = special.pdtr(np.arange(top + 1), lam)
    cdf[-1] = 1.0  # no uniform lies above it
    return cdf
