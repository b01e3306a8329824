"""The tornado: how far each uncertain assumption, on its own, moves the budget needed and P(dry).

A budget officer asks: "of everything we are unsure about, which moves the number I must
put in the budget, and by how much?"  For each uncertain number of the scenario (or those
named), the scenario is run twice more, with that number held at its 10th and at its
90th percentile and every other as in the scenario (the other uncertain numbers still
drawn run by run), all with the scenario's seed: common random numbers, so the two runs
see the same firms and the same draws of everything else, and the **swing** — the figure
at the 90th percentile minus the figure at the 10th — is estimated from per-run pairs
(:func:`sim.planning.compare.differences`): a paired bootstrap of runs for the budget
needed at ``risk``, the mean paired difference for P(dry).  A common factor is held at
its 10th and 90th percentile the same way (``factors.NAME.at``), moving every number that
loads on it.

The runs are kept (``base/`` the scenario as it is, ``01-low/``, ``01-high/``, … one pair
per parameter, each a run folder `sim report` reads); ``tornado.parquet`` and
``tornado.html`` sit beside them.  Rows are sorted by the size of the swing, largest first.

Examples
--------
>>> from sim.scenario.load import load_scenario
>>> result = tornado(load_scenario("scenarios/binjiang.yaml"), runs=200, out="outputs/bj-tornado", force=True)  # doctest: +SKIP
>>> result.table.filter(pl.col("measure") == "budget_needed").head()  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import polars as pl

from sim import __version__
from sim.errors import OptionError, OutputError
from sim.planning.compare import differences, per_run
from sim.report.display import percent, short_pool, wan_up
from sim.report.figures import check_risk
from sim.report.lang import Lang, tr
from sim.report.page import Cell, box, document, esc, figure, section, table
from sim.report.sensitivity import parameter_title
from sim.runs.lock import locked
from sim.runs.manifest import Manifest, read_manifest
from sim.runs.runner import check_options, output_folder, simulate
from sim.runs.storage import MANIFEST, clear
from sim.scenario.schema import Scenario

LOW, HIGH = 0.1, 0.9  # the percentiles each parameter is held at
MEASURES = ("budget_needed", "p_dry")


@dataclass(frozen=True)
class Setting:
    """One parameter of the tornado: its name, and the scenario paths and values that hold it low and high."""

    name: str  # the parameter's path, or factors.NAME
    low: dict[str, Any]
    high: dict[str, Any]
    low_value: float  # in the parameter's unit (yuan, fraction, days since 1970-01-01; a factor's normal score)
    high_value: float
    shown_low: str  # as a reader reads it: 96万, 0.58, 2025-01-12
    shown_high: str


@dataclass
class Tornado:
    out: Path
    scenario: Scenario
    settings: list[Setting]
    runs: int
    seed: int
    risk: float
    table: pl.DataFrame
    manifest: Manifest


def settings(scenario: Scenario, names: list[str] | None = None) -> list[Setting]:
    """Every uncertain number (and factor) of the scenario, or those ``names``, with its low and high setting."""
    from scipy import special

    available = [p.path for p in scenario.parameters] + [f"factors.{n}" for n in sorted(scenario.spec.factors)]
    if not available:
        raise OptionError("SCENARIO", scenario.path, "has no uncertain number to hold: give some assumption as a "
                          "distribution, e.g. take_up: {p: {dist: beta, mean: 0.6, sd: 0.1}} (see scenarios/README.md)")
    chosen = names or available
    unknown = [n for n in chosen if n not in available]
    if unknown:
        raise OptionError("--param", unknown[0], "is not an uncertain number of the scenario; they are: " + ", ".join(available))
    out = []
    for name in dict.fromkeys(chosen):
        if name.startswith("factors."):
            z_low, z_high = float(special.ndtri(LOW)), float(special.ndtri(HIGH))
            out.append(Setting(name, {f"{name}.at": LOW}, {f"{name}.at": HIGH}, z_low, z_high, f"{z_low:+.2f} sd",
                               f"{z_high:+.2f} sd"))
            continue
        p = scenario.parameter(name)
        lo, hi = p.quantile(LOW), p.quantile(HIGH)
        out.append(Setting(name, {name: p.typed(lo)}, {name: p.typed(hi)}, lo, hi, _shown(p, lo), _shown(p, hi)))
    return out


def _shown(p, value: float) -> str:
    if p.kind == "money":
        return f"{value / 10_000:,.0f}万"
    if p.kind == "date":
        return str(p.typed(value))
    if p.kind == "count":
        return f"{value:.0f}"
    return f"{value:.3g}"


def tornado(
    scenario: Scenario,
    *,
    params: list[str] | None = None,
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    risk: float = 0.05,
    out: str | Path | None = None,
    force: bool = False,
    lang: Lang = "zh",
    progress: Callable[[str, int, int], None] | None = None,
) -> Tornado:
    """Run the scenario, then each parameter held at its 10th and 90th percentile; compare; write the files.

    Raises :class:`OptionError` for a parameter the scenario does not have (or none at all)
    and :class:`OutputError` when ``out`` holds an earlier tornado and not ``force``.
    """
    check_risk(risk)
    check_options(runs=runs, seed=seed, batch_size=None, workers=workers, engine="auto", resume=False, force=force)
    chosen = settings(scenario, params)
    variants = {"base": scenario}
    for i, s in enumerate(chosen, start=1):
        variants[f"{i:02d}-low"] = scenario.with_overrides(s.low)
        variants[f"{i:02d}-high"] = scenario.with_overrides(s.high)
    out = Path(out) if out is not None else output_folder(None, scenario).with_name(f"{scenario.name}-sensitivity")
    n = runs if runs is not None else scenario.monte_carlo.runs
    seed = seed if seed is not None else scenario.monte_carlo.seed
    with locked(out):
        _prepare(out, list(variants), force)
        manifest = None
        for name, variant in variants.items():
            update = (lambda stage: (lambda done, total: progress(stage, done, total)))(name) if progress else None
            result = simulate(variant, runs=n, seed=seed, workers=workers, out=out / name, force=True, progress=update)
            manifest = manifest or result.manifest
        frame = _table(out, chosen, n, risk, manifest)
        result = Tornado(out, scenario, chosen, n, seed, risk, frame, manifest)
        _write(result, lang)
    return result


def _prepare(out: Path, names: list[str], force: bool) -> None:
    earlier = [p for p in [out / "tornado.parquet", *(d / MANIFEST for d in sorted(out.glob("*")) if d.is_dir())] if p.exists()]
    if earlier and not force:
        raise OutputError(f"{out}: holds an earlier tornado ({earlier[0].relative_to(out)}); add --force to replace it "
                          "or choose another --out")
    for folder in sorted(out.glob("*")):
        if folder.is_dir() and folder.name not in names and (folder / MANIFEST).exists():
            clear(folder)
            shutil.rmtree(folder, ignore_errors=True)


def _table(out: Path, chosen: list[Setting], runs: int, risk: float, manifest: Manifest) -> pl.DataFrame:
    """One row per parameter, pool, year and measure: the figure at P10 and P90, the swing and its interval."""
    base = per_run(out / "base", read_manifest(out / "base"))
    titles = manifest.pool_titles()
    budgeted = {p.pool for p in manifest.pools if any(b is not None for b in p.budgets.values())}
    reference = differences(base, base, runs=runs, risk=risk, titles=titles, measures=MEASURES, independent=False)
    frames = []
    for i, s in enumerate(chosen, start=1):
        low = per_run(out / f"{i:02d}-low", read_manifest(out / f"{i:02d}-low"))
        high = per_run(out / f"{i:02d}-high", read_manifest(out / f"{i:02d}-high"))
        swing = differences(low, high, runs=runs, risk=risk, titles=titles, seed=i, measures=MEASURES, independent=False)
        frames.append(swing.with_columns(pl.lit(s.name).alias("parameter"), pl.lit(s.low_value).alias("parameter_low"),
                                         pl.lit(s.high_value).alias("parameter_high"), pl.lit(s.shown_low).alias("shown_low"),
                                         pl.lit(s.shown_high).alias("shown_high")))
    frame = pl.concat(frames).join(reference.select("pool", "year", "measure", pl.col("a").alias("base")),
                                   on=["pool", "year", "measure"], how="left")
    # P(dry) means something only for a pool with a budget
    frame = frame.filter((pl.col("measure") != "p_dry") | pl.col("pool").is_in(sorted(budgeted)))
    return (frame.rename({"a": "at_low", "b": "at_high", "difference": "swing", "difference_low": "swing_low",
                          "difference_high": "swing_high"})
            .with_columns(pl.col("swing").abs().rank("ordinal", descending=True).over("pool", "year", "measure")
                          .cast(pl.Int32).alias("rank"))
            .select("pool", "title", "year", "measure", "rank", "parameter", "parameter_low", "parameter_high",
                    "shown_low", "shown_high", "base", "at_low", "at_high", "swing", "swing_low", "swing_high",
                    "paired_se", "unit")
            .sort("pool", "year", "measure", "rank"))


# --------------------------------------------------------------------------- files

UNITS = {"at_low": "the row's unit", "at_high": "the row's unit", "swing": "the row's unit", "base": "the row's unit",
         "parameter_low": "the parameter's unit (yuan, fraction, firms, days since 1970-01-01; factors: normal score)",
         "parameter_high": "the parameter's unit"}


def _write(result: Tornado, lang: Lang) -> None:
    out = result.out
    metadata = result.manifest.parquet_metadata("tornado", UNITS)
    for name, write in (("tornado.parquet", lambda tmp: result.table.write_parquet(tmp, metadata=metadata)),
                        ("tornado.html", lambda tmp: tmp.write_text(html(result, lang=lang), encoding="utf-8"))):
        tmp = out / f".{name}.{os.getpid()}.tmp"
        try:
            write(tmp)
            os.replace(tmp, out / name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def label(result: Tornado, name: str, lang: Lang = "en") -> str:
    return parameter_title(name, result.manifest, lang)


def shown(value: float | None, measure: str, *, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    sign = ("+" if value > 0 else "−" if value < 0 else "") if signed else ""
    value = abs(value) if signed else value
    return sign + (percent(value) if measure == "p_dry" else wan_up(value))


def html(result: Tornado, *, lang: Lang = "zh") -> str:
    """The tornado page: what was held where, a tornado chart per pool with a budget, the table."""
    from sim.report import charts  # matplotlib loads only when a page is drawn

    sc = result.manifest.scenario
    single = result.manifest.single_policy
    title = tr(lang, "Tornado: {title}", title=sc.title or sc.name)
    meta = (f"{tr(lang, 'scenario')} <code>{esc(sc.name)}</code> · {tr(lang, '{runs} runs', runs=result.runs)} · "
            f"{tr(lang, 'seed {seed}', seed=result.seed)} · {dt.datetime.now():%Y-%m-%d %H:%M} "
            f"{tr(lang, 'by sim {version}', version=__version__)}")
    notes = [tr(lang, "Each assumption is held at its 10th and then its 90th percentile, every other as in the scenario "
                      "(still drawn run by run), with the same seed: the two runs see the same firms, so the swing (at "
                      "the 90th minus at the 10th) comes from paired runs, with a 95% interval."),
             tr(lang, "Budget needed at {risk} risk in 万元; P(dry) with the budget as in the scenario. Each run is kept "
                      "in its folder (base/, 01-low/, 01-high/, …) for `sim report`.", risk=percent(result.risk, 0))]
    held = [[Cell(f"{i:02d}"), Cell(label(result, s.name, lang)), Cell(s.shown_low, num=True), Cell(s.shown_high, num=True)]
            for i, s in enumerate(result.settings, start=1)]
    parts = []
    budgeted = result.table.filter(pl.col("measure") == "p_dry")["pool"].unique().sort().to_list()
    for pool in budgeted:
        for measure in MEASURES:
            chart = charts.tornado(result.table, pool, measure, lambda n: label(result, n, lang),
                                   title=f"{result.manifest.pool_titles().get(pool, '')} ({short_pool(pool, single)})", lang=lang)
            if chart:
                parts.append(figure(chart, f"{pool} {measure}"))
    headers = [tr(lang, "pool"), tr(lang, "year"), tr(lang, "measure"), tr(lang, "parameter"),
               Cell(tr(lang, "at P10"), num=True), Cell(tr(lang, "at P90"), num=True), Cell(tr(lang, "swing"), num=True),
               Cell(tr(lang, "95% CI"), num=True)]
    rows = []
    for r in result.table.filter(pl.col("pool").is_in(budgeted)).iter_rows(named=True):
        m = r["measure"]
        rows.append([Cell(short_pool(r["pool"], single)), Cell(str(r["year"])),
                     Cell(tr(lang, "budget needed" if m == "budget_needed" else "P(dry)")),
                     Cell(f"{label(result, r['parameter'], lang)} ({r['shown_low']} → {r['shown_high']})"),
                     Cell(shown(r["at_low"], m), num=True), Cell(shown(r["at_high"], m), num=True),
                     Cell(shown(r["swing"], m, signed=True), num=True),
                     Cell(f"{shown(r['swing_low'], m, signed=True)} … {shown(r['swing_high'], m, signed=True)}", num=True)])
    body = [f"<h1>{esc(title)}</h1>", f'<p class="meta">{meta}</p>', box(notes, title=tr(lang, "How to read this tornado")),
            section("held", tr(lang, "Assumptions held at their 10th and 90th percentile"),
                    table(["", tr(lang, "parameter"), Cell("P10", num=True), Cell("P90", num=True)], held)),
            section("charts", tr(lang, "Swing of the budget needed and of P(dry)"), "".join(parts)
                    or f'<p class="missing">{esc(tr(lang, "No pool has a budget."))}</p>'),
            section("table", tr(lang, "Per pool, year and assumption, largest swing first"), table(headers, rows))]
    return document(title, "".join(body), lang="zh-CN" if lang == "zh" else "en")
