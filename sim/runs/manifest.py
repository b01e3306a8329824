"""The manifest: what a run folder holds, as one typed object read once.

``manifest.json`` says which scenario (file, fingerprint), seed, number of runs and batch
size made the tables, which batches are complete, which engine and executor ran them,
and the programs, pools and funders with their Chinese titles, so that a report never
needs the scenario again.  It is the run's commit record: a batch counts only once the
manifest lists it.  Everything that reads a run folder (report, sizing, sweep, the
command line) gets a :class:`Manifest`, never a raw dictionary, and a damaged or foreign
``manifest.json`` is refused with the field at fault.

Examples
--------
>>> m = read_manifest("outputs/binjiang")  # doctest: +SKIP
>>> m.runs, m.seed, m.complete, m.pool("binjiang.compute_vouchers").title  # doctest: +SKIP
(1000, 20261121, True, '算力券')
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import OutputError

SCHEMA_VERSION = 2  # 2: program_years.payable_yuan
MANIFEST = "manifest.json"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class ScenarioInfo(_Frozen):
    """The scenario a run came from: its file, the file's sha256 and the inputs' fingerprint."""

    file: str
    name: str
    title: str = ""
    file_sha256: str | None = None
    sha256: str = ""
    settings: dict[str, str] = {}  # paths set on top of the file (`sim run --set PATH=VALUE`), as YAML text
    inputs: dict[str, str] = {}  # data files the scenario reads (from_data, posterior) → sha256; part of sha256 above


class ProgramInfo(_Frozen):
    policy: str
    program: str
    clause: str | None = None
    title: str | None = None
    pool: str
    selection: str | None = None

    @property
    def key(self) -> str:
        return f"{self.policy}.{self.program}"


class PoolInfo(_Frozen):
    pool: str
    title: str | None = ""
    rationing: str = "first_come"
    rationing_basis: str = ""
    period: str = "year"
    budgets: dict[int, int | None] = {}  # budget year → yuan; None: no limit


class Manifest(_Frozen):
    """One run folder's record; see the module docstring."""

    schema_version: int = SCHEMA_VERSION
    sim_version: str = ""
    scenario: ScenarioInfo
    seed: int
    runs: int = Field(gt=0)
    batch_size: int = Field(gt=0)
    batches: int = Field(ge=0)
    batches_complete: tuple[int, ...] = ()
    complete: bool = False
    events: bool = False
    tables: tuple[str, ...] = ("program_years", "pool_years", "funder_years")
    engine: str = ""
    engine_reason: str = ""
    executor: str = ""
    workers: int = 1
    dask_scheduler: str | None = None
    python: str = ""
    started: str = ""
    finished: str | None = None
    horizon: tuple[str, str]
    programs: tuple[ProgramInfo, ...] = ()
    pools: tuple[PoolInfo, ...] = ()
    funders: tuple[str, ...] = ()

    @property
    def single_policy(self) -> bool:
        """True when every program comes from one policy (ids can then drop the policy)."""
        return len({p.policy for p in self.programs}) <= 1

    def pool(self, key: str) -> PoolInfo | None:
        return next((p for p in self.pools if p.pool == key), None)

    def pool_titles(self) -> dict[str, str]:
        return {p.pool: p.title or "" for p in self.pools}

    def batch_ranges(self) -> list[tuple[int, int, int]]:
        """(batch index, first run, last run exclusive) of every batch of the run."""
        return [(i, first, min(first + self.batch_size, self.runs))
                for i, first in enumerate(range(0, self.runs, self.batch_size))]

    def runs_done(self) -> int:
        done = set(self.batches_complete)
        return sum(last - first for i, first, last in self.batch_ranges() if i in done)

    def with_batch(self, index: int) -> "Manifest":
        """This manifest with one more batch listed as complete."""
        return self.model_copy(update={"batches_complete": tuple(sorted(set(self.batches_complete) | {index}))})

    def without_batches(self, indices: set[int]) -> "Manifest":
        kept = tuple(b for b in self.batches_complete if b not in indices)
        return self.model_copy(update={"batches_complete": kept, "complete": False})

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    def parquet_metadata(self, what: str, units: dict[str, str]) -> dict[str, str]:
        """Metadata for a Parquet file derived from this run (summary, sizing, sweep): its origin and units."""
        return {"sim.table": what, "sim.schema_version": str(SCHEMA_VERSION), "sim.version": self.sim_version,
                "sim.scenario": self.scenario.name, "sim.scenario_sha256": self.scenario.sha256,
                "sim.seed": str(self.seed), "sim.runs": str(self.runs), "sim.units": json.dumps(units)}


def read_manifest(out: str | Path) -> Manifest:
    """The manifest of a run folder; :class:`OutputError` when it is missing or damaged."""
    path = Path(out) / MANIFEST
    if not Path(out).exists():
        raise OutputError(f"{out}: no such folder; run `sim run SCENARIO --out {out}` first")
    if not path.exists():
        raise OutputError(f"{out}: no {MANIFEST}; this is not the output of `sim run` (or the run never started)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OutputError(f"{path}: unreadable manifest ({exc}); run again with --force") from None
    return parse_manifest(data, path)


def parse_manifest(data: object, path: str | Path = MANIFEST) -> Manifest:
    if isinstance(data, dict) and data.get("schema_version", SCHEMA_VERSION) > SCHEMA_VERSION:
        raise OutputError(f"{path}: written by a newer sim (schema version {data['schema_version']}, "
                          f"this sim reads {SCHEMA_VERSION}); upgrade sim to read it")
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(top)"
        raise OutputError(f"{path}: damaged manifest: {field}: {err['msg']}; run again with --force") from None


def write_manifest(out: Path, manifest: Manifest) -> None:
    """Write the manifest atomically: a reader sees the old one or the new one, never half."""
    write_text(Path(out) / MANIFEST, manifest.to_json())


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to a temporary name, then rename it into place; no temporary left on failure."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
