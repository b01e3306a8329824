"""Storage: Parquet tables and a manifest, written so that nothing half-done looks done.

An output folder holds one folder per table (``program_years/``, ``pool_years/``,
``funder_years/``, ``cash_years/``, ``cash_months/`` and, with events, ``awards/`` and
``payments/``), each made of one Parquet part per batch of runs, and ``manifest.json``
(:mod:`sim.runs.manifest`), the commit record.

How a batch is committed: workers write its parts into ``.staged/`` (each file under a
temporary name, then renamed); the parent lists the batch in the manifest, then moves
the parts into the table folders.  So the table folders hold only committed batches, and
DuckDB, pandas or polars reading ``program_years/*.parquet`` during a run never see a
batch the manifest does not list; a crash at any moment leaves either a committed batch
or one that ``--resume`` computes again (:func:`settle`).

How a run is replaced (``--force``): the new run is written in ``.next/``, a run folder
of its own, and swapped in by renames once complete (:func:`swap`); until then the
earlier run stays whole and readable, and a crash during the swap is finished by
:func:`recover`.  Hidden names (``.staged``, ``.next``, ``.old``, ``.sim-lock``) are the
machinery; everything else is the run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from sim import __version__
from sim.engine import parameters
from sim.engine.outcomes import OUTCOMES
from sim.errors import OutputError
from sim.runs.manifest import MANIFEST, SCHEMA_VERSION, Manifest, read_manifest, write_text
from sim.scenario.model import Model

__all__ = ["MANIFEST", "SCHEMA_VERSION", "SCHEMAS", "TABLES", "Manifest", "read_manifest", "scan", "to_arrow",
           "write_part", "part_path"]

TABLES = ("program_years", "pool_years", "funder_years", "cash_years", "cash_months", "awards", "payments", "parameters")
REPORT_FILES = ("report.html", "report.xlsx", "summary.parquet", "sensitivity.parquet")
STAGED = ".staged"  # parts written by workers, waiting for their batch to be committed
NEXT = ".next"  # a run that replaces this folder's run once it is complete
OLD = ".old"  # the replaced run, during the swap

SCHEMAS: dict[str, pa.Schema] = {
    "program_years": pa.schema([
        ("run", pa.int32()), ("year", pa.int32()), ("policy", pa.string()), ("program", pa.string()),
        ("pool", pa.string()), ("demand_yuan", pa.int64()), ("payable_yuan", pa.int64()), ("granted_yuan", pa.int64()),
        ("applications", pa.int64()), ("full", pa.int64()), ("partial", pa.int64()), ("refused", pa.int64()),
    ]),
    "pool_years": pa.schema([
        ("run", pa.int32()), ("year", pa.int32()), ("pool", pa.string()), ("budget_yuan", pa.int64()),
        ("granted_yuan", pa.int64()), ("remaining_yuan", pa.int64()), ("exhausted_on", pa.date32()),
    ]),
    "funder_years": pa.schema([
        ("run", pa.int32()), ("year", pa.int32()), ("funder", pa.string()), ("granted_yuan", pa.int64()),
    ]),
    "awards": pa.schema([
        ("run", pa.int32()), ("date", pa.date32()), ("firm", pa.int64()), ("policy", pa.string()),
        ("program", pa.string()), ("entitled_yuan", pa.int64()), ("granted_yuan", pa.int64()),
        ("outcome", pa.string()), ("pool_balance_yuan", pa.int64()),
    ]),
    "cash_years": pa.schema([
        ("run", pa.int32()), ("year", pa.int32()), ("policy", pa.string()), ("program", pa.string()),
        ("pool", pa.string()), ("funder", pa.string()), ("committed_yuan", pa.int64()), ("paid_yuan", pa.int64()),
        ("outstanding_yuan", pa.int64()), ("lapsed_yuan", pa.int64()),
    ]),
    "cash_months": pa.schema([
        ("run", pa.int32()), ("month", pa.date32()), ("pool", pa.string()), ("funder", pa.string()),
        ("paid_yuan", pa.int64()),
    ]),
    "payments": pa.schema([
        ("run", pa.int32()), ("firm", pa.int64()), ("policy", pa.string()), ("program", pa.string()),
        ("granted_on", pa.date32()), ("date", pa.date32()), ("instalment", pa.int16()), ("paid_yuan", pa.int64()),
        ("lapsed_yuan", pa.int64()),
    ]),
    "parameters": pa.schema([("run", pa.int32()), ("name", pa.string()), ("value", pa.float64())]),
}

# Schemas earlier versions wrote, still read: schema version 1 had no program_years.payable_yuan
# (the report then sizes on demand and says so).
EARLIER: dict[str, tuple[pa.Schema, ...]] = {
    "program_years": (pa.schema([f for f in SCHEMAS["program_years"] if f.name != "payable_yuan"]),),
}


def to_arrow(model: Model, name: str, cols: dict[str, np.ndarray]) -> pa.Table:
    """Turn a batch's numpy columns (with index codes) into a table of the documented schema.

    Names (policy, program, pool, funder, outcome) are looked up from their codes by
    Arrow's ``take``, so no Python string is made per row.
    """
    epoch = (model.start - dt.date(1970, 1, 1)).days
    policies = [p.policy for p in model.programs]
    programs = [p.id for p in model.programs]
    pool_of_program = [model.pools[p.pool].key for p in model.programs]
    data: dict[str, Any] = {"run": cols["run"], "year": cols.get("year")}
    if name == "program_years":
        i = cols["program_index"]
        data.update(policy=_names(policies, i), program=_names(programs, i), pool=_names(pool_of_program, i))
        for k in ("demand_yuan", "payable_yuan", "granted_yuan", "applications", "full", "partial", "refused"):
            data[k] = cols[k]
    elif name == "pool_years":
        data.update(pool=_names([pool.key for pool in model.pools], cols["pool_index"]), granted_yuan=cols["granted_yuan"])
        data["budget_yuan"] = pa.array(cols["budget_yuan"], mask=cols["budget_yuan"] < 0)
        data["remaining_yuan"] = pa.array(cols["remaining_yuan"], mask=cols["remaining_yuan"] < 0)
        day = cols["exhausted_day"]
        data["exhausted_on"] = pa.array((day + epoch).astype(np.int32), type=pa.int32(), mask=day < 0).cast(pa.date32())
    elif name == "funder_years":
        data.update(funder=_names(model.funders, cols["funder_index"]), granted_yuan=cols["granted_yuan"])
    elif name == "cash_years":
        i = cols["program_index"]
        data.update(policy=_names(policies, i), program=_names(programs, i), pool=_names(pool_of_program, i),
                    funder=_names(model.funders, cols["funder_index"]))
        for k in ("committed_yuan", "paid_yuan", "outstanding_yuan", "lapsed_yuan"):
            data[k] = cols[k]
    elif name == "cash_months":
        del data["year"]
        first = np.datetime64(model.start, "M")
        day = (first + cols["month_index"]).astype("datetime64[D]").astype(np.int64)  # the month's first day since 1970
        data.update(month=pa.array(day.astype(np.int32), type=pa.int32()).cast(pa.date32()),
                    pool=_names([pool.key for pool in model.pools], cols["pool_index"]),
                    funder=_names(model.funders, cols["funder_index"]), paid_yuan=cols["paid_yuan"])
    elif name == "payments":
        i = cols["program_index"]
        del data["year"]
        data.update(firm=cols["firm"], policy=_names(policies, i), program=_names(programs, i),
                    granted_on=_dates(cols["granted_day"], epoch), date=_dates(cols["day"], epoch),
                    instalment=cols["instalment"], paid_yuan=cols["paid_yuan"], lapsed_yuan=cols["lapsed_yuan"])
    elif name == "parameters":
        del data["year"]
        data.update(name=_names(parameters.names(model.scenario), cols["name_index"]), value=cols["value"])
    else:
        i = cols["program_index"]
        del data["year"]
        data.update(date=pa.array((cols["day"] + epoch).astype(np.int32), type=pa.int32()).cast(pa.date32()),
                    firm=cols["firm"], policy=_names(policies, i), program=_names(programs, i),
                    entitled_yuan=cols["entitled_yuan"], granted_yuan=cols["granted_yuan"],
                    outcome=_names(list(OUTCOMES), cols["outcome_code"]),
                    pool_balance_yuan=pa.array(cols["pool_balance_yuan"], mask=cols["pool_balance_yuan"] < 0))
    schema = SCHEMAS[name]
    table = pa.table({f.name: pa.array(data[f.name], type=f.type) if not isinstance(data[f.name], pa.Array) else data[f.name] for f in schema}, schema=schema)
    return table.replace_schema_metadata(part_metadata(model, name))


def _dates(day: np.ndarray, epoch: int) -> pa.Array:
    return pa.array((day + epoch).astype(np.int32), type=pa.int32()).cast(pa.date32())


UNITS: dict[str, dict[str, str]] = {
    "program_years": {"year": "budget year", "demand_yuan": "yuan",
                      "payable_yuan": "yuan (what the pool would grant with unlimited money)", "granted_yuan": "yuan",
                      "applications": "count",
                      "full": "count", "partial": "count", "refused": "count"},
    "pool_years": {"year": "budget year", "budget_yuan": "yuan (null: no limit)", "granted_yuan": "yuan",
                   "remaining_yuan": "yuan (null: no limit)", "exhausted_on": "date (null: never)"},
    "funder_years": {"year": "budget year", "granted_yuan": "yuan"},
    "awards": {"date": "date", "entitled_yuan": "yuan", "granted_yuan": "yuan", "pool_balance_yuan": "yuan (null: no limit)"},
    "cash_years": {"year": "fiscal year (the horizon's, then the tail's)", "committed_yuan": "yuan (granted in its budget year)",
                   "paid_yuan": "yuan (paid in the year)", "outstanding_yuan": "yuan (committed, not paid nor lapsed, at the year's end)",
                   "lapsed_yuan": "yuan (never to be paid, lapsed in the year)"},
    "cash_months": {"month": "date (first day of the month)", "paid_yuan": "yuan (paid in the month)"},
    "payments": {"granted_on": "date (decided)", "date": "date (paid or lapsed)", "instalment": "count (0: the first or only)",
                 "paid_yuan": "yuan", "lapsed_yuan": "yuan"},
    "parameters": {"name": "the uncertain number's path in the scenario (factors.NAME: a common factor)",
                   "value": "float64 in the field's unit: yuan for money, a fraction for shares, probabilities and "
                            "rates, firms, firms a year, dates as days since 1970-01-01; a factor as its standard "
                            "normal score (each name's unit: sim.parameters)"},
}


def part_metadata(model: Model, table: str) -> dict[str, str]:
    """What a Parquet part says about itself: which scenario and seed, which schema, which units.

    Read it with ``pyarrow.parquet.read_schema(path).metadata`` or DuckDB's
    ``parquet_kv_metadata``: a part found on its own still says where it came from.
    """
    scenario = model.scenario
    out = {"sim.table": table, "sim.schema_version": str(SCHEMA_VERSION), "sim.version": __version__,
           "sim.scenario": scenario.name, "sim.scenario_sha256": scenario.sha256,
           "sim.seed": str(scenario.monte_carlo.seed), "sim.units": json.dumps(UNITS[table])}
    if table == "parameters":
        out["sim.parameters"] = json.dumps(parameters.units(scenario), ensure_ascii=False)
    return out


def _names(names: list[str], codes: np.ndarray) -> pa.Array:
    """The name of each code, as an Arrow string array."""
    return pa.array(names, type=pa.string()).take(pa.array(codes))


def part_path(out: Path, table: str, batch: int) -> Path:
    """Where a committed batch's part of ``table`` lives."""
    return Path(out) / table / f"part-{batch:06d}.parquet"


def staged_path(out: Path, table: str, batch: int) -> Path:
    """Where a batch's part waits until the manifest lists the batch."""
    return Path(out) / STAGED / table / f"part-{batch:06d}.parquet"


def write_part(out: Path, table: str, batch: int, data: pa.Table) -> None:
    """Write one table's part of one batch into the staging folder, atomically.

    Workers call this; the part becomes visible under ``out/<table>/`` only when the
    parent commits the batch (:func:`publish`).  A failed write (a full disk) leaves no
    temporary file behind.
    """
    path = staged_path(out, table, batch)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(data, tmp, compression="zstd")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def publish(out: Path, batch: int, tables: tuple[str, ...]) -> None:
    """Move a committed batch's parts from the staging folder to the table folders."""
    for table in tables:
        src, dst = staged_path(out, table, batch), part_path(out, table, batch)
        if src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)


def tidy(out: Path) -> None:
    """Remove the staging folder of a complete run (every part is in place)."""
    shutil.rmtree(Path(out) / STAGED, ignore_errors=True)


def write_json(path: Path, data: dict) -> None:
    write_text(path, json.dumps(data, ensure_ascii=False, indent=2, default=str))


def clear(out: Path) -> None:
    """Remove what `sim run` and `sim report` write in ``out`` (and nothing else)."""
    for name in (*TABLES, STAGED, NEXT, OLD):
        shutil.rmtree(out / name, ignore_errors=True)
    for name in (MANIFEST, *REPORT_FILES):
        (out / name).unlink(missing_ok=True)


def holds_run(out: Path) -> bool:
    """True when ``out`` has a manifest or a table folder: something a new run must not mix with."""
    return (out / MANIFEST).exists() or any((out / t).exists() for t in TABLES)


# --------------------------------------------------------------------------- checking and repairing parts

def part_problem(path: Path, table: str) -> str | None:
    """Why a part cannot be read as ``table`` (missing, not Parquet, another schema), or None."""
    if not path.exists():
        return "missing"
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        return f"not a readable Parquet file ({str(exc).splitlines()[0]})"
    if schema.remove_metadata() != SCHEMAS[table] and schema.remove_metadata() not in EARLIER.get(table, ()):
        return "its columns are not those of the table (written by another version, or another file)"
    return None


def damaged_parts(out: Path, manifest: Manifest, tables: tuple[str, ...] | None = None) -> list[tuple[int, Path, str]]:
    """(batch, part, what is wrong) for every listed part that is missing or unreadable."""
    found = []
    for table in tables or manifest.tables:
        for batch in manifest.batches_complete:
            path = part_path(out, table, batch)
            problem = part_problem(path, table)
            if problem:
                found.append((batch, path, problem))
    return found


def settle(out: Path, manifest: Manifest) -> tuple[Manifest, list[str]]:
    """Bring an interrupted run's folder in line with its manifest before it resumes.

    Parts of listed batches still in the staging folder (the run stopped between the
    manifest and the move) are moved into place; parts of batches the manifest does not
    list, staged or not, and temporary files are deleted; a listed batch with a missing or
    unreadable part is taken off the list, to be computed again.  Returns the manifest to
    resume with and one note per batch taken off.
    """
    for batch in manifest.batches_complete:
        publish(out, batch, manifest.tables)
    shutil.rmtree(out / STAGED, ignore_errors=True)
    notes = []
    damaged = damaged_parts(out, manifest)
    for batch, path, problem in damaged:
        notes.append(f"{path}: {problem}; its batch is computed again")
    manifest = manifest.without_batches({b for b, _, _ in damaged}) if damaged else manifest
    listed = set(manifest.batches_complete)
    for table in TABLES:
        folder = out / table
        if not folder.exists():
            continue
        for path in folder.iterdir():
            if path.name.startswith(".") or (path.name.startswith("part-") and _batch_of(path) not in listed):
                path.unlink(missing_ok=True)
    return manifest, notes


def _batch_of(path: Path) -> int | None:
    try:
        return int(path.stem.split("-")[1])
    except (IndexError, ValueError):
        return None


# --------------------------------------------------------------------------- replacing a run

def replacement(out: Path) -> Path:
    """The folder where a run that will replace ``out``'s run is written."""
    return Path(out) / NEXT


def swap(out: Path) -> None:
    """Replace ``out``'s run by the complete one in ``out/.next``; safe to repeat after a crash.

    The old manifest goes first (a reader then sees no run rather than a mixed one), then
    each table folder, then the new manifest; the old run and its report files end in
    ``out/.old``, which is deleted last.  Every step is a rename, so a crash at any point
    leaves a state :func:`recover` completes.
    """
    nxt, old = replacement(out), Path(out) / OLD
    new = read_manifest(nxt)
    old.mkdir(exist_ok=True)
    for name in (MANIFEST, *REPORT_FILES, STAGED):
        if (out / name).exists():
            _move(out / name, old / name)
    for table in TABLES:
        if (nxt / table).exists():
            if (out / table).exists():
                _move(out / table, old / table)
            os.replace(nxt / table, out / table)
        elif table not in new.tables and (out / table).exists():
            _move(out / table, old / table)
    os.replace(nxt / MANIFEST, out / MANIFEST)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(nxt, ignore_errors=True)


def _move(src: Path, dst: Path) -> None:
    if dst.is_dir():
        shutil.rmtree(dst)
    elif dst.exists():
        dst.unlink()
    os.replace(src, dst)


def recover(out: Path) -> None:
    """Finish or clean up what a crash left in ``out`` (call with the folder's lock held).

    A complete run in ``.next`` whose swap was cut short is swapped in; the remains of a
    finished swap (``.old``) are deleted; ``.next`` without a manifest (a replacement that
    never started) is deleted.  An incomplete run in ``.next`` is kept: ``--resume``
    finishes it.
    """
    out = Path(out)
    nxt = replacement(out)
    if (nxt / MANIFEST).exists():
        try:
            pending = read_manifest(nxt)
        except OutputError:
            pending = None
        if pending is not None and pending.complete:
            swap(out)
            return
        if pending is None:
            shutil.rmtree(nxt, ignore_errors=True)
    elif nxt.exists():
        shutil.rmtree(nxt, ignore_errors=True)
    shutil.rmtree(out / OLD, ignore_errors=True)


def pending_replacement(out: Path) -> Manifest | None:
    """The manifest of an interrupted replacement run in ``out/.next``, if there is one."""
    path = replacement(out) / MANIFEST
    return read_manifest(replacement(out)) if path.exists() else None


# --------------------------------------------------------------------------- reading

def scan(out: str | Path, table: str, *, allow_incomplete: bool = False, manifest: Manifest | None = None) -> pl.LazyFrame:
    """A lazy frame over the complete batches of one table of a run's outputs.

    ``manifest``: the run's manifest as already read (so that several tables are read
    against one and the same manifest); read from ``out`` when omitted.  Raises
    :class:`OutputError` when the folder is not a run, the run is incomplete (unless
    ``allow_incomplete``), the table was not written (``awards`` needs ``--events``), or a
    part is missing or unreadable (naming it, and how to recompute it).
    """
    out = Path(out)
    manifest = manifest or read_manifest(out)
    if not manifest.complete and not allow_incomplete:
        raise OutputError(f"{out}: the run is incomplete ({len(manifest.batches_complete)} of {manifest.batches} batches); "
                          f"finish it with `{resume_command(manifest, out)}`")
    if table not in manifest.tables:
        hint = " (run with --events to record it)" if table in ("awards", "payments") else ""
        raise OutputError(f"{out}: table {table} was not written{hint}")
    damaged = damaged_parts(out, manifest, (table,))
    if damaged:
        _, path, problem = damaged[0]
        more = f" (and {len(damaged) - 1} more)" if len(damaged) > 1 else ""
        raise OutputError(f"{path}: {problem}{more}; `{resume_command(manifest, out)}` computes its batch again")
    paths = [part_path(out, table, b) for b in sorted(manifest.batches_complete)]
    if not paths:
        return pl.LazyFrame(schema=pl.from_arrow(SCHEMAS[table].empty_table()).schema)
    return pl.scan_parquet([str(p) for p in paths])


def resume_command(manifest: Manifest, out: Path) -> str:
    """The exact command that finishes (or repairs) the run in ``out`` (with the ``--set`` it was started with)."""
    sets = [arg for path, value in manifest.scenario.settings.items() for arg in ("--set", f"{path}={value}")]
    return shlex.join(["sim", "run", manifest.scenario.file, *sets, "--out", str(out), "--resume"])
