"""Footprint: how much memory and disk a scenario's runs need, estimated before they start.

A typo such as ``firms_at_start: 1000000000`` or ``--runs 100000000000000000000`` must be
refused with an estimate, not discovered when the machine runs out of memory or disk.
One run holds its firms (a few numbers each) and its applications (one row each, with
the temporaries of sampling and deciding); measured on the shipped scenarios, a firm
costs about 600 bytes and an application about 150 while a run is computed, and a run
writes about 12 bytes per table row (Parquet, zstd), 16 per decision with ``--events``.
The constants below carry a safety margin of about 1.5×: the estimate is meant to
catch the impossible, not to budget the possible to the megabyte.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from sim.scenario.schema import ScenarioFile

FIRM_BYTES = 1_000  # per firm, while one run is computed
APPLICATION_BYTES = 250  # per application, while one run is computed
EVENT_BYTES = 130  # per decision held by a worker until its batch is written (--events)
ROW_BYTES = 200  # per table row held by a worker until its batch is written
PROCESS_BYTES = 250 * 2**20  # a worker process with numpy, polars and pyarrow loaded
DISK_ROW_BYTES = 12  # per table row on disk
DISK_EVENT_BYTES = 16  # per decision on disk (awards)
TAIL_YEARS = 2  # years after the horizon in which grants are typically still paid (cash tables)


@dataclass(frozen=True)
class Footprint:
    """Expected size of one run of a scenario."""

    firms: float  # firms in a run (those at the start and those arriving)
    applications: float  # applications in a run, at most one per firm, program and year
    rows: int  # rows of program_years, pool_years, funder_years, cash_years and cash_months per run

    @property
    def run_bytes(self) -> int:
        """Memory to compute one run."""
        return int(self.firms * FIRM_BYTES + self.applications * APPLICATION_BYTES)

    def batch_bytes(self, batch_size: int, events: bool) -> int:
        """Memory a worker holds for one batch: one run computed, the batch's tables collected."""
        held = self.applications * EVENT_BYTES if events else 0
        return int(PROCESS_BYTES + self.run_bytes + batch_size * (self.rows * ROW_BYTES + held))

    def disk_bytes(self, runs: int, events: bool) -> int:
        return int(runs * (self.rows * DISK_ROW_BYTES + (self.applications * DISK_EVENT_BYTES if events else 0)))


def footprint(spec: ScenarioFile, programs: int, pools: int, funders: int) -> Footprint:
    """Estimate a run of ``spec`` with that many programs, pools and funders."""
    years = len(spec.horizon.years)
    firms = applications = 0.0
    for seg in spec.segments:
        n = seg.firms_at_start + sum(seg.arrivals_in(y) for y in spec.horizon.years)
        firms += n
        applications += n * years * sum(t.p for t in seg.take_up.values())
    # cash tables: per program taken up and funder, a row a year and (per pool) a row a month, tail included
    taken = len({key for seg in spec.segments for key in seg.take_up})
    cash = (years + TAIL_YEARS) * taken * funders * 13
    return Footprint(firms=firms, applications=applications, rows=years * (programs + pools + funders) + cash)


def available_memory() -> int:
    """Memory this machine can give a run now (MemAvailable on Linux, else physical memory)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not a POSIX system
        return 2**62


def free_disk(path: Path) -> int:
    """Free bytes on the file system that holds ``path`` (or its nearest existing folder)."""
    for folder in (path, *path.parents):
        if folder.exists():
            return shutil.disk_usage(folder).free
    return shutil.disk_usage(".").free


def size(n: float) -> str:
    """Bytes for people: 3.2 GiB, 410 MiB."""
    for unit, scale in (("EiB", 2**60), ("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n / 2**10:,.0f} KiB"
