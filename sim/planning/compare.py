"""Comparing two variants run with the same seed: paired differences, pool-year by pool-year.

"How much more does the compute-voucher pool pay if take-up is 0.8 rather than 0.7?"  Two
runs of one scenario's variants with the same seed see the same firms, spending and
application days (common random numbers), so run ``r`` of A and run ``r`` of B differ only
by what the variants change.  The difference of a figure is then estimated from the N
per-run differences, whose spread is far smaller than that of either run: the interval
of a paired difference is much tighter than the one from comparing two independent runs,
which this module reports beside it (``independent_se``) so a reader sees the gain.

Per pool and budget year, for grants and unmet demand (means over runs), the chance of
running dry (a mean of 0/1) and the budget needed at ``risk`` (a quantile of demand, as in
:func:`sim.report.figures.pool_risk`): A's figure, B's, B − A with a 95% interval, and the
standard error of the difference for paired runs and for independent runs.  Means use
the normal interval of the mean paired difference; the budget needed, a quantile, uses a
bootstrap that resamples runs (the same runs for A and B, so the pairing is kept).

Two folders whose seeds or run counts differ share no runs, and a folder whose run is
incomplete holds a partial sample: each is refused with the reason and the fix.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from sim import __version__
from sim.errors import OptionError, OutputError
from sim.report.display import percent, short_pool, wan, wan_up
from sim.report.figures import check_risk, pool_exposure, pool_meta, pool_runs
from sim.report.lang import Lang, tr
from sim.report.page import Cell, box, document, esc, figure, section, table
from sim.report.uncertainty import Z
from sim.runs.lock import locked
from sim.runs.manifest import Manifest, read_manifest
from sim.runs.storage import resume_command, scan

MEASURES = ("granted", "unmet", "p_dry", "budget_needed")
UNITS = {"granted": "yuan", "unmet": "yuan", "p_dry": "share", "budget_needed": "yuan"}
BOOTSTRAP = 1000  # resamples of runs for the budget needed


@dataclass(frozen=True)
class Comparison:
    """Two runs compared: their folders and manifests, the risk, and the table (see :func:`compare_runs`)."""

    a: Path
    b: Path
    manifest_a: Manifest
    manifest_b: Manifest
    risk: float
    table: pl.DataFrame

    @property
    def runs(self) -> int:
        return self.manifest_a.runs

    @property
    def seed(self) -> int:
        return self.manifest_a.seed

    def changed(self) -> pl.DataFrame:
        """Rows of the pools whose figures differ between the runs (any year or measure)."""
        moved = self.table.group_by("pool").agg((pl.col("difference") != 0).any().alias("m")).filter("m")["pool"]
        return self.table.filter(pl.col("pool").is_in(moved.implode()))

    def unchanged_pools(self) -> list[str]:
        return sorted(set(self.table["pool"].to_list()) - set(self.changed()["pool"].to_list()))


def check_pair(a: Path, b: Path) -> tuple[Manifest, Manifest]:
    """Both folders complete runs with the same seed and number of runs, or an error saying which and why."""
    manifests = []
    for folder in (a, b):
        m = read_manifest(folder)
        if not m.complete:
            raise OutputError(f"{folder}: the run is incomplete ({len(m.batches_complete)} of {m.batches} batches), "
                              f"so its runs cannot be paired; finish it with `{resume_command(m, folder)}`")
        manifests.append(m)
    ma, mb = manifests
    if ma.seed != mb.seed:
        raise OutputError(f"{a} (seed {ma.seed}) and {b} (seed {mb.seed}) were run with different seeds: their runs do "
                          "not share random numbers, so run by run differences mean nothing; run both with the same "
                          f"--seed (e.g. `sim run SCENARIO --seed {ma.seed} --set …`)")
    if ma.runs != mb.runs:
        raise OutputError(f"{a} ({ma.runs} runs) and {b} ({mb.runs} runs) differ in their number of runs; run both "
                          f"with the same --runs (e.g. --runs {max(ma.runs, mb.runs)})")
    return ma, mb


def compare_runs(a: str | Path, b: str | Path, *, risk: float = 0.05, seed: int = 0) -> Comparison:
    """Compare run folders ``a`` and ``b`` (same seed, same runs) pool-year by pool-year.

    Columns of the table: pool, title, year, measure (granted, unmet, p_dry, budget_needed),
    a, b, difference (b − a), difference_low, difference_high (95%), paired_se,
    independent_se, unit.  ``seed`` seeds the bootstrap of the budget needed.
    """
    check_risk(risk)
    a, b = Path(a), Path(b)
    ma, mb = check_pair(a, b)
    with locked(a, create=False, reading=True), locked(b, create=False, reading=True):
        left, right = per_run(a, ma), per_run(b, mb)
    titles = {**mb.pool_titles(), **ma.pool_titles()}
    return Comparison(a, b, ma, mb, risk, differences(left, right, runs=ma.runs, risk=risk, titles=titles, seed=seed))


def differences(left: dict, right: dict, *, runs: int, risk: float, titles: dict[str, str], seed: int = 0,
                measures: tuple[str, ...] = MEASURES, independent: bool = True) -> pl.DataFrame:
    """Paired differences right − left of :func:`per_run` figures, pool-year by pool-year (columns as in compare_runs).

    ``independent``: also the standard error two independent runs would give (for the
    budget needed, a second bootstrap; leave it out where nobody reads it).
    """
    keys = sorted(set(left) | set(right))
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, runs, size=(BOOTSTRAP, runs))
    rows = []
    zero = {k: np.zeros(runs) for k in ("granted", "unmet", "dry", "demand")}
    for key in keys:
        x, y = left.get(key, zero), right.get(key, zero)
        for measure, col in (("granted", "granted"), ("unmet", "unmet"), ("p_dry", "dry")):
            if measure in measures:
                rows.append(_mean_row(key, measure, x[col], y[col]))
        if "budget_needed" in measures:
            rows.append(_needed_row(key, x["demand"], y["demand"], risk, picks, independent))
    schema = {"pool": pl.String, "year": pl.Int32, "measure": pl.String, "a": pl.Float64, "b": pl.Float64,
              "difference": pl.Float64, "difference_low": pl.Float64, "difference_high": pl.Float64,
              "paired_se": pl.Float64, "independent_se": pl.Float64}
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    frame = frame.with_columns(pl.col("pool").replace_strict(titles, default="").alias("title"),
                               pl.col("measure").replace_strict(UNITS).alias("unit"))
    # a pool without demand in any run (its budget needed is 1 yuan, the rest 0) is left out
    least = pl.when(pl.col("measure") == "budget_needed").then(1).otherwise(0)
    keep = (frame.group_by("pool").agg(((pl.col("a") > least) | (pl.col("b") > least)).any().alias("k")).filter("k")["pool"])
    order = pl.Enum(list(MEASURES))
    return (frame.filter(pl.col("pool").is_in(keep.implode()))
            .with_columns(pl.col("measure").cast(order)).sort("pool", "year", "measure")
            .with_columns(pl.col("measure").cast(pl.String))
            .select("pool", "title", "year", "measure", "a", "b", "difference", "difference_low", "difference_high",
                    "paired_se", "independent_se", "unit"))


def per_run(out: Path, manifest: Manifest) -> dict[tuple[str, int], dict[str, np.ndarray]]:
    """Per pool-year, arrays over runs: granted, unmet, ran dry (0/1), demand as counted against the budget."""
    runs, pools = manifest.runs, pool_meta(manifest)
    program_years = scan(out, "program_years", manifest=manifest)
    money = pool_runs(program_years, runs=runs, pools=pools).collect()
    exposure = pool_exposure(scan(out, "pool_years", manifest=manifest), program_years, runs=runs, pools=pools).collect()
    joined = money.join(exposure.select("run", "pool", "year", pl.col("demand").alias("counted"), "dry_on"),
                        on=["run", "pool", "year"], how="left").sort("pool", "year", "run")
    out_: dict[tuple[str, int], dict[str, np.ndarray]] = {}
    for (pool, year), part in joined.group_by("pool", "year", maintain_order=True):
        out_[(pool, int(year))] = {
            "granted": part["granted"].to_numpy().astype(np.float64),
            "unmet": part["unmet"].to_numpy().astype(np.float64),
            "dry": part["dry_on"].is_not_null().to_numpy().astype(np.float64),
            "demand": part["counted"].fill_null(0).to_numpy().astype(np.float64),
        }
    return out_


def _mean_row(key: tuple[str, int], measure: str, x: np.ndarray, y: np.ndarray) -> tuple:
    n = len(x)
    d = y - x
    paired = float(np.std(d, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    independent = float(math.sqrt(np.var(x, ddof=1) / n + np.var(y, ddof=1) / n)) if n > 1 else math.nan
    diff = float(d.mean())
    return (*key, measure, float(x.mean()), float(y.mean()), diff, diff - Z * paired, diff + Z * paired, paired, independent)


def _needed(demand: np.ndarray, risk: float) -> np.ndarray:
    """The budget needed at ``risk`` along the last axis: the (N − floor(risk N))-th smallest demand, plus one yuan."""
    n = demand.shape[-1]
    rank = n - math.floor(risk * n + 1e-9)
    return np.partition(demand, rank - 1, axis=-1)[..., rank - 1] + 1


def _needed_row(key: tuple[str, int], x: np.ndarray, y: np.ndarray, risk: float, picks: np.ndarray,
                independent: bool = True) -> tuple:
    a, b = float(_needed(x, risk)), float(_needed(y, risk))
    at_x = _needed(x[picks], risk)
    paired = _needed(y[picks], risk) - at_x  # the same runs resampled for both: pairs kept
    apart = math.nan
    if independent:
        other = np.random.default_rng(len(x)).permutation(picks)  # B resampled apart from A: two independent runs
        apart = float(np.std(_needed(y[other], risk) - at_x, ddof=1))
    lo, hi = np.quantile(paired, [0.025, 0.975])
    return (*key, "budget_needed", a, b, b - a, float(lo), float(hi), float(np.std(paired, ddof=1)), apart)


# --------------------------------------------------------------------------- files

def write_comparison(result: Comparison, out: Path, *, lang: Lang = "zh") -> list[Path]:
    """Write compare.parquet and compare.html into ``out`` (each renamed into place when complete)."""
    if out.exists() and not out.is_dir():
        raise OptionError("--out", str(out), "is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    metadata = result.manifest_b.parquet_metadata("compare", {"a": "unit", "b": "unit", "difference": "unit"})
    metadata["sim.compare"] = f"{result.a} vs {result.b}"
    paths = [out / "compare.parquet", out / "compare.html"]
    writers = (lambda tmp: result.table.write_parquet(tmp, metadata=metadata),
               lambda tmp: tmp.write_text(html(result, lang=lang), encoding="utf-8"))
    for path, write in zip(paths, writers):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            write(tmp)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return paths


def shown(value: float | None, measure: str) -> str:
    """A figure as the tables show it: 万元, a percentage, or the budget needed rounded up."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if measure == "p_dry":
        return percent(value)
    if measure == "budget_needed":
        return wan_up(value) if value >= 0 else "-" + wan_up(-value)
    return wan(value, 0)


def shown_difference(value: float | None, measure: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    text = shown(abs(value), measure)
    return ("+" if value > 0 else "−" if value < 0 else "") + text


MEASURE_LABEL = {"granted": "granted, mean", "unmet": "unmet demand, mean", "p_dry": "P(dry)",
                 "budget_needed": "budget needed"}


def html(result: Comparison, *, lang: Lang = "zh") -> str:
    """The comparison page: what was compared, a chart of the differences, the table."""
    from sim.report import charts  # matplotlib loads only when a page is drawn

    ma, mb = result.manifest_a, result.manifest_b
    single = mb.single_policy and ma.single_policy
    title = tr(lang, "Comparison: {a} and {b}", a=result.a.name, b=result.b.name)
    meta = (f"{tr(lang, '{runs} runs', runs=result.runs)} · {tr(lang, 'seed {seed}', seed=result.seed)} · "
            f"{dt.datetime.now():%Y-%m-%d %H:%M} {tr(lang, 'by sim {version}', version=__version__)}")
    which = [[Cell("A"), Cell(str(result.a)), Cell(ma.scenario.name), Cell(_settings(ma))],
             [Cell("B"), Cell(str(result.b)), Cell(mb.scenario.name), Cell(_settings(mb))]]
    notes = [tr(lang, "Both runs use seed {seed}: run r of A and run r of B see the same firms, so B − A is estimated "
                      "from the {runs} per-run differences (paired). The independent standard error is what two runs "
                      "with different seeds would give: the paired one is usually far smaller.",
                seed=result.seed, runs=result.runs),
             tr(lang, "Amounts in 万元; 95% intervals. The budget needed is at {risk} risk; its interval comes from a "
                      "bootstrap over runs.", risk=percent(result.risk, 0))]
    chart = charts.differences(result.table, single, lang=lang)
    headers = [tr(lang, "pool"), tr(lang, "year"), tr(lang, "measure"), Cell("A", num=True), Cell("B", num=True),
               Cell("B − A", num=True), Cell(tr(lang, "95% CI"), num=True), Cell(tr(lang, "paired se"), num=True),
               Cell(tr(lang, "independent se"), num=True)]
    rows = []
    for (pool,), part in result.changed().group_by("pool", maintain_order=True):
        for i, r in enumerate(part.iter_rows(named=True)):
            m = r["measure"]
            rows.append([Cell(short_pool(pool, single), sub=r["title"] or "", rowspan=part.height, cls="title") if i == 0 else None,
                         Cell(str(r["year"])), Cell(tr(lang, MEASURE_LABEL[m])), Cell(shown(r["a"], m), num=True),
                         Cell(shown(r["b"], m), num=True), Cell(shown_difference(r["difference"], m), num=True),
                         Cell(f"{shown_difference(r['difference_low'], m)} … {shown_difference(r['difference_high'], m)}", num=True),
                         Cell(shown(r["paired_se"], m), num=True), Cell(shown(r["independent_se"], m), num=True)])
    body = [f"<h1>{esc(title)}</h1>", f'<p class="meta">{meta}</p>', box(notes, title=tr(lang, "How to read this comparison")),
            section("runs", tr(lang, "Runs compared"), table(["", tr(lang, "folder"), tr(lang, "scenario"), tr(lang, "values set")], which)),
            section("chart", tr(lang, "Differences B − A with their 95% intervals"),
                    figure(chart, tr(lang, "Differences B − A with their 95% intervals")) if chart else
                    f'<p class="missing">{tr(lang, "No figure differs between the runs.")}</p>'),
            section("table", tr(lang, "Per pool and year"), table(headers, rows) + _same(result, single, lang))]
    return document(title, "".join(body), lang="zh-CN" if lang == "zh" else "en")


def _same(result: Comparison, single: bool, lang: Lang) -> str:
    same = result.unchanged_pools()
    if not same:
        return ""
    names = ", ".join(short_pool(p, single) for p in same)
    return f"<p>{esc(tr(lang, 'Pools with the same figures in both runs (in compare.parquet, left out here): {pools}.', pools=names))}</p>"


def _settings(m: Manifest) -> str:
    return ", ".join(f"{k}={v}" for k, v in m.scenario.settings.items()) or "—"
