"""The budget report: what a run's Parquet tables say a finance department should plan for.

From ``program_years``, ``pool_years``, ``funder_years`` (and ``awards`` if recorded) of N
Monte Carlo runs, per program, pool and funder and per budget year: the mean and the 5th,
50th, 90th, 95th and 99th percentiles of demand (what applications asked) and grants, and
unmet demand (demand − grants); per pool: how likely it runs dry, when, and what budget
keeps that chance at or below a target risk.  Every estimate carries its Monte Carlo
uncertainty (see :mod:`sim.report.uncertainty`), so a reader sees when more runs are needed.

The budget needed at a risk ``r`` is a budget for what a pool can pay.  ``D``, the pool's
**payable demand** in the year (the sum of its programs' ``payable_yuan``), is what it
would grant with unlimited money: every ask of a first-come or pro-rata pool, but only
the first N of a call limited to N a year (in its order: time, or rank), and no firm
beyond a cap its programs share (:mod:`sim.runs.records`).  Until its money binds, a pool
grants exactly what it would grant with no limit, so it runs dry iff ``D ≥ B``.  The
smallest integer ``B`` with ``#(runs with D ≥ B) / N ≤ r`` is ``d_(N−m) + 1`` with
``m = floor(r N)`` and ``d_(i)`` the sorted payable demands; it is computed for pools
without a limit too ("what the pool would need").  So a competitive call paying at most
10 projects of 250万 never needs more than 2500万, however much more is asked.  Runs
written before ``payable_yuan`` existed (schema version 1) are sized on demand (what the
applications asked): ``demand_basis`` says which basis each figure uses (``payable`` or
``demand``).  All-or-nothing grants can make a pool refuse before ``D`` reaches ``B``;
``sim size`` checks the budgets with a confirmation run.  A pool over
the policy's life (``period: life``) has one budget for all years: its rows are
cumulative from the start of the horizon (``basis = "cumulative"``).

Every function here is a ``LazyFrame → DataFrame`` transform (composable with ``.pipe``);
only the small per-run aggregates are ever in memory, never all ``awards`` rows.

Examples
--------
>>> report = build_report("outputs/binjiang", risk=0.05)  # doctest: +SKIP
>>> report.pool_risk.select("pool", "year", "p_dry", "budget_needed_yuan")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from sim.errors import OptionError, OutputError
from sim.report.display import interval, percent, short_pool, wan, wan_up
from sim.report.page import Cell, esc, table
from sim.report.sensitivity import run_figures, sensitivity
from sim.report.uncertainty import (
    order_statistics,
    proportion_se,
    quantile_ranks,
    wilson,
)
from sim.runs.lock import holds, locked
from sim.runs.manifest import Manifest, read_manifest
from sim.runs.storage import recover, resume_command, scan
from sim.scenario.model import pool_openings

QUANTILES = (0.05, 0.5, 0.9, 0.95, 0.99)
FAN = (0.1, 0.5, 0.9)
DRY_QUANTILES = (0.1, 0.5, 0.9)
MEASURES = ("demand", "granted", "unmet")
EPOCH = dt.date(1970, 1, 1)

# Columns of the distribution tables, after their key columns (see distribution()).
STAT_COLUMNS = ("runs", "mean", "se") + tuple(
    f"p{round(q * 100)}{suffix}" for q in QUANTILES for suffix in ("", "_lo", "_hi"))


def pct(q: float) -> str:
    """Column stem of a quantile: 0.05 → ``p5``."""
    return f"p{round(q * 100)}"


# --------------------------------------------------------------------------- metadata

def program_meta(manifest: Manifest | None) -> pl.DataFrame:
    """Programs of a run: policy, program, clause, title (Chinese, as printed), pool, selection."""
    schema = {"policy": pl.String, "program": pl.String, "clause": pl.String, "title": pl.String,
              "pool": pl.String, "selection": pl.String}
    rows = [{k: getattr(p, k) for k in schema} for p in (manifest.programs if manifest else ())]
    return pl.DataFrame(rows, schema=schema)


def pool_meta(manifest: Manifest | None) -> pl.DataFrame:
    """Pools by budget year: pool, title, rationing, period (year|life), year, budget_yuan (null: no limit)."""
    schema = {"pool": pl.String, "title": pl.String, "rationing": pl.String, "period": pl.String,
              "year": pl.Int32, "budget_yuan": pl.Int64}
    rows = [{"pool": p.pool, "title": p.title, "rationing": p.rationing, "period": p.period, "year": int(y), "budget_yuan": b}
            for p in (manifest.pools if manifest else ()) for y, b in p.budgets.items()]
    return pl.DataFrame(rows, schema=schema)


def run_ids(runs: int) -> pl.LazyFrame:
    return pl.LazyFrame({"run": pl.int_range(0, runs, dtype=pl.Int32, eager=True)})


# --------------------------------------------------------------------------- per-run frames

def complete(lf: pl.LazyFrame, keys: list[str], values: list[str], *, runs: int, grid: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """One row per run and key, zeros where a run has none: quantiles must count quiet runs.

    ``grid`` gives the keys to cover (default: the keys present in ``lf``).
    """
    keyset = (grid if grid is not None else lf.select(keys)).unique()
    return (keyset.join(run_ids(runs), how="cross")
            .join(lf, on=["run", *keys], how="left")
            .with_columns(pl.col(values).fill_null(0)))


def program_runs(program_years: pl.LazyFrame, *, runs: int) -> pl.LazyFrame:
    """Per run, program and year: demand, granted and unmet (demand − granted) yuan."""
    keys = ["policy", "program", "pool", "year"]
    lf = program_years.group_by("run", *keys).agg(pl.col("demand_yuan", "granted_yuan").sum())
    return (complete(lf, keys, ["demand_yuan", "granted_yuan"], runs=runs)
            .select("run", *keys, pl.col("demand_yuan").alias("demand"), pl.col("granted_yuan").alias("granted"),
                    (pl.col("demand_yuan") - pl.col("granted_yuan")).alias("unmet")))


def demand_basis(program_years: pl.LazyFrame) -> str:
    """What the budget needed is a quantile of: ``payable`` demand, or ``demand`` for a run written before it was recorded."""
    return "payable" if "payable_yuan" in program_years.collect_schema().names() else "demand"


def pool_runs(program_years: pl.LazyFrame, *, runs: int, pools: pl.DataFrame | None = None) -> pl.LazyFrame:
    """Per run, pool and year: the pool's demand, payable demand, granted and unmet yuan (sums over its programs).

    ``payable`` is the demand itself for a run written before payable demand was recorded.
    """
    payable = pl.col("payable_yuan") if demand_basis(program_years) == "payable" else pl.col("demand_yuan")
    lf = (program_years.group_by("run", "pool", "year")
          .agg(pl.col("demand_yuan").sum().alias("demand"), payable.sum().alias("payable"),
               pl.col("granted_yuan").sum().alias("granted")))
    grid = pools.lazy().select("pool", "year") if pools is not None and pools.height else None
    return (complete(lf, ["pool", "year"], ["demand", "payable", "granted"], runs=runs, grid=grid)
            .with_columns((pl.col("demand") - pl.col("granted")).alias("unmet")))


def funder_runs(funder_years: pl.LazyFrame, *, runs: int) -> pl.LazyFrame:
    """Per run, funder and year: granted yuan."""
    lf = funder_years.group_by("run", "funder", "year").agg(pl.col("granted_yuan").sum().alias("granted"))
    return complete(lf, ["funder", "year"], ["granted"], runs=runs)


# --------------------------------------------------------------------------- distributions

def distribution(lf: pl.LazyFrame, by: list[str], value: str, *, runs: int) -> pl.LazyFrame:
    """Across runs, per ``by`` group: runs, mean, se, and each quantile with its 95% interval.

    ``lf`` has exactly one row per run and group (see :func:`complete`).  Columns after
    ``by``: ``runs`` (rows seen), ``mean``, ``se`` (standard error of the mean), then per
    quantile ``p5, p5_lo, p5_hi, p50, …, p99_hi``: the order-statistic estimate and its
    distribution-free confidence interval (null where N runs cannot bound it: more
    runs are needed).
    """
    col = pl.col(value)
    aggs = [pl.len().alias("runs"), col.mean().cast(pl.Float64).alias("mean"),
            (col.std() / math.sqrt(runs)).alias("se")]
    for q in QUANTILES:
        r = quantile_ranks(runs, q)
        aggs.append(col.sort().get(r.k - 1).alias(pct(q)))
        for name, rank in (("lo", r.lo), ("hi", r.hi)):
            aggs.append((col.sort().get(rank - 1) if rank is not None else pl.lit(None, pl.Int64)).cast(pl.Int64).alias(f"{pct(q)}_{name}"))
    return lf.group_by(by).agg(aggs)


def by_measure(lf: pl.LazyFrame, by: list[str], measures: tuple[str, ...], *, runs: int) -> pl.DataFrame:
    """:func:`distribution` of each measure, stacked: columns ``by + [measure] + STAT_COLUMNS``."""
    frames = [distribution(lf, by, m, runs=runs).with_columns(pl.lit(m).alias("measure")) for m in measures]
    out = pl.concat(frames).collect(engine="streaming")
    _check_runs(out, runs)
    order = pl.Enum(list(measures))
    return (out.with_columns(pl.col("measure").cast(order)).sort([*by, "measure"])
            .with_columns(pl.col("measure").cast(pl.String)).select(*by, "measure", *STAT_COLUMNS))


def _check_runs(frame: pl.DataFrame, runs: int) -> None:
    bad = frame.filter(pl.col("runs") != runs)
    if bad.height:
        raise OutputError(f"the tables hold more than one row per run for some key ({bad.row(0)}); the outputs are damaged: run again with --force")


def program_figures(program_years: pl.LazyFrame, *, runs: int, programs: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per program and year, demand / granted / unmet across runs.

    Columns: policy, program, clause, title, pool, year, measure (demand|granted|unmet),
    then :data:`STAT_COLUMNS`; amounts in yuan.
    """
    out = by_measure(program_runs(program_years, runs=runs), ["policy", "program", "pool", "year"], MEASURES, runs=runs)
    meta = programs if programs is not None else pl.DataFrame(schema={"policy": pl.String, "program": pl.String, "clause": pl.String, "title": pl.String})
    out = out.join(meta.select("policy", "program", "clause", "title"), on=["policy", "program"], how="left")
    return out.select("policy", "program", "clause", "title", "pool", "year", "measure", *STAT_COLUMNS)


def pool_figures(program_years: pl.LazyFrame, *, runs: int, pools: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per pool and year, demand / granted / unmet across runs.

    Columns: pool, title, year, budget_yuan (null: no limit), measure, then :data:`STAT_COLUMNS`.
    """
    pools = pools if pools is not None else pool_meta(None)
    out = by_measure(pool_runs(program_years, runs=runs, pools=pools), ["pool", "year"], MEASURES, runs=runs)
    out = out.join(pools.select("pool", "year", "title", "budget_yuan"), on=["pool", "year"], how="left")
    return out.select("pool", "title", "year", "budget_yuan", "measure", *STAT_COLUMNS)


def funder_figures(funder_years: pl.LazyFrame, *, runs: int) -> pl.DataFrame:
    """Per funder (province, city, district, county) and year, grants across runs.

    Columns: funder, year, measure (granted), then :data:`STAT_COLUMNS`.
    """
    return by_measure(funder_runs(funder_years, runs=runs), ["funder", "year"], ("granted",), runs=runs)


# --------------------------------------------------------------------------- risk of running dry

def pool_exposure(pool_years: pl.LazyFrame, program_years: pl.LazyFrame, *, runs: int, pools: pl.DataFrame) -> pl.LazyFrame:
    """Per run, pool and year: the demand that counts against the budget, and the date the pool ran dry.

    What counts is everything since the pool last opened (:func:`pool_opened`): an annual
    pool's rows are the year's demand and dry date; a life pool (one budget for all years)
    cumulates demand since the start of the horizon and keeps the first date it ran dry,
    so that each year's row answers "has it run dry by the end of this year?".  Columns:
    run, pool, year, period, opened, demand, payable (payable demand, see the module's
    docstring: what the budget needed is sized on), dry_on (date or null).
    """
    demand = pool_runs(program_years, runs=runs, pools=pools).select("run", "pool", "year", "demand", "payable")
    dry = pool_years.select("run", "pool", "year", pl.col("exhausted_on").alias("dry_on"))
    since = dict(partition_by=["run", "pool", "opened"], order_by="year")
    return (demand.join(dry, on=["run", "pool", "year"], how="left")
            .join(pools.lazy().select("pool", "year", "period"), on=["pool", "year"], how="left")
            .join(pool_opened(pools).lazy(), on=["pool", "year"], how="left")
            .with_columns(pl.col("period").fill_null("year"), pl.col("opened").fill_null(pl.col("year")))
            .with_columns(pl.col("demand", "payable").cum_sum().over(**since),
                          pl.col("dry_on").cum_min().forward_fill().over(**since))
            .select("run", "pool", "year", "period", "opened", "demand", "payable", "dry_on"))


def pool_opened(pools: pl.DataFrame) -> pl.DataFrame:
    """Per pool and year, the budget year in which the pool last opened: pool, year, opened.

    The rule is the engines' own (:func:`sim.scenario.model.pool_openings`), applied to the
    period and budgets the manifest records.
    """
    rows = []
    for (pool,), part in pools.sort("year").group_by("pool", maintain_order=True):
        years = part["year"].to_list()
        opens = pool_openings(part["period"][0], dict(zip(years, part["budget_yuan"].to_list())), years)
        opened = None
        for year in years:
            opened = year if year in opens else opened
            rows.append({"pool": pool, "year": year, "opened": opened})
    return pl.DataFrame(rows, schema={"pool": pl.String, "year": pl.Int32, "opened": pl.Int32})


def pool_risk(pool_years: pl.LazyFrame, program_years: pl.LazyFrame, *, runs: int, risk: float,
              pools: pl.DataFrame) -> pl.DataFrame:
    """Per pool and year: chance and date of running dry, and the budget needed at ``risk``.

    Columns:

    - pool, title, rationing, period (year|life), year, basis (year: that year's demand;
      cumulative: a life pool's demand since the start of the horizon), demand_basis
      (payable: the budget needed is a quantile of payable demand; demand: of all that was
      asked, for a run written before payable demand was recorded), budget_yuan (null: no
      limit), runs;
    - dry_runs, p_dry (share of runs where the pool ran dry), p_dry_se, p_dry_lo, p_dry_hi
      (Wilson 95% interval);
    - dry_p10, dry_p50, dry_p90 (dates, among runs where it ran dry; null if none),
      dry_p50_lo, dry_p50_hi (95% interval of the median date);
    - risk, budget_needed_yuan (smallest budget with P(payable demand ≥ budget) ≤ risk),
      budget_needed_lo, budget_needed_hi (95% interval; null where N runs cannot bound it).
    """
    check_risk(risk)
    m = math.floor(risk * runs + 1e-9)
    rank = runs - m
    ranks = quantile_ranks(runs, 1 - risk)
    exposure = pool_exposure(pool_years, program_years, runs=runs, pools=pools)
    grouped = (exposure.group_by("pool", "year")
               .agg(pl.len().alias("runs"),
                    pl.col("dry_on").is_not_null().sum().cast(pl.Int64).alias("dry_runs"),
                    pl.col("dry_on").drop_nulls().sort().alias("_dates"),
                    _get_sorted("payable", rank).alias("_needed"),
                    _get_sorted("payable", ranks.lo).alias("_needed_lo"),
                    _get_sorted("payable", ranks.hi).alias("_needed_hi"))
               .collect(engine="streaming"))
    _check_runs(grouped, runs)
    rows = []
    for g in grouped.iter_rows(named=True):
        rows.append({"pool": g["pool"], "year": g["year"], **_dry_figures(g["dry_runs"], runs, g["_dates"]),
                     "budget_needed_yuan": _plus_one(g["_needed"]), "budget_needed_lo": _plus_one(g["_needed_lo"]),
                     "budget_needed_hi": _plus_one(g["_needed_hi"])})
    schema = {"pool": pl.String, "year": pl.Int32, "dry_runs": pl.Int64, "p_dry": pl.Float64, "p_dry_se": pl.Float64,
              "p_dry_lo": pl.Float64, "p_dry_hi": pl.Float64, "dry_p10": pl.Date, "dry_p50": pl.Date, "dry_p90": pl.Date,
              "dry_p50_lo": pl.Date, "dry_p50_hi": pl.Date, "budget_needed_yuan": pl.Int64, "budget_needed_lo": pl.Int64,
              "budget_needed_hi": pl.Int64}
    figures = pl.DataFrame(rows, schema=schema)
    out = (pools.join(figures, on=["pool", "year"], how="inner")
           .with_columns(pl.when(pl.col("period") == "life").then(pl.lit("cumulative")).otherwise(pl.lit("year")).alias("basis"),
                         pl.lit(demand_basis(program_years)).alias("demand_basis"),
                         pl.lit(runs, pl.Int64).alias("runs"), pl.lit(risk).alias("risk")))
    return out.select("pool", "title", "rationing", "period", "year", "basis", "demand_basis", "budget_yuan", "runs", "dry_runs",
                      "p_dry", "p_dry_se", "p_dry_lo", "p_dry_hi", "dry_p10", "dry_p50", "dry_p90", "dry_p50_lo",
                      "dry_p50_hi", "risk", "budget_needed_yuan", "budget_needed_lo", "budget_needed_hi").sort("pool", "year")


def check_risk(risk: float) -> None:
    if not 0 < risk < 1:
        raise OptionError("--risk", risk, "must be a probability strictly between 0 and 1, e.g. --risk 0.05 for 5%")


def _get_sorted(col: str, rank: int | None) -> pl.Expr:
    return pl.col(col).sort().get(rank - 1) if rank is not None else pl.lit(None, pl.Int64)


def _plus_one(value: int | None) -> int | None:
    """A budget equal to the demand runs dry (the balance reaches 0); one yuan more does not."""
    return None if value is None else int(value) + 1


def _dry_figures(dry_runs: int, runs: int, dates: list[dt.date]) -> dict:
    lo, hi = wilson(dry_runs, runs)
    out = {"dry_runs": dry_runs, "p_dry": dry_runs / runs, "p_dry_se": proportion_se(dry_runs, runs),
           "p_dry_lo": 0.0 if dry_runs == 0 else lo, "p_dry_hi": 1.0 if dry_runs == runs else hi}
    days = np.array([(d - EPOCH).days for d in dates], dtype=np.int64)
    for q in DRY_QUANTILES:
        est, qlo, qhi = order_statistics(days, q)
        out[f"dry_{pct(q)}"] = _date(est)
        if q == 0.5:
            out["dry_p50_lo"], out["dry_p50_hi"] = _date(qlo), _date(qhi)
    return out


def _date(days: float | None) -> dt.date | None:
    if days is None or (isinstance(days, float) and math.isnan(days)):
        return None
    return EPOCH + dt.timedelta(days=int(days))


def dry_curve(exposure: pl.LazyFrame, *, runs: int) -> pl.DataFrame:
    """Probability that a pool has run dry by each date: pool, period, year, date, p_dry_by.

    The curve starts again at 0 each time the pool opens: every year for an annual pool,
    once for a life pool, whose curve accumulates over the horizon.  Only dates on which
    some run's pool ran dry appear (the curve is a step function between them).
    """
    first = (exposure.filter(pl.col("dry_on").is_not_null())
             .group_by("run", "pool", "period", "opened").agg(pl.col("dry_on").min()))
    curve = (first.group_by("pool", "period", "opened", "dry_on").agg(pl.len().alias("n"))
             .with_columns(pl.col("n").cum_sum().over(["pool", "opened"], order_by="dry_on")))
    return (curve.select("pool", "period", pl.col("dry_on").dt.year().cast(pl.Int32).alias("year"),
                         pl.col("dry_on").alias("date"), (pl.col("n").cast(pl.Float64) / runs).alias("p_dry_by"))
            .sort("pool", "date").collect())


# --------------------------------------------------------------------------- grants through the year

def daily_grants(awards: pl.LazyFrame, programs: pl.DataFrame) -> pl.DataFrame:
    """Grants per run, pool, budget year and date, summed from the awards ledger (streamed).

    Columns: run, pool, year, date, granted_yuan.  Call it on a slice of runs (see
    :func:`cumulative_grants`): on all runs the result is almost as long as the ledger.
    """
    pool_of = programs.lazy().select("policy", "program", "pool")
    return (awards.filter(pl.col("granted_yuan") > 0)
            .select("run", "date", "policy", "program", "granted_yuan")
            .join(pool_of, on=["policy", "program"], how="left")
            .group_by("run", "pool", pl.col("date").dt.year().cast(pl.Int32).alias("year"), "date")
            .agg(pl.col("granted_yuan").sum())
            .collect(engine="streaming"))


def cumulative_grants(awards: pl.LazyFrame, *, runs: int, programs: pl.DataFrame, chunk: int = 200) -> pl.DataFrame:
    """Fan of cumulative grants through each pool's year: pool, year, date, p10, p50, p90 (yuan).

    For each day of the budget year, the 10th/50th/90th percentiles across runs of what the
    pool has granted since 1 January (runs with no grant yet count as 0).  The ledger is
    read ``chunk`` runs at a time (the filter on ``run`` skips the other Parquet parts), so
    memory holds one slice of it plus a runs × days array per pool-year that granted money.
    """
    grids: dict[tuple[str, int], np.ndarray] = {}
    for first_run in range(0, runs, chunk):
        daily = daily_grants(awards.filter(pl.col("run").is_between(first_run, first_run + chunk - 1)), programs)
        for (pool, year), part in daily.group_by("pool", "year"):
            start = (dt.date(year, 1, 1) - EPOCH).days
            if (pool, year) not in grids:
                grids[(pool, year)] = np.zeros((runs, (dt.date(year, 12, 31) - dt.date(year, 1, 1)).days + 1), dtype=np.int64)
            day = part["date"].cast(pl.Int64).to_numpy() - start
            np.add.at(grids[(pool, year)], (part["run"].to_numpy(), day), part["granted_yuan"].to_numpy())
    schema = {"pool": pl.String, "year": pl.Int32, "date": pl.Date, **{pct(q): pl.Int64 for q in FAN}}
    rows = [pl.DataFrame(schema=schema)]
    for (pool, year), grid in sorted(grids.items()):
        cum = np.cumsum(grid, axis=1, out=grid)
        ranks = [quantile_ranks(runs, q).k - 1 for q in FAN]
        picked = np.partition(cum, ranks, axis=0)[ranks]
        n_days = cum.shape[1]
        rows.append(pl.DataFrame({"pool": [pool] * n_days, "year": [year] * n_days,
                                  "date": [dt.date(year, 1, 1) + dt.timedelta(days=i) for i in range(n_days)],
                                  **{pct(q): picked[i] for i, q in enumerate(FAN)}}, schema=schema))
        del grids[(pool, year)]
    return pl.concat(rows).sort("pool", "year", "date")


# --------------------------------------------------------------------------- the whole report

@dataclass(frozen=True)
class Report:
    """All figures of one run's outputs; see each function for its columns."""

    out: Path
    manifest: Manifest
    runs: int
    risk: float
    programs: pl.DataFrame       # program_figures
    pools: pl.DataFrame          # pool_figures
    funders: pl.DataFrame        # funder_figures
    pool_risk: pl.DataFrame      # pool_risk
    pool_demand: pl.DataFrame    # per run: pool, year, period, run, demand, payable (as counted against the budget)
    dry_curve: pl.DataFrame      # dry_curve
    fan: pl.DataFrame | None     # cumulative_grants; None when the run has no awards table
    cash: pl.DataFrame | None = None          # sim.report.cash.cash_budgets; None for a run without cash tables
    cash_figures: pl.DataFrame | None = None  # sim.report.cash.cash_figures
    cash_fan: pl.DataFrame | None = None      # sim.report.cash.cash_fan
    cash_monthly: pl.DataFrame | None = None  # sim.report.cash.cash_monthly
    sensitivity: pl.DataFrame | None = None  # sim.report.sensitivity.sensitivity; None without uncertain numbers

    @property
    def years(self) -> list[int]:
        return sorted(self.pool_risk["year"].unique().to_list())

    def active_pools(self) -> list[str]:
        """Pools with demand in some run (the others had no applications at all)."""
        demand = self.pools.filter((pl.col("measure") == "demand") & (pl.col("p99") > 0))
        return sorted(demand["pool"].unique().to_list())

    def active_programs(self) -> pl.DataFrame:
        keys = self.programs.filter((pl.col("measure") == "demand") & (pl.col("p99") > 0)).select("policy", "program").unique()
        return self.programs.join(keys, on=["policy", "program"], how="semi")

    def idle_programs(self) -> pl.DataFrame:
        """Programs of the run's policies with no demand in any run (policy, program, clause, title, pool).

        No segment of the scenario takes them up, or no firm that does qualifies: every
        total of a pool or funder here leaves them out, which a reader must be told.
        """
        active = self.active_programs().select("policy", "program").unique()
        return program_meta(self.manifest).join(active, on=["policy", "program"], how="anti", maintain_order="left")

    def _repr_html_(self) -> str:
        """In Jupyter: the risk table — per pool and year, P(dry) ± se and the budget needed with its 95% interval."""
        m = self.manifest
        head = (f"<p><b>Budget report</b> {esc(m.scenario.name)} {esc(m.scenario.title)} · {self.runs} runs · "
                f"seed {m.seed} · budget needed at {percent(self.risk, 1)} risk · amounts in 万元</p>")
        rows = []
        for r in self.pool_risk.filter(pl.col("pool").is_in(shown_pools(self))).iter_rows(named=True):
            limited = r["budget_yuan"] is not None
            rows.append([Cell(r["pool"], sub=r["title"] or ""), Cell(str(r["year"])),
                         Cell(wan(r["budget_yuan"], 0) if limited else "no limit", num=True),
                         Cell(f"{percent(r['p_dry'])} ± {percent(r['p_dry_se'])}" if limited else "—", num=True),
                         Cell(wan_up(r["budget_needed_yuan"]), num=True),
                         Cell(interval(r["budget_needed_lo"], r["budget_needed_hi"], wan_up), num=True)])
        headers = ["pool", "year", Cell("budget", num=True), Cell("P(dry) ± se", num=True),
                   Cell("budget needed", num=True), Cell("95% CI", num=True)]
        style = ("<style>.sim-report td.num, .sim-report th.num {text-align: right} "
                 ".sim-report .sub {display: block; color: #666; font-size: smaller}</style>")
        return f'<div class="sim-report">{style}{head}{table(headers, rows)}</div>'


def build_report(out: str | Path, *, risk: float = 0.05) -> Report:
    """Read a complete run's outputs and compute every figure of the report.

    The folder's lock is held while it is read (a run writing it makes this refuse,
    naming that run), and every table is read against one and the same manifest, so the
    figures belong to exactly one run.  Raises :class:`OutputError` when ``out`` is not a
    complete run or a part is damaged (see :func:`sim.runs.storage.scan`), and
    :class:`FolderBusy` when another process writes it.
    """
    check_risk(risk)
    out = Path(out)
    read_manifest(out)  # not a run: refused before the folder's lock is taken
    with locked(out, create=False, reading=True):
        if holds(out):
            recover(out)
        manifest = read_manifest(out)
        try:
            return _figures(out, manifest, risk)
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise OutputError(f"{out}: cannot read the run's tables ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
                              f"if a part is damaged, delete it and run `{resume_command(manifest, out)}`") from None


def _figures(out: Path, manifest: Manifest, risk: float) -> Report:
    runs = manifest.runs
    program_years = scan(out, "program_years", manifest=manifest)
    pool_years = scan(out, "pool_years", manifest=manifest)
    funder_years = scan(out, "funder_years", manifest=manifest)
    programs, pools = program_meta(manifest), pool_meta(manifest)
    exposure = pool_exposure(pool_years, program_years, runs=runs, pools=pools)
    fan = None
    if "awards" in manifest.tables:
        fan = cumulative_grants(scan(out, "awards", manifest=manifest), runs=runs, programs=programs)
    ranking = None
    if "parameters" in manifest.tables:
        values = run_figures(exposure, pool_runs(program_years, runs=runs, pools=pools), pools)
        ranking = sensitivity(scan(out, "parameters", manifest=manifest).collect(), values, seed=manifest.seed)
    return Report(
        out=out, manifest=manifest, runs=runs, risk=risk,
        programs=program_figures(program_years, runs=runs, programs=programs),
        pools=pool_figures(program_years, runs=runs, pools=pools),
        funders=funder_figures(funder_years, runs=runs),
        pool_risk=pool_risk(pool_years, program_years, runs=runs, risk=risk, pools=pools),
        pool_demand=exposure.select("pool", "year", "period", "run", "demand", "payable").collect(engine="streaming"),
        dry_curve=dry_curve(exposure, runs=runs),
        fan=fan,
        sensitivity=ranking,
        **_cash(out, manifest, risk),
    )


def _cash(out: Path, manifest: Manifest, risk: float) -> dict[str, pl.DataFrame]:
    """The cash figures, when the run has its cash tables (runs written before them have none)."""
    if "cash_years" not in manifest.tables:
        return {}
    from sim.report import cash  # it builds on this module's distributions

    years, months = scan(out, "cash_years", manifest=manifest), scan(out, "cash_months", manifest=manifest)
    runs = manifest.runs
    return {"cash": cash.cash_budgets(years, runs=runs, risk=risk), "cash_figures": cash.cash_figures(years, runs=runs),
            "cash_fan": cash.cash_fan(months, runs=runs), "cash_monthly": cash.cash_monthly(months, runs=runs)}


def summary_long(report: Report) -> pl.DataFrame:
    """Every figure as one tidy table, the layout of ``summary.parquet``.

    Columns: kind (program|pool|funder|cash), key (policy.program, pool, funder, or
    ``pool|funder`` for cash, ``all`` for a total), year, measure (demand, granted, unmet;
    for pools also p_dry, dry_date, budget, budget_needed; for cash committed, paid,
    outstanding, lapsed, budget_needed_commitment, budget_needed_cash), stat (mean, se,
    p5, p5_lo, p5_hi, …, p99_hi; for p_dry: value, se,
    lo, hi; for dry_date: p10, p50, p50_lo, p50_hi, p90; for budget: value; for
    budget_needed: value, lo, hi), value (Float64), unit (yuan | share | date: days since
    1970-01-01), demand_basis (on a pool's budget_needed rows: ``payable`` or ``demand``,
    what the quantile is of; null elsewhere).  Null values (an interval N runs cannot
    bound) are kept as nulls.
    """
    stats = list(STAT_COLUMNS[1:])

    def melt(frame: pl.DataFrame, kind: str, key: pl.Expr) -> pl.DataFrame:
        wide = frame.select(pl.lit(kind).alias("kind"), key.alias("key"), "year", "measure",
                            *[pl.col(s).cast(pl.Float64) for s in stats])
        return wide.unpivot(index=["kind", "key", "year", "measure"], on=stats, variable_name="stat").with_columns(pl.lit("yuan").alias("unit"))

    parts = [melt(report.programs, "program", pl.concat_str("policy", pl.lit("."), "program")),
             melt(report.pools, "pool", pl.col("pool")),
             melt(report.funders, "funder", pl.col("funder"))]
    r = report.pool_risk
    risk_cols = {("p_dry", "value", "share"): "p_dry", ("p_dry", "se", "share"): "p_dry_se",
                 ("p_dry", "lo", "share"): "p_dry_lo", ("p_dry", "hi", "share"): "p_dry_hi",
                 ("dry_date", "p10", "date"): "dry_p10", ("dry_date", "p50", "date"): "dry_p50",
                 ("dry_date", "p50_lo", "date"): "dry_p50_lo", ("dry_date", "p50_hi", "date"): "dry_p50_hi",
                 ("dry_date", "p90", "date"): "dry_p90", ("budget", "value", "yuan"): "budget_yuan",
                 ("budget_needed", "value", "yuan"): "budget_needed_yuan",
                 ("budget_needed", "lo", "yuan"): "budget_needed_lo", ("budget_needed", "hi", "yuan"): "budget_needed_hi"}
    for (measure, stat, unit), col in risk_cols.items():
        value = pl.col(col).cast(pl.Int64).cast(pl.Float64) if unit == "date" else pl.col(col).cast(pl.Float64)
        parts.append(r.select(pl.lit("pool").alias("kind"), pl.col("pool").alias("key"), "year",
                              pl.lit(measure).alias("measure"), pl.lit(stat).alias("stat"), value.alias("value"),
                              pl.lit(unit).alias("unit")))
    if report.cash_figures is not None:
        key = pl.concat_str("pool", pl.lit("|"), "funder")
        parts.append(melt(report.cash_figures, "cash", key))
        for basis, m in (("commitment", "committed"), ("cash", "paid")):
            for stat, col in (("value", f"{m}_needed"), ("lo", f"{m}_needed_lo"), ("hi", f"{m}_needed_hi")):
                parts.append(report.cash.select(pl.lit("cash").alias("kind"), key.alias("key"), "year",
                                                pl.lit(f"budget_needed_{basis}").alias("measure"), pl.lit(stat).alias("stat"),
                                                pl.col(col).cast(pl.Float64).alias("value"), pl.lit("yuan").alias("unit")))
    basis = report.pool_risk["demand_basis"][0] if report.pool_risk.height else None
    on_pool_needed = (pl.col("kind") == "pool") & (pl.col("measure") == "budget_needed")
    return pl.concat(parts).with_columns(pl.col("year").cast(pl.Int32),
                                         pl.when(on_pool_needed).then(pl.lit(basis)).otherwise(None).cast(pl.String).alias("demand_basis"))


def dry_at(pool_demand: pl.DataFrame, pool: str, year: int, budget: int) -> tuple[int, int, float]:
    """What the page's budget box shows for a budget: runs whose payable demand reaches it, runs, mean unmet yuan.

    ``pool_demand`` is :attr:`Report.pool_demand` (demand as counted against the budget:
    a life pool's cumulated).  A pool without all-or-nothing grants runs dry exactly in
    those runs; the unmet payable demand is ``mean(max(payable − budget, 0))`` over all runs.
    """
    demand = pool_demand.filter((pl.col("pool") == pool) & (pl.col("year") == year))["payable"].to_numpy()
    if len(demand) == 0:
        return 0, 0, 0.0
    return int((demand >= budget).sum()), len(demand), float(np.maximum(demand - budget, 0).mean())


def shown_pools(report: Report) -> list[str]:
    """Pools worth showing: those with a budget or with demand in some run."""
    budgeted = report.pool_risk.filter(pl.col("budget_yuan").is_not_null())["pool"].unique().to_list()
    return sorted(set(budgeted) | set(report.active_pools()))


def imprecise(report: Report, *, tolerance: float = 0.05) -> pl.DataFrame:
    """Rows of :attr:`Report.pool_risk` (shown pools) whose budget needed is uncertain by more than ``tolerance``.

    Uncertain means the 95% interval of the budget needed reaches further than
    ``tolerance`` (relative) from the estimate on either side, or N runs cannot bound it.
    Intervals shrink about as 1/√N: four times the runs halve them.
    """
    est, lo, hi = pl.col("budget_needed_yuan"), pl.col("budget_needed_lo"), pl.col("budget_needed_hi")
    width = pl.max_horizontal(est - lo, hi - est).cast(pl.Float64) / est.cast(pl.Float64)
    demand = report.pool_demand.group_by("pool", "year").agg(pl.col("demand").max().alias("_max"))
    return (report.pool_risk.filter(pl.col("pool").is_in(shown_pools(report)))
            .join(demand, on=["pool", "year"], how="left")
            .filter(pl.col("_max") > 0)
            .with_columns(width.alias("halfwidth"))
            .filter(lo.is_null() | hi.is_null() | (pl.col("halfwidth") > tolerance))
            .drop("_max"))


def left_out(report: Report, *, titles: bool) -> list[str]:
    """The programs every total leaves out (:meth:`Report.idle_programs`) as a reader finds them: key
    (without the policy where the run has one), clause and, with ``titles``, title."""
    single = report.manifest.single_policy
    return [f"{short_pool(r['policy'] + '.' + r['program'], single)} {r['clause'] or ''}{(r['title'] or '') if titles else ''}".strip()
            for r in report.idle_programs().iter_rows(named=True)]


def pool_summary(out: str | Path) -> pl.DataFrame:
    """The short table `sim run` prints: per pool and year, budget, demand and grants (p50, p90), P(dry) ± se.

    Percentiles as in the report (the ``ceil(N q)``-th smallest of the runs' values, runs
    without demand counting as 0), so that `sim run` and `sim report` agree on one folder.
    Columns: pool, year, budget, demand_p50, demand_p90, granted_p50, granted_p90, p_dry, p_dry_se (the
    standard error of the share, as the report gives it).
    """
    out = Path(out)
    manifest = read_manifest(out)
    runs, pools = manifest.runs, pool_meta(manifest)
    program_years = scan(out, "program_years", manifest=manifest)
    per_run = pool_runs(program_years, runs=runs, pools=pools)
    k50, k90 = quantile_ranks(runs, 0.5).k, quantile_ranks(runs, 0.9).k
    figures = (per_run.group_by("pool", "year")
               .agg(*[pl.col(m).sort().get(k - 1).alias(f"{m}_p{q}") for m in ("demand", "granted") for q, k in ((50, k50), (90, k90))])
               .collect())
    dry = (scan(out, "pool_years", manifest=manifest).group_by("pool", "year")
           .agg(pl.col("exhausted_on").is_not_null().sum().alias("dry_runs")).collect())
    table = (pools.select("pool", "year", pl.col("budget_yuan").alias("budget"))
             .join(figures, on=["pool", "year"], how="left").join(dry, on=["pool", "year"], how="left")
             .with_columns(pl.col("dry_runs").fill_null(0)))
    se = [proportion_se(k, runs) for k in table["dry_runs"].to_list()]  # as the report's pool_risk
    return (table.with_columns(p_dry=pl.col("dry_runs") / runs, p_dry_se=pl.Series(se, dtype=pl.Float64))
            .select("pool", "year", "budget", "demand_p50", "demand_p90", "granted_p50", "granted_p90", "p_dry", "p_dry_se")
            .sort("pool", "year"))
