"""What a finance office saw in past years: the figures a calibration must reproduce.

Last year's applications and awards per program (from the award lists, 公示名单), what
was paid, and whether and when a voucher pool closed early.  An observed file says them
per program or pool and budget year, with where they come from::

    why: 2025 figures from the district's award lists and the pool's closing notice.
    programs:
      binjiang.compute_voucher:
        2025: {applications: 121, awards: 121, granted: 9800万}
    pools:
      binjiang.compute_vouchers:
        2025: {dry: true, on: 2025-04-18}     # or {dry: false}; or {dry: true} without the date

Each becomes a :class:`Figure` the runs' tables also give: ``applications`` (applications
made, ``program_years.applications``), ``awards`` (paid in full or in part: ``full +
partial``), ``granted`` (yuan, ``granted_yuan``), and for a pool ``dry_day``: the day of
the year it ran dry (1 = 1 January; a pool that lasted the year counts as the year's
length + 1, so "did not run dry" is the far end of the same scale) or, given only
``dry: true``, ``dry`` (1 if it ran dry that year, else 0).

A program, pool or year the scenario does not have, a measure it does not know, or a
value that is not one is an error with the file and line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from sim.errors import InputError, MoneyError, Problem
from sim.policy.loader import dotted, line_of, read_yaml
from sim.policy.money import parse_money
from sim.scenario.model import Model

PROGRAM_MEASURES = ("applications", "awards", "granted")
POOL_MEASURES = ("dry", "on")


class ObservedError(InputError):
    """An observed file that cannot be read, or names what the scenario does not have."""

    kind = "observed"


@dataclass(frozen=True)
class Figure:
    """One observed figure: a program's or pool's measure in one budget year."""

    kind: str  # program | pool
    key: str  # policy.program or policy.pool
    year: int
    measure: str  # applications | awards | granted | dry | dry_day
    value: float
    line: int | None = None

    @property
    def label(self) -> str:
        return f"{self.key} {self.year} {self.measure}"

    def shown(self, value: float) -> str:
        """A value of this figure as a reader reads it: 9,800万, 121, 2025-04-18, 'not dry'."""
        if value != value:
            return "—"
        if self.measure == "granted":
            return f"{value / 10_000:,.0f}万"
        if self.measure == "dry_day":
            last = (dt.date(self.year, 12, 31) - dt.date(self.year, 1, 1)).days + 1
            day = int(round(value))
            return "not dry" if day > last else str(dt.date(self.year, 1, 1) + dt.timedelta(days=day - 1))
        if self.measure == "dry":
            return f"{value:.0%}" if 0 < value < 1 else ("dry" if value >= 1 else "not dry")
        return f"{value:,.0f}" if value == round(value) else f"{value:,.1f}"


@dataclass(frozen=True)
class Observed:
    """The figures of an observed file, in the file's order, and where they come from."""

    file: str
    why: str
    figures: tuple[Figure, ...]


def read_observed(path: str | Path, model: Model) -> Observed:
    """Read and check an observed file against the scenario's programs, pools and years.

    Raises :class:`ObservedError` listing every problem with its line.
    """
    path = Path(path)
    raw, lines = read_yaml(path, ObservedError)
    file = str(path)
    problems: list[Problem] = []

    def bad(loc: tuple, message: str) -> None:
        problems.append(Problem(file, dotted(loc), message, line_of(lines, loc)))

    if not isinstance(raw, dict):
        raise ObservedError.one(file, "", "must be a mapping with why, programs and pools", 1)
    for key in raw:
        if key not in ("why", "programs", "pools"):
            bad((key,), "unknown field; an observed file has why, programs and pools")
    why = raw.get("why")
    if not isinstance(why, str) or not why.strip():
        bad(("why",), "say where these figures come from (e.g. the 2025 award lists), or that they are synthetic")
    programs = {p.key: p for p in model.programs}
    pools = {p.key: p for p in model.pools}
    figures: list[Figure] = []
    for section, known, measures in (("programs", programs, PROGRAM_MEASURES), ("pools", pools, POOL_MEASURES)):
        entries = raw.get(section) or {}
        if not isinstance(entries, dict):
            bad((section,), f"must map each {section[:-1]} (policy.{section[:-1]}) to its years")
            continue
        for key, years in entries.items():
            if key not in known:
                bad((section, key), f"the scenario has no {section[:-1]} {key}; it has {', '.join(sorted(known))}")
                continue
            if not isinstance(years, dict):
                bad((section, key), "must map each budget year to its figures, e.g. 2025: {applications: 120}")
                continue
            for year, values in years.items():
                loc = (section, key, year)
                year = int(year) if isinstance(year, str) and year.strip().isdigit() else year
                if not isinstance(year, int) or year not in model.years:
                    bad(loc, f"year {year} is not in the scenario's horizon ({model.years[0]}–{model.years[-1]})")
                    continue
                if not isinstance(values, dict) or not values:
                    bad(loc, f"give the year's figures as a mapping, e.g. {{{measures[0]}: …}}")
                    continue
                unknown = [m for m in values if m not in measures]
                for m in unknown:
                    bad(loc + (m,), f"unknown figure; a {section[:-1]} has {', '.join(measures)}")
                if unknown:
                    continue
                try:
                    if section == "programs":
                        figures += [Figure("program", key, year, m, _count_or_money(m, v), line_of(lines, loc + (m,)))
                                    for m, v in values.items()]
                    else:
                        figures.append(_pool_figure(key, year, values, pools[key], line_of(lines, loc)))
                except _Bad as exc:
                    bad(loc + exc.sub, exc.message)
    if not figures and not problems:
        bad(("programs",), "gives no figure to calibrate to; give at least one program's or pool's figure")
    if problems:
        raise ObservedError(problems)
    return Observed(file, why.strip(), tuple(figures))


class _Bad(Exception):
    def __init__(self, message: str, sub: tuple = ()):
        super().__init__(message)
        self.message, self.sub = message, sub


def _count_or_money(measure: str, value: Any) -> float:
    if measure == "granted":
        try:
            return float(parse_money(value, measure))
        except MoneyError as exc:
            raise _Bad(str(exc), (measure,)) from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Bad(f"{value!r} is not a count (a whole number, 0 or more)", (measure,))
    return float(value)


def _pool_figure(key: str, year: int, values: dict, pool, line: int | None) -> Figure:
    dry, on = values.get("dry"), values.get("on")
    if dry is not None and not isinstance(dry, bool):
        raise _Bad(f"{dry!r} is not true or false", ("dry",))
    if on is not None and not isinstance(on, dt.date):
        raise _Bad(f"{on!r} is not a date (YYYY-MM-DD)", ("on",))
    if on is not None and dry is False:
        raise _Bad("a pool that did not run dry has no date it ran dry; leave out 'on' or say dry: true", ("on",))
    if on is not None and on.year != year:
        raise _Bad(f"{on} is not in {year}", ("on",))
    if dry is None and on is None:
        raise _Bad("say whether the pool ran dry (dry: true or false) and, if you know it, on which date (on: …)")
    if pool.budgets.get(year) is None and (dry or on is not None):
        raise _Bad(f"the scenario gives {key} no budget in {year}, so it cannot run dry; "
                   "give its budget in the policy or an override", ("dry",) if dry is not None else ("on",))
    if on is None and dry:
        return Figure("pool", key, year, "dry", 1.0, line)
    day = (on - dt.date(year, 1, 1)).days + 1 if on is not None else _year_length(year) + 1
    return Figure("pool", key, year, "dry_day", float(day), line)


def _year_length(year: int) -> int:
    return (dt.date(year, 12, 31) - dt.date(year, 1, 1)).days + 1


def simulated(program_years: pl.DataFrame, pool_years: pl.DataFrame, figures: tuple[Figure, ...]) -> np.ndarray:
    """Each run's value of each figure (runs × figures, runs ascending) from the runs' tables."""
    programs = program_years.with_columns((pl.col("policy") + "." + pl.col("program")).alias("key"),
                                          (pl.col("full") + pl.col("partial")).alias("awards"))
    runs = np.sort(programs["run"].unique().to_numpy())
    out = np.zeros((len(runs), len(figures)))
    for j, f in enumerate(figures):
        if f.kind == "program":
            column = {"applications": "applications", "awards": "awards", "granted": "granted_yuan"}[f.measure]
            rows = programs.filter((pl.col("key") == f.key) & (pl.col("year") == f.year)).sort("run")
            values = rows[column].cast(pl.Float64).to_numpy()
        else:
            rows = pool_years.filter((pl.col("pool") == f.key) & (pl.col("year") == f.year)).sort("run")
            if f.measure == "dry":
                values = rows["exhausted_on"].is_not_null().cast(pl.Float64).to_numpy()
            else:
                day = rows.select((pl.col("exhausted_on") - pl.lit(dt.date(f.year, 1, 1))).dt.total_days() + 1)
                values = day.to_series().fill_null(_year_length(f.year) + 1).cast(pl.Float64).to_numpy()
        out[:, j] = values
    return out
