"""Issue 10 item 8: runs and reports display in Jupyter; Parquet files say where they come from."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import sim
from sim.runs.manifest import read_manifest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("nb") / "run"
    return sim.simulate(sim.load_scenario(ROOT / "scenarios/binjiang.yaml"), runs=20, workers=1, out=out)


def test_parquet_parts_carry_scenario_schema_and_units(result):
    manifest = read_manifest(result.out)
    for table in ("program_years", "pool_years", "funder_years"):
        meta = {k.decode(): v.decode() for k, v in pq.read_schema(next((result.out / table).glob("*.parquet"))).metadata.items()
                if k.startswith(b"sim.")}
        assert meta["sim.table"] == table and meta["sim.scenario_sha256"] == manifest.scenario.sha256
        assert meta["sim.schema_version"] == "2" and meta["sim.seed"] == str(manifest.seed)
        assert json.loads(meta["sim.units"])["granted_yuan"] == "yuan"


def test_summary_parquet_carries_its_origin(result):
    report = sim.build_report(result.out)
    sim.write_report(report)
    meta = pq.read_metadata(result.out / "summary.parquet").metadata  # the file's key-value metadata
    assert meta[b"sim.scenario_sha256"].decode() == result.manifest.scenario.sha256
    assert meta[b"sim.runs"] == b"20" and b"sim.units" in meta


def test_run_and_report_show_as_html_in_jupyter(result):
    page = result._repr_html_()
    assert "<table>" in page and "binjiang.compute_vouchers" in page and "20 runs" in page and "P(dry)" in page
    report = sim.build_report(result.out, risk=0.1)
    page = report._repr_html_()
    assert "budget needed at 10.0% risk" in page and "算力券" in page and "compute_vouchers" in page
    row = report.pool_risk.filter(report.pool_risk["pool"] == "binjiang.compute_vouchers").row(0, named=True)
    assert f"{row['budget_needed_yuan'] / 10_000:,.0f}"[:3] in page


def test_a_report_is_built_from_a_folder_one_cannot_write(result, tmp_path):
    """Someone else's results on a read-only share: the figures are read without taking the folder's lock."""
    import os
    import shutil
    import subprocess

    copy = tmp_path / "ro"
    shutil.copytree(result.out, copy)
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(copy)], capture_output=True).returncode != 0:
            pytest.skip("chattr +i is not available here to make a folder read-only for root")
    else:
        copy.chmod(0o555)
    try:
        report = sim.build_report(copy)
        assert report.runs == 20 and report.pool_risk.height > 0
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(copy)], check=True)
        else:
            copy.chmod(0o755)
