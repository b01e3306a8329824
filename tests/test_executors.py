"""Executors and interruptions: same tables on Dask, after a dead worker, after a killed run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from sim.runs.runner import simulate
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("program_years", "pool_years", "funder_years")


def tables(out: Path) -> dict[str, pl.DataFrame]:
    return {t: pl.read_parquet(out / t / "*.parquet").sort(pl.all()) for t in TABLES}


def same(a: Path, b: Path) -> None:
    ta, tb = tables(a), tables(b)
    for t in TABLES:
        assert ta[t].equals(tb[t]), t


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """60 runs of Binjiang on local processes: what every other way must reproduce."""
    out = tmp_path_factory.mktemp("ref") / "out"
    simulate(load_scenario(ROOT / "scenarios/binjiang.yaml"), runs=60, batch_size=5, workers=2, out=out)
    return out


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40) as c:
        yield c


def test_dask_local_cluster_gives_the_same_tables(reference, tmp_path):
    out = tmp_path / "dask"
    result = simulate(load_scenario(ROOT / "scenarios/binjiang.yaml"), runs=60, batch_size=5, workers=2,
                      out=out, executor="dask")
    assert result.manifest.executor == "dask" and result.manifest.complete
    same(reference, out)


def test_existing_cluster_survives_a_killed_worker(reference, cluster, tmp_path):
    from distributed import Client

    with Client(cluster.scheduler_address) as client:
        pids = list(client.run(os.getpid).values())
    killed = []

    def kill_one(done: int, total: int) -> None:
        if done > 0 and not killed:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    out = tmp_path / "killed"
    result = simulate(load_scenario(ROOT / "scenarios/binjiang.yaml"), runs=60, batch_size=5, workers=2, out=out,
                      executor="dask", address=cluster.scheduler_address, progress=kill_one)
    assert killed and result.manifest.complete
    same(reference, out)


def test_unreachable_scheduler_is_a_clear_error(cli, tmp_path):
    result = cli("run", "scenarios/binjiang.yaml", "--runs", "4", "--executor", "dask",
                 "--address", "tcp://127.0.0.1:9", "--out", tmp_path / "x")
    assert result.code == 2
    assert "cannot reach the Dask scheduler" in result.err


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_run_resumes_to_identical_tables(tmp_path, sig):
    args = [sys.executable, "-m", "sim", "run", "scenarios/binjiang.yaml", "--runs", "800", "--batch-size", "20",
            "--workers", "2", "--engine", "simpy"]
    whole = tmp_path / "whole"
    subprocess.run(args + ["--out", str(whole)], cwd=ROOT, check=True, capture_output=True)
    cut = tmp_path / "cut"
    proc = subprocess.Popen(args + ["--out", str(cut)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        manifest = cut / "manifest.json"
        if manifest.exists():
            try:
                if len(json.loads(manifest.read_text())["batches_complete"]) >= 4:
                    break
            except (json.JSONDecodeError, KeyError):
                pass
        time.sleep(0.02)
    os.killpg(proc.pid, sig)
    proc.wait(timeout=30)
    state = json.loads((cut / "manifest.json").read_text())
    assert not state["complete"], "the run finished before it could be interrupted"
    refused = subprocess.run(args + ["--out", str(cut)], cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode == 2 and "--resume" in refused.stderr
    subprocess.run(args + ["--out", str(cut), "--resume"], cwd=ROOT, check=True, capture_output=True)
    assert json.loads((cut / "manifest.json").read_text())["complete"]
    same(whole, cut)
