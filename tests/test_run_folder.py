"""Issue 10: nothing lost to a typo or a race.

An earlier run survives every failed `--force` (a bad option, an unreachable cluster, a
full disk, Ctrl-C); one process writes a folder at a time and the others are refused
with its name; outside readers see only committed batches; a damaged part is named and
recomputed by `--resume`; a crash during the swap of a replacement run is finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from sim.runs import executors, storage
from sim.runs.lock import LOCK
from sim.runs.manifest import read_manifest

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("program_years", "pool_years", "funder_years", "parameters")
SIM = [sys.executable, "-m", "sim"]
SLOW = ["--runs", "200", "--batch-size", "10", "--workers", "1", "--engine", "simpy"]  # about 6 s: long enough to race


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones included) with its sha256."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def tables(out: Path) -> dict[str, pl.DataFrame]:
    return {t: pl.read_parquet(out / t / "*.parquet").sort(pl.all()) for t in TABLES}


def same_tables(a: Path, b: Path) -> bool:
    ta, tb = tables(a), tables(b)
    return all(ta[t].equals(tb[t]) for t in TABLES)


@pytest.fixture(scope="module")
def earlier(tmp_path_factory) -> Path:
    """A finished 20-run Binjiang run (seed 1): the results every failure must leave intact."""
    from sim.cli.main import main

    out = tmp_path_factory.mktemp("earlier") / "run"
    assert main(["run", str(ROOT / "scenarios/binjiang.yaml"), "--runs", "20", "--seed", "1", "--workers", "1",
                 "--out", str(out)]) == 0
    return out


@pytest.fixture
def run_copy(earlier, tmp_path) -> Path:
    out = tmp_path / "run"
    subprocess.run(["cp", "-a", str(earlier), str(out)], check=True)
    return out


def start(*args, **kw) -> subprocess.Popen:
    return subprocess.Popen([*SIM, *map(str, args)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, **kw)


def wait_for(predicate, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


def holder_started(folder: Path) -> bool:
    try:
        return bool((folder / LOCK).read_text().strip())
    except OSError:
        return False


# --------------------------------------------------------------------------- 1. a failed --force keeps the earlier run

BAD_OPTIONS = {
    # case: (options, words the message must contain)
    "executor typo": (["--executor", "dsk"], "--executor dsk: must be local"),
    "engine typo": (["--engine", "fsat"], "--engine fsat: must be auto"),
    "no runs": (["--runs", "0"], "--runs 0: must be 1 or more"),
    "negative seed": (["--seed", "-1"], "--seed -1: must be 0 or more"),
    "empty batches": (["--batch-size", "0"], "--batch-size 0: must be 1 or more"),
    "no workers": (["--workers", "0"], "--workers 0: must be 1 or more"),
    "address without dask": (["--address", "tcp://127.0.0.1:9"], "--address tcp://127.0.0.1:9: goes with --executor dask"),
    "unreachable cluster": (["--executor", "dask", "--address", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler"),
    "resume and force": (["--resume"], "--resume: and --force contradict each other"),
}


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_force_with_a_bad_option_leaves_the_earlier_run_untouched(cli, run_copy, case, monkeypatch):
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", "1s")
    options, words = BAD_OPTIONS[case]
    before = snapshot(run_copy)
    result = cli("run", "scenarios/binjiang.yaml", "--out", run_copy, "--force", *options)
    assert result.code == 2, result.err
    assert words in result.err and "Traceback" not in result.err
    assert "monte_carlo" not in result.err  # an option's fault is never blamed on the scenario
    assert snapshot(run_copy) == before


def test_force_run_replaces_the_earlier_one_only_when_complete(cli, run_copy, tmp_path):
    assert cli("run", "scenarios/binjiang.yaml", "--out", run_copy, "--force", "--runs", "12", "--seed", "2",
               "--workers", "1").code == 0
    manifest = read_manifest(run_copy)
    assert (manifest.seed, manifest.runs, manifest.complete) == (2, 12, True)
    assert sorted(p.name for p in run_copy.iterdir()) == ["cash_months", "cash_years", "funder_years", "manifest.json",
                                                          "parameters", "pool_years", "program_years"]
    reference = tmp_path / "reference"
    assert cli("run", "scenarios/binjiang.yaml", "--out", reference, "--runs", "12", "--seed", "2", "--workers", "1").code == 0
    assert same_tables(run_copy, reference)


def test_ctrl_c_during_force_keeps_the_earlier_run_and_resume_finishes_the_new_one(cli, run_copy, tmp_path):
    before = snapshot(run_copy)
    proc = start("run", "scenarios/binjiang.yaml", "--out", run_copy, "--force", "--seed", "3", *SLOW)
    nxt = run_copy / ".next" / "manifest.json"
    wait_for(lambda: nxt.exists() and len(json.loads(nxt.read_text() or "{}").get("batches_complete", [])) >= 2)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    command = f"sim run scenarios/binjiang.yaml --out {run_copy} --resume"
    assert f"finish with: {command}" in err and "the earlier run in" in err and "Traceback" not in err
    visible = {k: v for k, v in snapshot(run_copy).items() if not k.startswith(".")}
    assert visible == before  # the earlier run, as it was, and readable
    assert cli("report", run_copy, "-q").code == 0
    assert cli("run", "scenarios/binjiang.yaml", "--out", run_copy, "--resume").code == 0  # options from the manifest
    reference = tmp_path / "reference"
    assert cli("run", "scenarios/binjiang.yaml", "--out", reference, "--seed", "3", *SLOW[:-2]).code == 0
    assert read_manifest(run_copy).seed == 3 and same_tables(run_copy, reference)
    assert not (run_copy / ".next").exists() and not (run_copy / "report.html").exists()  # the old report went with its run


def test_full_disk_during_force_keeps_the_earlier_run_and_leaves_no_temporary_file(run_copy):
    before = snapshot(run_copy)

    def small_disk():  # a file may not grow past 20 kB: writes fail as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    done = subprocess.run([*SIM, "run", "scenarios/binjiang.yaml", "--out", str(run_copy), "--force", "--runs", "400",
                           "--batch-size", "400", "--workers", "1", "--events"],
                          cwd=ROOT, capture_output=True, text=True, preexec_fn=small_disk)
    assert done.returncode == 2, done.stderr
    assert "cannot write" in done.stderr and "--resume" in done.stderr and "Traceback" not in done.stderr
    assert {k: v for k, v in snapshot(run_copy).items() if not k.startswith(".")} == before
    assert not [p for p in run_copy.rglob("*.tmp")]


def test_full_disk_during_report_leaves_no_half_report(cli, run_copy):
    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))

    done = subprocess.run([*SIM, "report", str(run_copy), "-q"], cwd=ROOT, capture_output=True, text=True,
                          preexec_fn=small_disk)
    assert done.returncode == 2, done.stderr
    assert "cannot write the report" in done.stderr and "Traceback" not in done.stderr
    assert not [p.name for p in run_copy.iterdir() if p.name.startswith(("report", "summary", "."))]


# --------------------------------------------------------------------------- 2. one writer, consistent readers

HOLD = """
import sys, time
from sim.runs.lock import locked, set_command
set_command(["run", "scenarios/binjiang.yaml", "--force"])
with locked(sys.argv[1]):
    print("held", flush=True)
    time.sleep(120)
"""


def test_lock_refuses_a_run_a_force_run_and_a_report_naming_the_holder(cli, run_copy):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(run_copy)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        before = snapshot(run_copy)
        for args in (("run", "scenarios/binjiang.yaml", "--out", run_copy, "--runs", "4"),
                     ("run", "scenarios/binjiang.yaml", "--out", run_copy, "--runs", "4", "--force"),
                     ("run", "scenarios/binjiang.yaml", "--out", run_copy, "--resume"),
                     ("report", run_copy)):
            result = cli(*args)
            assert result.code == 2, args
            assert f"process {holder.pid} (`sim run scenarios/binjiang.yaml --force`" in result.err, result.err
            assert "is writing this folder" in result.err and "Traceback" not in result.err
            assert snapshot(run_copy) == before
    finally:
        holder.kill()
        holder.wait()
    assert cli("report", run_copy, "-q").code == 0  # the kernel dropped the dead holder's lock


def test_a_stale_lock_file_of_a_dead_process_is_taken_over(cli, run_copy):
    (run_copy / LOCK).write_text(json.dumps({"pid": 999_999_999, "command": "sim run x", "since": "2020-01-01"}))
    assert cli("report", run_copy, "-q").code == 0
    assert not (run_copy / LOCK).exists()


def test_a_run_and_a_report_against_a_force_rerun(cli, run_copy, tmp_path):
    """A --force rerun holds the folder: a second run and a report are refused, the earlier run stays whole."""
    before = snapshot(run_copy)
    rerun = start("run", "scenarios/binjiang.yaml", "--out", run_copy, "--force", "--seed", "4", *SLOW)
    wait_for(lambda: holder_started(run_copy))
    os.kill(rerun.pid, signal.SIGSTOP)  # held mid-run, the lock with it, however fast the machine
    try:
        assert rerun.poll() is None, "the rerun ended before the race; make SLOW slower"
        second = start("run", "scenarios/binjiang.yaml", "--out", run_copy, "--force", "--seed", "5", "--runs", "4")
        report = cli("report", run_copy, "-q")
        _, second_err = second.communicate(timeout=120)
        assert report.code == 2 and f"process {rerun.pid}" in report.err, report.err
        assert second.returncode == 2 and f"process {rerun.pid}" in second_err, second_err
        assert read_manifest(run_copy).seed == 1  # still the earlier run ...
        assert {k: v for k, v in snapshot(run_copy).items() if not k.startswith(".")} == before  # ... untouched
    finally:
        os.kill(rerun.pid, signal.SIGCONT)
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert read_manifest(run_copy).seed == 4
    assert cli("report", run_copy, "-q").code == 0
    reference = tmp_path / "reference"
    assert cli("run", "scenarios/binjiang.yaml", "--out", reference, "--seed", "4", *SLOW[:-2]).code == 0
    assert same_tables(run_copy, reference)


def test_outside_readers_see_only_committed_batches(tmp_path):
    out = tmp_path / "run"
    proc = start("run", "scenarios/binjiang.yaml", "--out", out, *SLOW)
    polls = 0
    try:
        while proc.poll() is None:
            parts = {p.name for p in (out / "program_years").glob("*.parquet")}
            if parts and (out / "manifest.json").exists():
                listed = {f"part-{b:06d}.parquet" for b in json.loads((out / "manifest.json").read_text())["batches_complete"]}
                assert parts <= listed, parts - listed
                pl.read_parquet([out / "program_years" / p for p in parts])  # every visible part is whole
                polls += 1
            time.sleep(0.01)
    finally:
        proc.communicate(timeout=120)
    assert proc.returncode == 0 and polls >= 10


# --------------------------------------------------------------------------- 3. damaged parts

@pytest.mark.parametrize("damage", ["truncated", "garbage", "missing"])
def test_a_damaged_part_is_named_and_resume_recomputes_its_batch(cli, run_copy, earlier, damage):
    part = run_copy / "pool_years" / "part-000000.parquet"
    if damage == "truncated":
        part.write_bytes(part.read_bytes()[:200])
    elif damage == "garbage":
        part.write_bytes(b"not parquet at all" * 40)
    else:
        part.unlink()
    result = cli("report", run_copy, "-q")
    assert result.code == 2 and "Traceback" not in result.err
    assert str(part) in result.err and "--resume" in result.err
    assert not (run_copy / "report.html").exists()
    resumed = cli("run", "scenarios/binjiang.yaml", "--out", run_copy, "--resume")
    assert resumed.code == 0, resumed.err
    assert f"repaired: {part}" in resumed.out
    assert same_tables(run_copy, earlier)
    assert cli("report", run_copy, "-q").code == 0


# --------------------------------------------------------------------------- crash during the swap

def test_a_crash_at_any_step_of_the_swap_is_finished_by_the_next_command(cli, earlier, tmp_path, monkeypatch):
    """Stop the swap after each of its renames in turn; the next locked command completes it."""
    new = tmp_path / "new"
    assert cli("run", "scenarios/binjiang.yaml", "--out", new, "--runs", "8", "--seed", "9", "--workers", "1").code == 0
    step = 0
    while True:
        out = tmp_path / f"swap{step}"
        subprocess.run(["cp", "-a", str(earlier), str(out)], check=True)
        subprocess.run(["cp", "-a", str(new), str(out / ".next")], check=True)
        calls = []
        real = os.replace

        def crashing(src, dst, _calls=calls, _stop=step):
            if len(_calls) == _stop:
                raise KeyboardInterrupt("killed mid-swap")
            _calls.append(src)
            return real(src, dst)

        monkeypatch.setattr(storage.os, "replace", crashing)
        try:
            storage.swap(out)
            finished = True
        except KeyboardInterrupt:
            finished = False
        monkeypatch.setattr(storage.os, "replace", real)
        storage.recover(out)  # what every locked command does first
        assert read_manifest(out).seed == 9 and same_tables(out, new), step
        assert not (out / ".next").exists() and not (out / ".old").exists(), step
        if finished:
            break
        step += 1
    assert step >= 5
    assert cli("report", out, "-q").code == 0
