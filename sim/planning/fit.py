"""Fitting a distribution to data: a scenario assumption set by what was observed.

"Firms rent about 120万 of compute a year, often three times more or less" is a guess; last
year's applicant list says what they actually rented.  :func:`fit` takes one column of such
a list and fits each candidate distribution by maximum likelihood (scipy.stats), ranks them
by the Akaike information criterion and checks each with a goodness-of-fit test, and gives
the winner as a scenario ``dist:`` block ready to paste, its ``why:`` naming the file, the
column, the number of values and the fit.

Candidates: lognormal (the usual shape of spending: a heavy right tail), gamma and
Weibull, all on (0, ∞), and the empirical distribution (resample the observed values).
The goodness-of-fit test is Kolmogorov–Smirnov with its p-value computed by Monte Carlo
with the parameters refitted on each simulated sample (scipy.stats.goodness_of_fit), which
is what makes it valid for fitted parameters; the empirical distribution wins only when
every parametric fit is rejected at 5%.  Standard errors of the parameters come from the
observed Fisher information (the Hessian of the log-likelihood at the optimum).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> result = fit(np.exp(rng.normal(np.log(1_200_000), 0.8, 400)), source="demo", money=True, seed=1)
>>> result.winner.name
'lognormal'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.errors import SimError
from sim.policy.money import format_wan

MIN_VALUES = 8
ALPHA = 0.05


class FitError(SimError):
    """Data that cannot be fitted: too few values, or none of the kind a candidate needs."""


@dataclass(frozen=True)
class Candidate:
    """One fitted distribution: parameters as the scenario writes them, with standard errors."""

    name: str
    params: dict[str, float]
    se: dict[str, float]
    log_likelihood: float | None
    aic: float | None
    bic: float | None
    ks: float
    ks_p: float | None
    note: str = ""

    @property
    def rejected(self) -> bool:
        return self.ks_p is not None and self.ks_p < ALPHA


@dataclass(frozen=True)
class Fit:
    """All candidates, best first, and the winner."""

    source: str
    n: int
    money: bool
    candidates: tuple[Candidate, ...]
    winner: Candidate
    values: np.ndarray = field(repr=False)

    def block(self, key: str = "value") -> str:
        """The winner as a one-line scenario ``dist:`` mapping with its reasoning."""
        return f"{key}: {dist_block(self.winner, self.values, money=self.money, why=self.why())}"

    def why(self) -> str:
        w = self.winner
        others = ", ".join(f"{c.name} {c.aic:.1f}" for c in self.candidates if c is not w and c.aic is not None)
        fit_text = (f"AIC {w.aic:.1f}" + (f" (vs {others})" if others else "")) if w.aic is not None else "every parametric fit rejected"
        ks = f"KS {w.ks:.3f}" + (f", p={w.ks_p:.2f}" if w.ks_p is not None else "")
        how = "maximum likelihood" if w.name != "empirical" else "resampling the observed values"
        return f"fitted by {how} to {self.source} (n={self.n}): {w.name}, {fit_text}, {ks}"


def fit(values: np.ndarray, *, source: str, money: bool = False, gof_samples: int = 500, seed: int = 0) -> Fit:
    """Fit every candidate to ``values`` (all ≥ 0) and choose the winner.

    Raises :class:`FitError` when fewer than 8 values are given, or when the values are
    all equal or none is positive (no candidate on (0, ∞) applies).
    """
    x = np.asarray(values, dtype=np.float64)
    if len(x) < MIN_VALUES:
        raise FitError(f"{source}: {len(x)} value(s); at least {MIN_VALUES} are needed to fit a distribution")
    positive = x[x > 0]
    if len(positive) < MIN_VALUES or np.ptp(positive) == 0:
        raise FitError(f"{source}: too few distinct positive values to fit lognormal, gamma or Weibull "
                       f"({len(positive)} positive of {len(x)}); use an empirical or constant distribution")
    zeros = len(x) - len(positive)
    note = f"fitted on the {len(positive)} positive values ({zeros} zero(s) left out)" if zeros else ""
    rng = np.random.default_rng(seed)
    parametric = [_parametric(name, positive, gof_samples, rng, note) for name in _FAMILIES]
    parametric.sort(key=lambda c: c.aic)
    empirical = Candidate("empirical", {}, {}, None, None, None, 0.0, None, "resampled")
    winner = next((c for c in parametric if not c.rejected), empirical)
    ranked = tuple(parametric) + (empirical,)
    return Fit(source, len(x), money, ranked, winner, x)


# --------------------------------------------------------------------------- candidates

_FAMILIES = {
    # name: (scipy.stats distribution, scenario parameters from scipy's (shape, scale))
    "lognormal": ("lognorm", lambda s, scale: {"median": scale, "sigma": s}),
    "gamma": ("gamma", lambda a, scale: {"shape": a, "scale": scale}),
    "weibull": ("weibull_min", lambda c, scale: {"shape": c, "scale": scale}),
}


def _parametric(name: str, x: np.ndarray, gof_samples: int, rng: np.random.Generator, note: str) -> Candidate:
    from scipy import stats  # loaded when fitting: it takes most of a second to import

    dist, named = _FAMILIES[name]
    dist = getattr(stats, dist)
    shape, _, scale = dist.fit(x, floc=0)
    loglik = float(np.sum(dist.logpdf(x, shape, 0, scale)))
    k, n = 2, len(x)
    se_shape, se_scale = _standard_errors(dist, x, shape, scale)
    params = named(shape, scale)
    se = dict(zip(params, _se_named(name, shape, scale, se_shape, se_scale)))
    ks = float(stats.kstest(x, dist.cdf, args=(shape, 0, scale)).statistic)
    ks_p = None
    if gof_samples > 0:
        result = stats.goodness_of_fit(dist, x, known_params={"loc": 0}, statistic="ks",
                                       n_mc_samples=gof_samples, rng=rng)
        ks_p = float(result.pvalue)
    return Candidate(name, params, se, loglik, 2 * k - 2 * loglik, k * math.log(n) - 2 * loglik, ks, ks_p, note)


def _standard_errors(dist, x: np.ndarray, shape: float, scale: float) -> tuple[float, float]:
    """Standard errors of (shape, scale) from the observed information, by central differences."""
    theta = np.array([shape, scale])
    steps = theta * 1e-4

    def loglik(t: np.ndarray) -> float:
        return float(np.sum(dist.logpdf(x, t[0], 0, t[1])))

    hessian = np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * steps[i], np.eye(2)[j] * steps[j]
            hessian[i, j] = (loglik(theta + ei + ej) - loglik(theta + ei - ej) - loglik(theta - ei + ej)
                             + loglik(theta - ei - ej)) / (4 * steps[i] * steps[j])
    try:
        cov = np.linalg.inv(-hessian)
    except np.linalg.LinAlgError:
        return math.nan, math.nan
    return tuple(float(math.sqrt(v)) if v > 0 else math.nan for v in np.diag(cov))


def _se_named(name: str, shape: float, scale: float, se_shape: float, se_scale: float) -> tuple[float, float]:
    """Standard errors in the order of the scenario's parameters."""
    if name == "lognormal":
        return se_scale, se_shape  # median is scipy's scale, sigma its shape
    return se_shape, se_scale


# --------------------------------------------------------------------------- the block to paste

def dist_block(c: Candidate, values: np.ndarray, *, money: bool, why: str) -> str:
    """``{dist: lognormal, median: 118.2万, sigma: 0.81, why: "…"}`` in the scenario's own form."""
    parts = [f"dist: {c.name}"]
    if c.name == "empirical":
        shown = [_amount(v, money) for v in values]
        parts.append(f"values: [{', '.join(shown)}]")
    else:
        for key, value in c.params.items():
            scale_like = key in ("median", "scale")
            parts.append(f"{key}: {_amount(value, money) if scale_like else _number(value)}")
    quoted = why.replace('"', "'")
    parts.append(f'why: "{quoted}"')
    return "{" + ", ".join(parts) + "}"


def _amount(value: float, money: bool) -> str:
    if money:
        return format_wan(int(round(value)))
    return _number(value)


def _number(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.6g}"
