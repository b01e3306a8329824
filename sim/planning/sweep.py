"""Sweeps: the same scenario under a grid of what-ifs, compared pool by pool.

"What if the compute-voucher pool had 5000万, 1亿 or 1.5亿, and take-up were 50% or
70%?"  A sweep runs every combination of the values given for each dotted scenario path
(as :meth:`Scenario.with_overrides` takes them), each variant with the same seed: common
random numbers, so the variants see the same firms, the same spending and the same
application dates and differ only by what was changed.  Differences between variants are
then the effect of the change, not noise between two sets of draws.

Each variant's outputs are a full run folder (``v01/``, ``v02/``, …; ``sim report`` works
on each); one comparison table sits beside them (``sweep.parquet``, ``sweep.csv`` and
``sweep.html`` with charts).

Examples
--------
>>> axis = parse_axis("overrides.binjiang.pools.compute_vouchers.budget=5000万,1亿")
>>> axis.values
('5000万', '1亿')
>>> parse_axis("segments.0.take_up.binjiang.compute_voucher.p=0.5,0.7").values
(0.5, 0.7)
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import polars as pl
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from sim import __version__
from sim.errors import InputError, OutputError, SimError
from sim.report.display import interval, percent, short_paths, short_pool, wan, wan_up
from sim.report.figures import pool_figures, pool_meta, pool_risk
from sim.report.lang import Lang, tr
from sim.report.page import Cell, box, document, esc, figure, section, table
from sim.runs.lock import locked
from sim.runs.manifest import Manifest, read_manifest
from sim.runs.runner import check_options, output_folder, simulate
from sim.runs.storage import MANIFEST, clear, scan
from sim.scenario.schema import Scenario

FORBIDDEN = ("monte_carlo.",)  # a sweep keeps runs and seed common; use --runs / --seed


class SweepError(SimError):
    """A --set that cannot be read or applied: says which, and what is allowed."""


@dataclass(frozen=True)
class Axis:
    """One dotted scenario path and the values it takes across the grid (as parsed, and as written)."""

    path: str
    values: tuple[Any, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Variant:
    name: str
    settings: dict[str, Any]
    labels: dict[str, str]
    scenario: Scenario


@dataclass
class SweepResult:
    out: Path
    axes: list[Axis]
    variants: list[Variant]
    runs: int
    seed: int
    risk: float
    table: pl.DataFrame
    manifest: Manifest | None = None

    def varying_pools(self) -> list[str]:
        return varying(self.table)


# --------------------------------------------------------------------------- parsing the grid

def parse_axis(text: str) -> Axis:
    """Read ``PATH=V1,V2,…``: each value a YAML scalar (``0.5`` a number, ``5000万`` text).

    A value holding commas is written in brackets or quotes: ``{2025: 5000万, 2026: 1亿}``
    or ``"2,000万"``; commas inside them do not split.
    """
    path, sep, rest = text.partition("=")
    path = path.strip()
    if not sep or not path or not rest.strip():
        raise SweepError(f"--set {text!r}: expected PATH=V1,V2,… e.g. overrides.binjiang.pools.compute_vouchers.budget=5000万,1亿")
    if " " in path or path.startswith(".") or path.endswith(".") or ".." in path:
        raise SweepError(f"--set {text!r}: {path!r} is not a dotted path like segments.0.firms_at_start")
    if any(path.startswith(p) for p in FORBIDDEN):
        raise SweepError(f"--set {path}: a sweep keeps the Monte Carlo settings common to all variants; use --runs and --seed instead")
    labels = tuple(v.strip() for v in _split(rest))
    if any(not v for v in labels):
        raise SweepError(f"--set {text!r}: an empty value; separate values with single commas, e.g. 5000万,1亿")
    return Axis(path, tuple(parse_value(v, path) for v in labels), labels)


def _split(text: str) -> list[str]:
    """Split on commas outside brackets and quotes."""
    parts, depth, quote, current = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def parse_value(text: str, path: str = "") -> Any:
    """A value as YAML reads it: numbers become numbers, ``5000万`` stays text."""
    try:
        value = YAML(typ="safe", pure=True).load(io.StringIO(text))
    except YAMLError as exc:
        raise SweepError(f"--set {path}: cannot read the value {text!r} ({str(exc).splitlines()[0]})") from None
    if value is None:
        raise SweepError(f"--set {path}: the value {text!r} is empty")
    return value


def check_axes(axes: list[Axis]) -> None:
    seen = set()
    for axis in axes:
        if axis.path in seen:
            raise SweepError(f"--set {axis.path} is given twice; list all its values in one --set")
        seen.add(axis.path)
    if not axes:
        raise SweepError("a sweep needs at least one --set PATH=V1,V2,…")


def plan(scenario: Scenario, axes: list[Axis]) -> list[Variant]:
    """Every combination of the axes' values, each applied and validated before anything runs."""
    check_axes(axes)
    for axis in axes:  # each value alone first, so that an error names the one --set at fault
        for value, label in zip(axis.values, axis.labels):
            _apply(scenario, {axis.path: value}, f"--set {axis.path}={label}")
    out = []
    for i, combo in enumerate(itertools.product(*[range(len(a.values)) for a in axes]), start=1):
        settings = {a.path: a.values[j] for a, j in zip(axes, combo)}
        labels = {a.path: a.labels[j] for a, j in zip(axes, combo)}
        shown = "variant " + ", ".join(f"{k}={v}" for k, v in labels.items())
        out.append(Variant(f"v{i:02d}", settings, labels, _apply(scenario, settings, shown)))
    return out


def _apply(scenario: Scenario, settings: dict[str, Any], where: str) -> Scenario:
    try:
        return scenario.with_overrides(settings)
    except InputError as exc:
        raise SweepError(f"{where}: {exc}") from None


# --------------------------------------------------------------------------- running and comparing

def sweep(
    scenario: Scenario,
    axes: list[Axis],
    *,
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
    force: bool = False,
    risk: float = 0.05,
    lang: Lang = "zh",
    progress: Callable[[str, int, int], None] | None = None,
) -> SweepResult:
    """Run every variant with the same seed, then compare them; write sweep.parquet/.csv/.html.

    ``lang``: the language of sweep.html (zh or en).

    Raises :class:`SweepError` / :class:`ScenarioError` for a bad path or value (before any
    run), and :class:`OutputError` when ``out`` holds an earlier sweep and not ``force``.
    """
    check_options(runs=runs, seed=seed, batch_size=None, workers=workers, engine="auto", resume=False, force=force)
    variants = plan(scenario, axes)
    out = output_folder(out, scenario) if out is not None else Path("outputs") / f"{scenario.name}-sweep"
    with locked(out):
        _prepare(out, [v.name for v in variants], force)
        return _sweep(scenario, axes, variants, out, runs=runs, seed=seed, workers=workers, risk=risk, lang=lang,
                      progress=progress)


def _sweep(scenario: Scenario, axes: list[Axis], variants: list[Variant], out: Path, *, runs: int | None,
           seed: int | None, workers: int | None, risk: float, lang: Lang,
           progress: Callable[[str, int, int], None] | None) -> SweepResult:
    seed = seed if seed is not None else scenario.monte_carlo.seed
    n = runs if runs is not None else scenario.monte_carlo.runs
    manifest = None
    for v in variants:
        update = (lambda name: (lambda done, total: progress(name, done, total)))(v.name) if progress else None
        result = simulate(v.scenario, runs=n, seed=seed, workers=workers, out=out / v.name, force=True, progress=update)
        manifest = manifest or result.manifest
    table = compare(out, axes, variants, runs=n, risk=risk)
    result = SweepResult(out, axes, variants, n, seed, risk, table, manifest)
    _write(result, lang)
    return result


def _prepare(out: Path, names: list[str], force: bool) -> None:
    earlier = [p for p in [out / "sweep.parquet", *(d / MANIFEST for d in sorted(out.glob("v[0-9][0-9]*")))] if p.exists()]
    if earlier and not force:
        raise OutputError(f"{out}: holds an earlier sweep ({earlier[0].relative_to(out)}); add --force to replace it or choose another --out")
    for folder in sorted(out.glob("v[0-9][0-9]*")):
        if folder.name not in names and (folder / MANIFEST).exists():
            clear(folder)
            shutil.rmtree(folder, ignore_errors=True)


def compare(out: Path, axes: list[Axis], variants: list[Variant], *, runs: int, risk: float) -> pl.DataFrame:
    """One row per variant, pool and year (pools with a budget or demand in some variant).

    Columns: variant, one column per swept path (the value as written), pool, title, year,
    budget_yuan, runs, p_dry, p_dry_se, demand_mean, granted_mean, granted_se, unmet_mean,
    unmet_se, risk, budget_needed_yuan, budget_needed_lo, budget_needed_hi.
    """
    frames = []
    for v in variants:
        folder = out / v.name
        manifest = read_manifest(folder)
        pools = pool_meta(manifest)
        program_years = scan(folder, "program_years")
        figures = pool_figures(program_years, runs=runs, pools=pools)
        wide = figures.pivot(on="measure", index=["pool", "title", "year", "budget_yuan"], values=["mean", "se", "p99"],
                             separator="|").rename(lambda c: "_".join(reversed(c.split("|"))) if "|" in c else c)
        risky = pool_risk(scan(folder, "pool_years"), program_years, runs=runs, risk=risk, pools=pools)
        frame = (wide.join(risky.select("pool", "year", "runs", "p_dry", "p_dry_se", "risk", "budget_needed_yuan",
                                        "budget_needed_lo", "budget_needed_hi"), on=["pool", "year"], how="left")
                 .with_columns(pl.lit(v.name).alias("variant"), *[pl.lit(v.labels[a.path]).alias(a.path) for a in axes]))
        frames.append(frame)
    table = pl.concat(frames, how="diagonal_relaxed")
    keep = table.group_by("pool").agg(((pl.col("demand_p99") > 0) | pl.col("budget_yuan").is_not_null()).any().alias("k")).filter("k")["pool"]
    return (table.filter(pl.col("pool").is_in(keep.implode()))
            .select("variant", *[a.path for a in axes], "pool", "title", "year", "budget_yuan", "runs", "p_dry", "p_dry_se",
                    "demand_mean", "granted_mean", "granted_se", "unmet_mean", "unmet_se", "risk", "budget_needed_yuan",
                    "budget_needed_lo", "budget_needed_hi")
            .sort("pool", "year", "variant"))


def varying(table: pl.DataFrame) -> list[str]:
    """Pools whose budget, P(dry), grants or unmet demand differ between variants (those the sweep moved)."""
    cols = ["budget_yuan", "p_dry", "granted_mean", "unmet_mean", "demand_mean"]
    moved = table.group_by("pool", "year").agg([pl.col(c).n_unique().alias(c) for c in cols])
    moved = moved.filter(pl.any_horizontal(pl.col(c) > 1 for c in cols))
    return sorted(moved["pool"].unique().to_list())


# --------------------------------------------------------------------------- files

def _write(result: SweepResult, lang: Lang) -> None:
    out = result.out
    units = {c: "yuan" for c in ("budget_yuan", "demand_mean", "granted_mean", "granted_se", "unmet_mean", "unmet_se",
                                 "budget_needed_yuan", "budget_needed_lo", "budget_needed_hi")}
    metadata = result.manifest.parquet_metadata("sweep", units | {"p_dry": "share", "p_dry_se": "share", "risk": "share"})
    parquet = lambda path: result.table.write_parquet(path, metadata=metadata)  # noqa: E731
    for name, writer in (("sweep.parquet", parquet), ("sweep.csv", result.table.write_csv)):
        tmp = out / f".{name}.{os.getpid()}.tmp"
        writer(tmp)
        os.replace(tmp, out / name)
    tmp = out / f".sweep.html.{os.getpid()}.tmp"
    tmp.write_text(html(result, lang=lang), encoding="utf-8")
    os.replace(tmp, out / "sweep.html")


def html(result: SweepResult, *, lang: Lang = "zh") -> str:
    """The comparison page: variants, a chart per pool the sweep moved (inline SVG), the table."""
    from sim.report import charts  # matplotlib loads only when a page is drawn

    sc = result.manifest.scenario
    single = result.manifest.single_policy
    title = tr(lang, "Sweep: {title}", title=sc.title or sc.name)
    meta = (f"{tr(lang, 'scenario')} <code>{esc(sc.name)}</code> · "
            f"{tr(lang, '{n} variants × {runs} runs · seed {seed} for every variant (common random numbers)', n=len(result.variants), runs=result.runs, seed=result.seed)}"
            f" · {dt.datetime.now():%Y-%m-%d %H:%M} {tr(lang, 'by sim {version}', version=__version__)}")
    headers = [tr(lang, "variant")] + [a.path for a in result.axes] + [tr(lang, "folder")]
    rows = [[Cell(v.name)] + [Cell(v.labels[a.path]) for a in result.axes] + [Cell(f"{v.name}/")] for v in result.variants]
    moved = result.varying_pools()
    names = [v.name for v in result.variants]
    titles = dict(result.table.select("pool", "title").unique().iter_rows())
    none = tr(lang, "No pool's figures differ between the variants.")
    pictures = "".join(
        f"<h3>{esc(short_pool(p, single))} · {esc(titles.get(p) or '')}</h3>"
        + figure(charts.sweep(result.table, p, short_pool(p, single), names, lang=lang), f"{titles.get(p) or ''} {p}")
        for p in moved) or f'<p class="missing">{none}</p>'
    notes = [tr(lang, "Variants differ only by the values set; every variant uses seed {seed}, so the differences are the "
                      "effect of the change, not sampling noise between variants.", seed=result.seed),
             tr(lang, "Amounts in 万元; ± is the Monte Carlo standard error; each variant's full report: <code>sim report "
                      "{out}/v01</code> …", out=esc(str(result.out)))]
    body = [f"<h1>{esc(title)}</h1>", f'<p class="meta">{meta}</p>', box(notes, title=tr(lang, "How to read this sweep")),
            section("variants", tr(lang, "Variants"), table(headers, rows)),
            section("chart-sweep", tr(lang, "What changes across the variants"), pictures),
            section("comparison", tr(lang, "Comparison per pool and year (budget needed at {risk} risk)", risk=percent(result.risk, 0)),
                    _comparison_table(result, single, lang))]
    return document(title, "".join(body), lang="zh-CN" if lang == "zh" else "en")


def _comparison_table(result: SweepResult, single: bool, lang: Lang) -> str:
    headers = [tr(lang, "pool"), tr(lang, "year"), tr(lang, "variant")] + short_paths([a.path for a in result.axes])
    headers += [Cell(tr(lang, h), num=True) for h in ("pool budget", "P(dry) ± se", "demand mean", "granted mean ± se",
                                                      "unmet mean ± se", "budget needed", "needed 95% CI")]
    rows = []
    moved = result.varying_pools()
    frame = result.table.filter(pl.col("pool").is_in(moved)) if moved else result.table
    for (pool,), by_pool in frame.group_by("pool", maintain_order=True):
        first = True
        for (year,), part in by_pool.group_by("year", maintain_order=True):
            for i, r in enumerate(part.iter_rows(named=True)):
                lead = [Cell(short_pool(pool, single), sub=r["title"] or "", rowspan=by_pool.height, cls="title")
                        if first else None, Cell(str(year), rowspan=part.height) if i == 0 else None]
                first = False
                rows.append(lead + [Cell(r["variant"])] + [Cell(str(r[a.path])) for a in result.axes] + _figures(r, lang))
    same = sorted(set(result.table["pool"].to_list()) - set(moved)) if moved else []
    note = (f"<p>{tr(lang, 'Pools with the same figures in every variant (in sweep.parquet, left out here): {pools}.', pools=esc(', '.join(short_pool(p, single) for p in same)))}</p>"
            if same else "")
    return table(headers, rows) + note


def _figures(r: dict, lang: Lang) -> list[Cell]:
    return [Cell(wan(r["budget_yuan"], 0) if r["budget_yuan"] is not None else tr(lang, "no limit"), num=True),
            Cell(f"{percent(r['p_dry'])} ± {percent(r['p_dry_se'])}", num=True),
            Cell(wan(r["demand_mean"], 0), num=True),
            Cell(f"{wan(r['granted_mean'], 0)} ± {wan(r['granted_se'], 0)}", num=True),
            Cell(f"{wan(r['unmet_mean'], 0)} ± {wan(r['unmet_se'], 0)}", num=True),
            Cell(wan_up(r["budget_needed_yuan"]), num=True),
            Cell(interval(r["budget_needed_lo"], r["budget_needed_hi"], wan_up), num=True)]
