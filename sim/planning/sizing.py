"""Sizing: the budget per pool and year that keeps the chance of running dry at a target risk.

A finance department asks "what must we put in the budget so that the compute-voucher
pool runs dry in at most one year out of twenty?".  Sizing answers in three steps:

1. run the scenario as it is (``base/``);
2. for each pool with a budget and each budget year, take the smallest budget ``B`` with
   ``P(payable demand ≥ B) ≤ risk`` across runs — payable demand is what the pool would
   grant with unlimited money (count limits and shared caps applied), and a pool runs dry
   exactly when it reaches the budget (see :mod:`sim.report.figures`) — with its 95%
   interval from order statistics;
3. run the scenario again with the same seed and every sized pool's budget replaced by
   its year → amount mapping (``confirm/``), and report the chance of running dry that
   these budgets achieve, with its standard error.

The confirmation uses the same random draws (common random numbers), so it checks the
rationing mechanics the payable criterion leaves out (all-or-nothing grants, top-ups
that grow after a partial grant, a firm's later claims once a one-time award was
refused), not the Monte Carlo error: that is the interval of step 2.  Both steps are on
the same basis, ``demand_basis`` (``payable``; ``demand`` only where a run was written
before payable demand was recorded).

That is the **commitment** basis (the default): a pool's budget limits what is granted
in a year.  On the **cash** basis (``basis="cash"``) the same three steps size the pools,
and then the run with the sized budgets (``confirm/``, else ``base/``) says what the
treasury pays each fiscal year: per pool (all its funders) and per funder (all pools),
the cash budget needed at ``risk`` — the amount the year's cash exceeds in at most that
share of runs (:mod:`sim.report.cash`) — beside the commitments, for every year with
cash, the tail after the horizon included, and for pools without a limit too.  A pool with one budget over the policy's life is
sized as one amount on its demand cumulated over the horizon.  Pools with no limit are
not sized (``sim report`` shows what they would need); pool-years without any demand
keep their budget.

Examples
--------
>>> from sim.scenario.load import load_scenario
>>> result = size(load_scenario("scenarios/binjiang.yaml"), risk=0.05, runs=200, out="outputs/binjiang-size", force=True)  # doctest: +SKIP
>>> result.table.select("pool", "year", "budget_needed_yuan", "p_dry_confirmed")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

import polars as pl

from sim.errors import OptionError, OutputError
from sim.report.cash import ALL, cash_budgets, several_funders
from sim.report.figures import pool_meta, pool_risk, pool_runs
from sim.runs.lock import locked
from sim.runs.runner import RunResult, check_options, output_folder, simulate
from sim.runs.storage import MANIFEST, scan
from sim.scenario.schema import Scenario

COLUMNS = ("pool", "title", "rationing", "period", "year", "budget_yuan", "runs", "p_dry", "p_dry_se",
           "demand_mean", "payable_mean", "demand_basis", "risk", "budget_needed_yuan", "budget_needed_lo", "budget_needed_hi", "change_yuan",
           "p_dry_confirmed", "p_dry_confirmed_se", "p_dry_confirmed_hi", "within_risk")


Basis = Literal["commitment", "cash"]
CASH_COLUMNS = ("pool", "title", "funder", "year", "budget_yuan", "runs", "committed_mean", "committed_needed",
                "paid_mean", "paid_needed", "paid_needed_lo", "paid_needed_hi", "outstanding_mean", "lapsed_mean", "risk")


@dataclass
class Sizing:
    """A sizing's results: the table (see :func:`size`), both runs, and the pools left out and why.

    ``cash`` (basis cash): the cash budget per pool or funder and fiscal year with the sized budgets.
    """

    table: pl.DataFrame
    base: RunResult
    confirm: RunResult | None
    skipped: list[tuple[str, str]] = field(default_factory=list)
    out: Path = Path(".")
    basis: Basis = "commitment"
    cash: pl.DataFrame | None = None


def size(
    scenario: Scenario,
    *,
    risk: float = 0.05,
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
    force: bool = False,
    basis: Basis = "commitment",
    progress: Callable[[str, int, int], None] | None = None,
) -> Sizing:
    """Size every pool with a budget at ``risk``; confirm with a second run; write the results.

    Writes ``base/`` and ``confirm/`` (run outputs), ``sizing.parquet`` and ``sizing.csv``
    in ``out`` (default ``outputs/<scenario>-size``).  The table has one row per sized pool
    and year: pool, title, rationing, period (year|life; a life pool has one row, its last
    year, for the whole horizon), year, budget_yuan (now), runs, p_dry and p_dry_se (with
    the budget now), demand_mean, payable_mean (mean payable demand), demand_basis (what
    the budget needed is a quantile of: payable), risk, budget_needed_yuan with
    budget_needed_lo/hi (95% interval), change_yuan (needed − now), p_dry_confirmed, p_dry_confirmed_se and
    p_dry_confirmed_hi (Wilson upper bound) with the sized budgets, and within_risk
    (p_dry_confirmed ≤ risk).

    With ``basis="cash"`` it also writes ``sizing_cash.parquet`` and ``sizing_cash.csv``:
    per pool (funder ``all``) and per funder (pool ``all``; and both ``all`` when there are
    several funders) and fiscal year with cash, from
    the run with the sized budgets: pool, title, funder, year, budget_yuan (the pool's
    budget in that run; null without a limit or after the horizon), runs, committed_mean,
    committed_needed, paid_mean, paid_needed with paid_needed_lo/hi (95% interval),
    outstanding_mean (at the year's end), lapsed_mean, risk.

    Raises :class:`OptionError` for a basis other than commitment or cash, and
    :class:`OutputError` if ``out`` holds an earlier sizing and not ``force``.
    """
    check_options(runs=runs, seed=seed, batch_size=None, workers=workers, engine="auto", resume=False, force=force)
    if basis not in ("commitment", "cash"):
        raise OptionError("--basis", basis, "must be commitment (what a pool's budget limits: grants in the year "
                          "decided; the default) or cash (what the treasury pays each year)")
    out = output_folder(out, scenario) if out is not None else Path("outputs") / f"{scenario.name}-size"
    with locked(out):
        _prepare(out, force)
        return _size(scenario, out, risk=risk, runs=runs, seed=seed, workers=workers, basis=basis, progress=progress)


def _size(scenario: Scenario, out: Path, *, risk: float, runs: int | None, seed: int | None, workers: int | None,
          basis: Basis, progress: Callable[[str, int, int], None] | None) -> Sizing:
    report = (lambda stage: (lambda done, total: progress(stage, done, total))) if progress else (lambda stage: None)
    base = simulate(scenario, runs=runs, seed=seed, workers=workers, out=out / "base", force=True, progress=report("base"))
    n = base.manifest.runs
    pools = pool_meta(base.manifest)
    figures = _figures(out / "base", pools, n, risk)
    sized, skipped = _choose(figures, pools, out / "base", n)
    budgets = _budgets(sized, figures)
    confirm = None
    if budgets:
        variant = scenario.with_overrides({_override_path(pool): value for pool, value in budgets.items()})
        confirm = simulate(variant, runs=n, seed=base.manifest.seed, workers=workers, out=out / "confirm", force=True,
                           progress=report("confirm"))
        achieved = _figures(out / "confirm", pool_meta(confirm.manifest), n, risk)
        sized = sized.join(achieved.select("pool", "year", pl.col("p_dry").alias("p_dry_confirmed"),
                                           pl.col("p_dry_se").alias("p_dry_confirmed_se"),
                                           pl.col("p_dry_hi").alias("p_dry_confirmed_hi")), on=["pool", "year"], how="left")
    else:
        sized = sized.with_columns(pl.lit(None, pl.Float64).alias(c) for c in ("p_dry_confirmed", "p_dry_confirmed_se", "p_dry_confirmed_hi"))
    table = (sized.with_columns((pl.col("budget_needed_yuan") - pl.col("budget_yuan")).alias("change_yuan"),
                                (pl.col("p_dry_confirmed") <= pl.col("risk") + 1e-12).alias("within_risk"))
             .select(COLUMNS).sort("pool", "year"))
    cash = _cash(confirm or base, risk) if basis == "cash" else None
    _write(out, table, base.manifest, cash)
    return Sizing(table=table, base=base, confirm=confirm, skipped=skipped, out=out, basis=basis, cash=cash)


def _cash(result: RunResult, risk: float) -> pl.DataFrame:
    """The cash each fiscal year of a run, per pool and per funder, with the cash budget needed at ``risk``."""
    manifest = result.manifest
    if "cash_years" not in manifest.tables:
        raise OutputError(f"{result.out}: the run has no cash tables; sizing on a cash basis needs a run that records payments")
    budgets = cash_budgets(scan(result.out, "cash_years"), runs=manifest.runs, risk=risk)
    pools = pool_meta(manifest)
    overall = ALL in several_funders(budgets)  # with several funders, everything together too
    totals = ((pl.col("funder") == ALL) & (pl.col("pool") != ALL) | (pl.col("pool") == ALL) & (pl.col("funder") != ALL)
              | (pl.col("pool") == ALL) & (pl.col("funder") == ALL) & pl.lit(overall))
    moves = (pl.col("paid_mean") > 0) | (pl.col("committed_mean") > 0) | (pl.col("outstanding_mean") > 0)
    return (budgets.filter(totals & moves)
            .join(pools.select("pool", "year", "title", "budget_yuan"), on=["pool", "year"], how="left")
            .select(CASH_COLUMNS).sort(pl.col("pool") == ALL, "pool", pl.col("funder") == ALL, "funder", "year"))


def _prepare(out: Path, force: bool) -> None:
    """Refuse an earlier sizing unless ``force``; its files are replaced only when the new one is done."""
    earlier = [p for p in (out / "sizing.parquet", out / "base" / MANIFEST, out / "confirm" / MANIFEST) if p.exists()]
    if earlier and not force:
        raise OutputError(f"{out}: holds an earlier sizing ({earlier[0].relative_to(out)}); add --force to replace it or choose another --out")


def _figures(run_dir: Path, pools: pl.DataFrame, runs: int, risk: float) -> pl.DataFrame:
    """pool_risk of a run, with the mean demand and payable demand beside it."""
    program_years = scan(run_dir, "program_years")
    risk_rows = pool_risk(scan(run_dir, "pool_years"), program_years, runs=runs, risk=risk, pools=pools)
    demand = (pool_runs(program_years, runs=runs, pools=pools).group_by("pool", "year")
              .agg(pl.col("demand").mean().alias("demand_mean"), pl.col("payable").mean().alias("payable_mean"),
                   pl.col("demand").max().alias("demand_max")).collect())
    return risk_rows.join(demand, on=["pool", "year"], how="left")


def _choose(figures: pl.DataFrame, pools: pl.DataFrame, run_dir: Path, runs: int) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    """The rows to size (budgeted pool-years; a life pool's last year) and the pools left out, with why."""
    skipped: list[tuple[str, str]] = []
    rows = []
    last_year = figures["year"].max()
    for (pool,), part in figures.group_by("pool", maintain_order=True):
        budgeted = part.filter(pl.col("budget_yuan").is_not_null())
        if budgeted.height == 0:
            continue
        if (part["demand_max"].fill_null(0) == 0).all():
            skipped.append((pool, "no demand in any run: its budget is kept"))
            continue
        if part["period"][0] == "life":
            rows.append(budgeted.filter(pl.col("year") == last_year))
        else:
            rows.append(budgeted)
    unlimited = figures.group_by("pool").agg(pl.col("budget_yuan").is_null().all().alias("none")).filter("none").height
    if unlimited:
        skipped.append((f"{unlimited} pool(s)" if unlimited > 1 else "1 pool", "no limit in the policy: nothing to size (`sim report` shows what they would need)"))
    frame = pl.concat(rows) if rows else figures.clear()
    return frame.with_columns(pl.lit(runs, pl.Int64).alias("runs")), skipped


def _budgets(sized: pl.DataFrame, figures: pl.DataFrame) -> dict[str, int | dict[int, int]]:
    """The override per pool: one amount for a life pool; year → amount for an annual one.

    Years without demand keep their current budget; years without a budget stay unlimited.
    """
    out: dict[str, int | dict[int, int]] = {}
    for (pool,), part in sized.group_by("pool", maintain_order=True):
        if part["period"][0] == "life":
            out[pool] = int(part["budget_needed_yuan"][0])
            continue
        mapping = {}
        for r in part.iter_rows(named=True):
            mapping[int(r["year"])] = int(r["budget_needed_yuan"]) if (r["demand_max"] or 0) > 0 else int(r["budget_yuan"])
        out[pool] = mapping
    return out


def _override_path(pool: str) -> str:
    policy, _, pool_id = pool.partition(".")
    return f"overrides.{policy}.pools.{pool_id}.budget"


SIZING_UNITS = {"budget_yuan": "yuan", "demand_mean": "yuan", "payable_mean": "yuan",
                "demand_basis": "payable (what the pool can pay) or demand (all that was asked)", "budget_needed_yuan": "yuan", "budget_needed_lo": "yuan",
                "budget_needed_hi": "yuan", "change_yuan": "yuan", "p_dry": "share", "risk": "share"}


CASH_UNITS = {"budget_yuan": "yuan (null: no limit, or after the horizon)", "committed_mean": "yuan",
              "committed_needed": "yuan", "paid_mean": "yuan", "paid_needed": "yuan", "paid_needed_lo": "yuan",
              "paid_needed_hi": "yuan", "outstanding_mean": "yuan", "lapsed_mean": "yuan", "risk": "share"}


def _write(out: Path, table: pl.DataFrame, manifest, cash: pl.DataFrame | None) -> None:
    frames = [("sizing", table, SIZING_UNITS)] + ([("sizing_cash", cash, CASH_UNITS)] if cash is not None else [])
    for stem, frame, units in frames:
        metadata = manifest.parquet_metadata(stem, units)
        parquet = lambda path, frame=frame, metadata=metadata: frame.write_parquet(path, metadata=metadata)  # noqa: E731
        for name, writer in ((f"{stem}.parquet", parquet), (f"{stem}.csv", frame.write_csv)):
            path = out / name
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            writer(tmp)
            os.replace(tmp, path)
    if cash is None:
        for name in ("sizing_cash.parquet", "sizing_cash.csv"):  # an earlier sizing's cash table is not this one's
            (out / name).unlink(missing_ok=True)

