"""Storage: Parquet tables and a manifest, written so that nothing half-done looks done.

An output folder holds one folder per table (``program_years/``, ``pool_years/``,
``funder_years/`` and, with events, ``awards/``), each made of one Parquet part per batch
of runs, and ``manifest.json``.  Every file is written to a temporary name and renamed
into place, and the manifest lists the batches whose parts are all written: a reader
trusts only those, so a crash at any moment leaves either a complete batch or one that
``--resume`` computes again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from sim.engine.outcomes import OUTCOMES
from sim.errors import OutputError
from sim.scenario.model import Model

SCHEMA_VERSION = 1
TABLES = ("program_years", "pool_years", "funder_years", "awards")
MANIFEST = "manifest.json"

SCHEMAS: dict[str, pa.Schema] = {
    "program_years": pa.schema([
        ("run", pa.int32()), ("year", pa.int32()), ("policy", pa.string()), ("program", pa.string()),
        ("pool", pa.string()), ("demand_yuan", pa.int64()), ("granted_yuan", pa.int64()),
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
        for k in ("demand_yuan", "granted_yuan", "applications", "full", "partial", "refused"):
            data[k] = cols[k]
    elif name == "pool_years":
        data.update(pool=_names([pool.key for pool in model.pools], cols["pool_index"]), granted_yuan=cols["granted_yuan"])
        data["budget_yuan"] = pa.array(cols["budget_yuan"], mask=cols["budget_yuan"] < 0)
        data["remaining_yuan"] = pa.array(cols["remaining_yuan"], mask=cols["remaining_yuan"] < 0)
        day = cols["exhausted_day"]
        data["exhausted_on"] = pa.array((day + epoch).astype(np.int32), type=pa.int32(), mask=day < 0).cast(pa.date32())
    elif name == "funder_years":
        data.update(funder=_names(model.funders, cols["funder_index"]), granted_yuan=cols["granted_yuan"])
    else:
        i = cols["program_index"]
        del data["year"]
        data.update(date=pa.array((cols["day"] + epoch).astype(np.int32), type=pa.int32()).cast(pa.date32()),
                    firm=cols["firm"], policy=_names(policies, i), program=_names(programs, i),
                    entitled_yuan=cols["entitled_yuan"], granted_yuan=cols["granted_yuan"],
                    outcome=_names(list(OUTCOMES), cols["outcome_code"]),
                    pool_balance_yuan=pa.array(cols["pool_balance_yuan"], mask=cols["pool_balance_yuan"] < 0))
    schema = SCHEMAS[name]
    return pa.table({f.name: pa.array(data[f.name], type=f.type) if not isinstance(data[f.name], pa.Array) else data[f.name] for f in schema}, schema=schema)


def _names(names: list[str], codes: np.ndarray) -> pa.Array:
    """The name of each code, as an Arrow string array."""
    return pa.array(names, type=pa.string()).take(pa.array(codes))


def part_path(out: Path, table: str, batch: int) -> Path:
    return out / table / f"part-{batch:06d}.parquet"


def write_part(out: Path, table: str, batch: int, data: pa.Table) -> None:
    """Write one table's part of one batch atomically (temporary file, then rename)."""
    path = part_path(out, table, batch)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(data, tmp, compression="zstd")
    os.replace(tmp, path)


def write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def read_manifest(out: Path) -> dict:
    path = Path(out) / MANIFEST
    if not path.exists():
        raise OutputError(f"{out}: no {MANIFEST}; this is not the output of `sim run` (or the run never started)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise OutputError(f"{path}: unreadable manifest ({exc})") from None


def clear(out: Path) -> None:
    """Remove what `sim run` writes in ``out`` (and nothing else)."""
    for table in TABLES:
        shutil.rmtree(out / table, ignore_errors=True)
    for name in (MANIFEST, "report.html", "report.xlsx", "summary.parquet"):
        (out / name).unlink(missing_ok=True)


def drop_stale_parts(out: Path, complete: set[int]) -> None:
    """Delete parts of batches the manifest does not list as complete, and temporary files."""
    for table in TABLES:
        folder = out / table
        if not folder.exists():
            continue
        for path in folder.iterdir():
            if path.name.startswith("."):
                path.unlink(missing_ok=True)
            elif path.name.startswith("part-") and int(path.stem.split("-")[1]) not in complete:
                path.unlink(missing_ok=True)


def scan(out: str | Path, table: str, *, allow_incomplete: bool = False) -> pl.LazyFrame:
    """A lazy frame over the complete batches of one table of a run's outputs.

    Raises :class:`OutputError` when the folder is not a run, the run is incomplete (unless
    ``allow_incomplete``), or the table was not written (``awards`` needs ``--events``).
    """
    out = Path(out)
    if not out.exists():
        raise OutputError(f"{out}: no such folder; run `sim run SCENARIO --out {out}` first")
    manifest = read_manifest(out)
    if not manifest.get("complete") and not allow_incomplete:
        done, total = len(manifest.get("batches_complete", [])), manifest.get("batches", "?")
        raise OutputError(f"{out}: the run is incomplete ({done} of {total} batches); finish it with `sim run {manifest['scenario']['file']} --out {out} --resume`")
    if table not in manifest.get("tables", []):
        hint = " (run with --events to record it)" if table == "awards" else ""
        raise OutputError(f"{out}: table {table} was not written{hint}")
    paths = [part_path(out, table, b) for b in sorted(manifest.get("batches_complete", []))]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise OutputError(f"{out}: {len(missing)} part(s) listed in the manifest are missing, e.g. {missing[0]}; run again with --force")
    if not paths:
        return pl.LazyFrame(schema=pl.from_arrow(SCHEMAS[table].empty_table()).schema)
    return pl.scan_parquet([str(p) for p in paths])
