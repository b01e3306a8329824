"""Which assumption drives each figure: sensitivity estimated from the runs already made.

A scenario with uncertain numbers (:mod:`sim.scenario.uncertain`) draws each of them once
per run and records the draw in the ``parameters`` table.  Across runs, a pool-year's
demand, grants and running dry then move with some parameters and not with others, and
with firm-to-firm chance.  For every pool, year and measure (``demand``, ``granted``, and
``p_dry``: the run's 0/1 "ran dry") and every parameter this module gives, from the same
runs (no extra runs, SALib's split of "what to run" from "what the runs say"):

- ``spearman``: the rank correlation of the parameter with the figure across runs
  (:func:`scipy.stats.spearmanr`), with a 95% interval from Fisher's z and the standard
  error of Bonett and Wright (2000), ``sqrt((1 + r²/2) / (N − 3))``: its sign says which
  way the figure moves, and an interval containing 0 says the runs cannot tell an effect;
- ``variance_share``: the first-order variance index ``Var(E[Y | X]) / Var(Y)``, the share of
  the figure's variance that knowing this one parameter would remove, by RBD-FAST on the
  given runs (SALib's ``rbd_fast``: the runs sorted by the parameter, the share of the
  spectrum in the low harmonics, bias-corrected after Tissot and Prieur, 2012), with a
  bootstrap 95% interval; it sees effects that are not monotone, which a rank correlation
  misses;
- ``explained_share``: the share of the figure's variance that parameter uncertainty
  explains at all (1 − E[Var(Y | parameters)] / Var(Y)); the rest is firm-level chance.
  Runs whose parameters are alike differ only by chance, so half the mean squared
  difference of neighbours' figures estimates E[Var(Y | parameters)], plus a bias that
  grows with the distance between neighbours; the Gamma test (Stefánsson, Končar and
  Jones, 1997; Evans and Jones, 2002) takes the 1st to :data:`NEIGHBOURS`-th nearest
  neighbours and extrapolates that half squared difference to distance 0 by a line.
  Neighbours are found on the ranks of the parameters the runs show an effect of (a rank
  correlation or first-order interval that excludes 0), at most the
  :data:`NEIGHBOUR_PARAMETERS` most correlated, else of the most correlated one alone:
  every dimension without an effect only pushes neighbours apart.  Parameters left out
  count as chance, so with many small effects the share is a lower bound.

Every estimator is checked on cases with known answers (tests/test_sensitivity.py): a
linear model whose first-order indices are known, a parameter with no effect, one
dominant parameter, a known split between parameters and noise.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.random(1000)
>>> rho, lo, hi = spearman(x, 3 * x + rng.normal(0, 0.1, 1000))
>>> round(rho, 2), lo < rho < hi
(0.99, True)
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from sim.report.lang import ATTRIBUTE_ZH, PARAMETER_ZH, Lang
from sim.report.uncertainty import LEVEL, Z
from sim.runs.manifest import Manifest

MEASURES = ("demand", "granted", "p_dry")
MIN_RUNS = 10  # a figure that differs from its most common value in fewer runs (a pool dry in 3 runs) is not ranked
NEIGHBOUR_PARAMETERS = 6
NEIGHBOURS = 10
RESAMPLES = 100  # bootstrap resamples of RBD-FAST
SUBSAMPLES = 30  # half-size subsamples for the interval of the explained share
HARMONICS = 10  # RBD-FAST's M: harmonics counted as the parameter's signal

COLUMNS = {"pool": pl.String, "year": pl.Int32, "measure": pl.String, "parameter": pl.String, "rank": pl.Int32,
           "spearman": pl.Float64, "spearman_low": pl.Float64, "spearman_high": pl.Float64,
           "variance_share": pl.Float64, "variance_share_low": pl.Float64, "variance_share_high": pl.Float64,
           "explained_share": pl.Float64, "explained_low": pl.Float64, "explained_high": pl.Float64,
           "runs": pl.Int64}


def spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Rank correlation of ``x`` and ``y`` and its 95% interval; NaNs when either is constant."""
    n = len(x)
    if n < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return (math.nan, math.nan, math.nan)
    from scipy import stats  # loaded when a figure is ranked: scipy.stats takes most of a second to import

    rho = float(stats.spearmanr(x, y).statistic)
    if abs(rho) >= 1:
        return (rho, rho, rho)
    se = math.sqrt((1 + rho * rho / 2) / (n - 3))
    z = math.atanh(rho)
    return (rho, math.tanh(z - Z * se), math.tanh(z + Z * se))


def first_order(X: np.ndarray, y: np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First-order variance index of each column of ``X`` for ``y`` by RBD-FAST, with bootstrap 95% intervals.

    The estimator of SALib's ``rbd_fast.analyze`` (Plischke's EASI ordering, the
    periodogram's first :data:`HARMONICS` harmonics over all, Tissot and Prieur's bias
    correction, a bootstrap of half-size resamples reported as ±z·sd), computed here for
    all parameters and resamples in one FFT: SALib's own loop takes about 0.3 s per
    parameter and figure, minutes for a report.  tests/test_sensitivity.py checks that
    the estimates equal SALib's.  Columns whose values, or a ``y`` that, never vary get NaN.
    """
    n, d = X.shape
    nan = np.full(d, math.nan)
    if n <= 2 * HARMONICS + 2 or np.ptp(y) == 0:
        return nan, nan.copy(), nan.copy()
    s1 = _rbd_fast(X, y)
    half = np.full(d, math.nan)
    if n // 2 > 2 * HARMONICS + 2:  # the bootstrap's half-size samples need room for the harmonics too
        rng = np.random.default_rng(seed)
        picks = rng.choice(n, size=(RESAMPLES, n // 2), replace=True)
        boot = np.stack([_rbd_fast(X[pick], y[pick]) for pick in picks])
        half = Z * np.nanstd(boot, axis=0, ddof=1)
    constant = np.ptp(X, axis=0) == 0
    s1[constant], half[constant] = math.nan, math.nan
    return s1, s1 - half, s1 + half


def _rbd_fast(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """RBD-FAST's bias-corrected first-order index of every column of ``X`` (SALib's formulas)."""
    n = len(y)
    order = np.argsort(X, axis=0, kind="stable")
    zigzag = np.concatenate([order[::2], order[1::2][::-1]])  # permute_outputs: up the odd ranks, down the even
    permuted = y[zigzag].T  # one row per parameter
    permuted = permuted - permuted.mean(axis=1, keepdims=True)  # periodogram's constant detrend
    power = np.abs(np.fft.rfft(permuted, axis=1)) ** 2
    power[:, 1:] *= 2  # one-sided: every frequency but 0 and (for even n) the Nyquist counts twice
    if n % 2 == 0:
        power[:, -1] /= 2
    total = power[:, 1:].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s1 = power[:, 1:HARMONICS + 1].sum(axis=1) / total
    lam = 2 * HARMONICS / n  # unskew_S1
    return s1 - lam / (1 - lam) * (1 - s1)


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks scaled to 0–1 (ties share their mean rank)."""
    from scipy import stats

    return (stats.rankdata(x) - 0.5) / len(x)


def residual_variance(X: np.ndarray, y: np.ndarray) -> float:
    """E[Var(y | X)] by the Gamma test: half the mean squared difference of k-th neighbours' ``y``,
    regressed on their mean squared distance over k = 1 … :data:`NEIGHBOURS`, at distance 0."""
    from scipy.spatial import cKDTree

    tree = cKDTree(X)
    distance, index = tree.query(X, k=min(NEIGHBOURS, len(y) - 1) + 1)
    delta = (distance[:, 1:] ** 2).mean(axis=0)
    gamma = ((y[:, None] - y[index[:, 1:]]) ** 2).mean(axis=0) / 2
    if np.ptp(delta) == 0:  # every neighbour at the same distance (ties): no slope to extrapolate
        return float(gamma[0])
    slope, intercept = np.polyfit(delta, gamma, 1)
    return float(max(intercept, 0.0))


def explained(X: np.ndarray, y: np.ndarray, *, seed: int = 0) -> tuple[float, float, float]:
    """Share of ``y``'s variance explained by the columns of ``X`` together, with a 95% interval.

    ``X`` should already be the parameters' ranks (see :func:`_ranks`).  The interval comes
    from subsamples of half the runs (each estimate's spread, scaled by √(1/2) to the full
    sample; the nearest-neighbour estimator is √N-consistent), centred on the estimate.
    """
    n = len(y)
    total = float(np.var(y))
    if n < 20 or total == 0 or X.shape[1] == 0:
        return (math.nan, math.nan, math.nan)
    share = 1 - residual_variance(X, y) / total
    rng = np.random.default_rng(seed)
    half = n // 2
    draws = []
    for _ in range(SUBSAMPLES):
        pick = rng.choice(n, size=half, replace=False)
        sub_total = float(np.var(y[pick]))
        if sub_total > 0:
            draws.append(1 - residual_variance(X[pick], y[pick]) / sub_total)
    spread = float(np.std(draws, ddof=1)) * math.sqrt(half / n) if len(draws) > 2 else math.nan
    return (share, share - Z * spread, share + Z * spread)


def figure_sensitivity(values: dict[str, np.ndarray], y: np.ndarray, *, seed: int = 0) -> list[dict]:
    """Every parameter's rank correlation and first-order index for one figure, and the share explained.

    ``values`` maps a parameter's name to its value in each run (aligned with ``y``).
    Rows are ranked: first the parameters whose effect the runs show (an interval of the
    rank correlation or of the first-order index that excludes 0), then the rest, each
    group by first-order index, then by |rank correlation|; so a parameter whose index is
    large only by chance (few runs) does not rank above one with a clear effect.
    """
    rows = []
    names = list(values)
    s1, slo, shi = first_order(np.column_stack([values[n] for n in names]), y, seed=seed)
    for i, name in enumerate(names):
        rho, rlo, rhi = spearman(values[name], y)
        rows.append({"parameter": name, "spearman": rho, "spearman_low": rlo, "spearman_high": rhi,
                     "variance_share": float(s1[i]), "variance_share_low": float(slo[i]), "variance_share_high": float(shi[i])})
    order = sorted(rows, key=lambda r: (not _effect(r), -_finite(r["variance_share"]), -abs(_finite(r["spearman"])),
                                        r["parameter"]))
    by_rho = [r for r in sorted(rows, key=lambda r: -abs(_finite(r["spearman"]))) if not math.isnan(r["spearman"])]
    top = [r for r in by_rho if _effect(r)][:NEIGHBOUR_PARAMETERS] or by_rho[:1]
    X = np.column_stack([_ranks(values[r["parameter"]]) for r in top]) if top else np.zeros((len(y), 0))
    share, lo, hi = explained(X, y, seed=seed)
    for rank, r in enumerate(order, start=1):
        r.update(rank=rank, explained_share=share, explained_low=lo, explained_high=hi, runs=len(y))
    return order


def _effect(row: dict) -> bool:
    """The runs tell an effect: the rank correlation's or the first-order index's interval excludes 0."""
    return _finite(row["spearman_low"]) > 0 or -_finite(-row["spearman_high"]) < 0 or _finite(row["variance_share_low"]) > 0


def _finite(value: float) -> float:
    return -math.inf if value is None or math.isnan(value) else value


def sensitivity(parameters: pl.DataFrame, figures: pl.DataFrame, *, seed: int = 0) -> pl.DataFrame:
    """The sensitivity table: one row per pool, year, measure and parameter (see the module docstring).

    ``parameters``: run, name, value (the ``parameters`` table).  ``figures``: run, pool,
    year, measure, value, one row per run of each pool-year-measure.  Figures that do not
    vary across runs (a pool that never runs dry), or differ from their most common value
    in fewer than :data:`MIN_RUNS` runs, get null statistics.
    """
    if parameters.height == 0:
        return pl.DataFrame(schema=COLUMNS)
    wide = parameters.pivot(on="name", index="run", values="value").sort("run")
    names = [c for c in wide.columns if c != "run"]
    runs = wide["run"].to_numpy()
    values = {n: wide[n].to_numpy().astype(np.float64) for n in names}
    rows = []
    for (pool, year, measure), part in figures.group_by("pool", "year", "measure", maintain_order=True):
        part = part.sort("run")
        if not np.array_equal(part["run"].to_numpy(), runs):
            raise ValueError(f"{pool} {year} {measure}: figures and parameters do not cover the same runs")
        y = part["value"].to_numpy().astype(np.float64)
        if len(y) - np.unique(y, return_counts=True)[1].max() < MIN_RUNS:
            y = np.zeros(len(y))  # too few runs differ to tell anything: null statistics
        for row in figure_sensitivity(values, y, seed=seed):
            rows.append({"pool": pool, "year": year, "measure": measure, **row})
    frame = pl.DataFrame(rows, schema=COLUMNS, strict=False) if rows else pl.DataFrame(schema=COLUMNS)
    order = pl.Enum(list(MEASURES))
    return (frame.with_columns(pl.col(c).fill_nan(None) for c, t in COLUMNS.items() if t == pl.Float64)
            .with_columns(pl.col("measure").cast(order)).sort("pool", "year", "measure", "rank")
            .with_columns(pl.col("measure").cast(pl.String)))


def run_figures(exposure: pl.LazyFrame, money: pl.LazyFrame, pools: pl.DataFrame) -> pl.DataFrame:
    """Each run's figures per pool and year, the ones ranked: run, pool, year, measure, value.

    ``demand`` as counted against the budget (a life pool's since the start of the horizon,
    see :func:`sim.report.figures.pool_exposure`) on the basis the budget needed is sized
    on: payable demand, what the pool would grant with unlimited money (plain demand for
    runs written before it was recorded), the figure the demand charts draw; ``granted``
    in the year, and ``p_dry`` (1 if the pool ran dry, else 0; only for pools with a
    budget).  Pools with neither a budget nor demand in any run are left out.
    """
    frame = (exposure.select("run", "pool", "year", pl.col("payable").alias("demand"),
                             (pl.col("dry_on").is_not_null().cast(pl.Float64)).alias("p_dry"))
             .join(money.select("run", "pool", "year", "granted"), on=["run", "pool", "year"], how="left")
             .collect())
    budgeted = set(pools.filter(pl.col("budget_yuan").is_not_null())["pool"].to_list())
    active = set(frame.group_by("pool").agg(pl.col("demand").max()).filter(pl.col("demand") > 0)["pool"].to_list())
    frame = frame.filter(pl.col("pool").is_in(sorted(budgeted | active)))
    long = frame.unpivot(index=["run", "pool", "year"], on=["demand", "granted", "p_dry"], variable_name="measure")
    return (long.filter((pl.col("measure") != "p_dry") | pl.col("pool").is_in(sorted(budgeted)))
            .with_columns(pl.col("value").cast(pl.Float64), pl.col("year").cast(pl.Int32)))


def parameter_title(path: str, manifest: Manifest, lang: Lang = "en") -> str:
    """A parameter as a reader of ``lang`` names it: in English its short path (:func:`short_parameter`);
    in Chinese what it is, ``ai_smes：算力券申请率`` for ``segments.ai_smes.take_up.binjiang.compute_voucher.p``.

    Segments keep the scenario's names; a program is its title (the part in brackets, 算力券,
    where the title has one); a path of no kind known here keeps its short path.
    """
    short = short_parameter(path, {p.policy for p in manifest.programs})
    if lang == "en":
        return short
    head, *rest = path.split(".")
    named = {"segments": _segment_zh, "programs": _program_zh, "overrides": _override_zh, "factors": _factor_zh}.get(head)
    return (named(rest, manifest) if named else None) or short


def _program_title(key: str, manifest: Manifest) -> str:
    """A program (``policy.program``) by its title, or the part of it in brackets: 算力券 of 降低算力使用成本（算力券）."""
    title = next((p.title for p in manifest.programs if f"{p.policy}.{p.program}" == key and p.title), key)
    inner = title[title.rfind("（") + 1:-1] if title.endswith("）") and "（" in title else ""
    return inner or title


def _segment_zh(rest: list[str], manifest: Manifest) -> str | None:
    if len(rest) < 2:
        return None
    seg, kind = rest[0], rest[1]
    if kind == "take_up" and len(rest) >= 4:
        return f"{seg}：{_program_title('.'.join(rest[2:-1]), manifest)}申请率"
    if kind == "arrivals_per_year":
        return f"{seg}：每年新增企业数" + (f"（{rest[2]}年）" if len(rest) > 2 else "")
    if kind == "firms_at_start":
        return f"{seg}：期初企业数"
    if kind == "attributes" and len(rest) == 4:
        return f"{seg}：{ATTRIBUTE_ZH.get(rest[2], rest[2])}{PARAMETER_ZH.get(rest[3], rest[3])}"
    if kind == "from_data" and len(rest) == 4 and rest[2] == "growth":
        return f"{seg}：{ATTRIBUTE_ZH.get(rest[3], rest[3])}年增长率"
    return None


def _program_zh(rest: list[str], manifest: Manifest) -> str | None:
    key, what = ".".join(rest[:2]), rest[2:]
    if what[:1] == ["payment"]:
        what = what[1:]
    field = {"award_share": "奖励比例", "amount": "申请金额", "lag_months": "支付滞后月数", "lapse": "未兑付比例"}
    if len(what) != 2 or what[0] not in field:
        return None
    return f"{_program_title(key, manifest)}：{field[what[0]]}{PARAMETER_ZH.get(what[1], what[1])}"


def _override_zh(rest: list[str], manifest: Manifest) -> str | None:
    if len(rest) == 3 and rest[1] == "effective" and rest[2] in ("start", "end"):
        several = len({p.policy for p in manifest.programs}) > 1
        return (f"{rest[0]}：" if several else "") + {"start": "政策生效日期", "end": "政策终止日期"}[rest[2]]
    if len(rest) == 4 and rest[1] == "pools" and rest[3] == "budget":
        return f"{manifest.pool_titles().get(rest[0] + '.' + rest[2]) or rest[2]}预算"
    return None


def _factor_zh(rest: list[str], manifest: Manifest) -> str | None:
    return f"共同因子 {rest[0]}" if len(rest) == 1 else None


def short_parameter(path: str, policies: set[str] | None = None) -> str:
    """A parameter as tables and charts label it: without ``segments.`` and ``attributes.``, and the
    policy's name where the run has one policy (``ai_smes.take_up.compute_voucher.p``)."""
    parts = path.split(".")
    if parts[0] == "segments":
        parts = [p for i, p in enumerate(parts[1:]) if not (i == 1 and p == "attributes")]
    elif parts[0] == "overrides":
        parts = parts[1:]
    if policies and len(policies) == 1:
        only = next(iter(policies))
        parts = [p for p in parts if p != only]
    return ".".join(parts)
