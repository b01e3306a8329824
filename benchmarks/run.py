"""Benchmarks: how fast sim's engines run, side by side with a plain SimPy baseline.

    python benchmarks/run.py                      # full measurement (about 3 minutes on 2 cores)
    python benchmarks/run.py --quick              # smoke check, under a minute
    python benchmarks/run.py --wait-idle 120      # on a shared machine: wait for idle cores first
    python benchmarks/run.py --runs 500 --json benchmarks/results/mine.json

For each scenario (benchmarks/first_come.yaml, the DESIGN's reference workload, and
scenarios/binjiang.yaml) and each engine (``baseline``: benchmarks/baseline.py, a process
per firm; ``simpy``: sim.engine.simpy; ``fast``: sim.engine.fast) it measures

1. agreement: grants per first-come program and year (and the day each first-come pool ran
   dry) are identical for the three engines on the first runs; the script stops otherwise;
2. the engine alone in this process: median milliseconds per run to sample the run
   (sim.engine.population.sample), to decide it (the engine), and for sim's engines to sum it into
   tables (sim.runs.records.collect); runs/s and applications/s with sampling included; the
   engines are timed in turns so they share whatever else the machine does, and the
   baseline is timed a second time with Python's garbage collector off;
3. end to end through sim.runs.runner.simulate() (what ``sim run`` does, Parquet included) with
   1 and 2 workers: runs/s and the scaling factor;
4. the headline: 10,000 runs of scenarios/binjiang.yaml on 2 workers in a fresh process:
   wall time (interpreter start to exit) and peak memory (target ≤ 60 s, < 1 GiB).

It prints tables and writes every figure as JSON (default benchmarks/results/latest.json,
git-ignored) with the commit, machine and time, so runs can be compared across commits.
Every measurement records how much CPU other processes took meanwhile ("others' cpu"):
on a shared machine, figures taken while others used the cores are not comparable.
Benchmarks are not tests: nothing here fails on a slow machine, the targets are reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import baseline  # noqa: E402
import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from sim.engine import fast  # noqa: E402
from sim.engine import simpy as simpy_engine  # noqa: E402
from sim.engine.population import sample_runs  # noqa: E402
from sim.runs.records import collect  # noqa: E402
from sim.runs.runner import simulate  # noqa: E402
from sim.scenario.model import build  # noqa: E402
from sim.scenario.load import load_scenario  # noqa: E402

SCENARIOS = {"first_come": "benchmarks/first_come.yaml", "binjiang": "scenarios/binjiang.yaml"}
ENGINES = ("baseline", "simpy", "fast")
TARGET_SPEEDUP = 50.0  # fast over baseline on first_come.yaml (DESIGN §9, issue 5)
TARGET_SECONDS = 60.0  # 10,000 binjiang runs end to end on 2 cores
TARGET_BYTES = 1 << 30  # peak memory of that run
console = Console(highlight=False, width=max(Console().width, 150))


# ---------------------------------------------------------------- 1. agreement


def check(model, runs: int) -> dict:
    """Assert the three engines grant the same per first-come program and year."""
    fc = set(baseline.first_come_programs(model))
    for run in range(runs):
        drawn = sample_runs(model, run, run + 1)
        apps = drawn.applications(run)
        base = baseline.run(model, apps, drawn.arrival_days(run))
        for name, decide in (("simpy", simpy_engine.run), ("fast", fast.run)):
            decisions = decide(model, apps)
            table = collect(model, run, apps, decisions)["program_years"]
            for prog, year, granted in zip(table["program_index"].tolist(), table["year"].tolist(), table["granted_yuan"].tolist()):
                if prog in fc:
                    mine = base.granted.get((prog, year), 0)
                    assert mine == granted, f"run {run}: {model.programs[prog].key} {year}: baseline {mine} != {name} {granted}"
            dry = {k: v for k, v in decisions.exhausted_on.items() if model.pools[k[0]].rationing == "first_come"}
            assert dry == base.exhausted_on, f"run {run}: pools ran dry on different days: baseline {base.exhausted_on}, {name} {dry}"
    return {"runs": runs, "first_come_programs": len(fc), "identical": True}


# ---------------------------------------------------------------- 2. engine alone


class Timer:
    """Per-run times of one engine: sample / decide / collect, run after run."""

    def __init__(self, model, name: str):
        self.model, self.name = model, name
        self.gc_off = name == "baseline_gc_off"
        self.decide = {"baseline": lambda m, a, days: baseline.run(m, a, days), "simpy": lambda m, a, days: simpy_engine.run(m, a),
                       "fast": lambda m, a, days: fast.run(m, a)}[name.removesuffix("_gc_off")]
        self.times: list[tuple[float, float, float]] = []
        self.apps = self.firms = 0
        self.others_s = self.wall_s = 0.0
        # warm up: first-call imports and caches out of the figures (a run index past the measured ones)
        drawn = sample_runs(model, 10**6, 10**6 + 1)
        warm = drawn.applications(10**6)
        out = self.decide(model, warm, drawn.arrival_days(10**6))
        if not name.startswith("baseline"):
            collect(model, 10**6, warm, out)

    def slice(self, seconds: float, max_runs: int) -> None:
        """Time runs for about ``seconds`` (at least one, at most up to ``max_runs`` in all)."""
        model = self.model
        if self.gc_off:
            gc.disable()
        with Others() as others:
            began = time.perf_counter()
            while len(self.times) < max_runs:
                run = len(self.times)
                t0 = time.perf_counter()
                drawn = sample_runs(model, run, run + 1)
                apps = drawn.applications(run)
                t1 = time.perf_counter()
                out = self.decide(model, apps, drawn.arrival_days(run))
                t2 = time.perf_counter()
                if not self.name.startswith("baseline"):
                    collect(model, run, apps, out)
                t3 = time.perf_counter()
                self.times.append((t1 - t0, t2 - t1, t3 - t2))
                self.apps += len(apps)
                self.firms += apps.firms
                if t3 - began >= seconds:
                    break
        gc.enable()
        self.wall_s += others.wall
        self.others_s += others.seconds or 0.0

    def result(self) -> dict:
        runs, arr = len(self.times), np.array(self.times)
        mean, median = arr.mean(axis=0), np.median(arr, axis=0)
        med_total = float(np.median(arr[:, 0] + arr[:, 1]))
        has_collect = not self.name.startswith("baseline")
        return {
            "engine": self.name, "runs": runs,
            "ms_sample": 1e3 * median[0], "ms_engine": 1e3 * median[1], "ms_collect": 1e3 * median[2] if has_collect else None,
            "ms_sample_mean": 1e3 * mean[0], "ms_engine_mean": 1e3 * mean[1], "ms_collect_mean": 1e3 * mean[2] if has_collect else None,
            "applications_per_run": self.apps / runs, "firms_per_run": self.firms / runs,
            # throughput from the median run (robust to other jobs sharing the cores) and from the mean
            "runs_per_s": 1 / med_total, "applications_per_s": self.apps / runs / med_total,
            "runs_per_s_mean": runs / (arr[:, 0].sum() + arr[:, 1].sum()),
            "runs_per_s_with_collect": 1 / float(np.median(arr.sum(axis=1))) if has_collect else None,
            "runs_per_s_engine_only": 1 / float(median[1]),
            "others_cpu_share": round(self.others_s / (self.wall_s * (os.cpu_count() or 1)), 3) if self.wall_s else None,
        }


def engine_alone(model, max_runs: int, budget_s: float, rounds: int) -> list[dict]:
    """Time each engine for about ``budget_s`` seconds, interleaved in ``rounds`` slices.

    Interleaving lets the engines share whatever else the machine is doing, so their ratio
    (the speed-up) is steadier than their absolute figures on a shared machine.  The
    baseline is timed twice: as a user runs it (garbage collector on) and with the
    collector off, because its ~100,000 live generator and event objects a run make
    Python's cyclic collector a good part of its time.
    """
    gc.collect()
    gc.freeze()  # the harness's own objects (rich, polars, the check's data) out of the collector's way
    timers = [Timer(model, name) for name in ENGINES + ("baseline_gc_off",)]
    for _ in range(rounds):
        for timer in timers:
            timer.slice(budget_s / rounds, max_runs)
    gc.unfreeze()
    return [t.result() for t in timers]


# ---------------------------------------------------------------- 3. end to end


def end_to_end(scenario, engine: str, workers: int, runs: int, batch_size: int, tmp: Path) -> dict:
    out = tmp / f"{scenario.name}-{engine}-{workers}"
    began = time.perf_counter()
    result = simulate(scenario, runs=runs, workers=workers, out=out, force=True, engine=engine, batch_size=batch_size)
    wall = time.perf_counter() - began
    shutil.rmtree(out, ignore_errors=True)
    assert result.runs_computed == runs and result.engine == engine
    return {"engine": engine, "workers": workers, "runs": runs, "batch_size": batch_size, "seconds": wall,
            "runs_per_s": runs / wall, "applications_per_s": result.applications / wall,
            "runner_seconds": result.seconds}


def e2e_runs(rate: float, seconds: float, lo: int, hi: int, batch: int) -> int:
    """A run count taking about ``seconds`` at ``rate`` runs/s, a whole number of batches."""
    runs = int(min(max(rate * seconds, lo), hi))
    return max(batch, runs // batch * batch)


# ---------------------------------------------------------------- 4. headline


class TreeMemory:
    """Peak resident memory of a process and all its descendants, sampled every 20 ms (psutil)."""

    def __init__(self, pid: int):
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        try:
            import psutil
        except ImportError:  # getrusage alone then
            self._thread = None
            return
        self._proc = psutil.Process(pid)
        self._psutil = psutil
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self._proc] + self._proc.children(recursive=True)
                total = 0
                for p in procs:
                    try:
                        total += p.memory_info().rss
                    except self._psutil.Error:
                        pass
                self.peak = max(self.peak, total)
                self.samples += 1
            except self._psutil.Error:
                return
            self._stop.wait(0.02)

    def stop(self) -> int | None:
        self._stop.set()
        if self._thread is None:
            return None
        self._thread.join()
        return self.peak


def headline(runs: int, workers: int, tmp: Path) -> dict:
    """``sim run scenarios/binjiang.yaml --runs N --workers 2`` in a fresh interpreter, timed from launch to exit."""
    out = tmp / "headline"
    code = ("import json, resource, sys; sys.path.insert(0, '.');"
            "from sim.runs.runner import simulate; from sim.scenario.load import load_scenario;"
            f"r = simulate(load_scenario('{SCENARIOS['binjiang']}'), runs={runs}, workers={workers}, out={str(out)!r}, force=True);"
            "print(json.dumps({'engine': r.engine, 'runs': r.runs_computed, 'applications': r.applications, 'runner_seconds': r.seconds,"
            "'self_maxrss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
            "'children_maxrss_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))")
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = TreeMemory(proc.pid)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - began
    tree_peak = memory.stop()
    if proc.returncode != 0:
        raise SystemExit(f"headline run failed:\n{stderr[-2000:]}")
    child = json.loads(stdout.strip().splitlines()[-1])
    disk = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    shutil.rmtree(out, ignore_errors=True)
    return {
        "scenario": SCENARIOS["binjiang"], "runs": child["runs"], "workers": workers, "engine": child["engine"],
        "wall_seconds": wall, "runner_seconds": child["runner_seconds"], "runs_per_s": child["runs"] / wall,
        "applications_per_s": child["applications"] / wall,
        "peak_rss_tree_bytes": tree_peak, "peak_rss_tree_samples": memory.samples,
        "maxrss_parent_bytes": child["self_maxrss_kib"] * 1024, "maxrss_largest_worker_bytes": child["children_maxrss_kib"] * 1024,
        "output_bytes": disk,
    }


# ---------------------------------------------------------------- context


def git_commit() -> dict:
    """The checked-out commit, read from .git without running git (None when unknown)."""
    try:
        git = ROOT / ".git"
        if git.is_file():  # a worktree or submodule: "gitdir: <path>"
            git = (ROOT / git.read_text().split(":", 1)[1].strip()).resolve()
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return {"commit": head, "branch": None}  # detached
        ref = head.split(":", 1)[1].strip()
        common = (git / (git / "commondir").read_text().strip()).resolve() if (git / "commondir").exists() else git
        for base in (git, common):
            if (base / ref).is_file():
                return {"commit": (base / ref).read_text().strip(), "branch": ref.removeprefix("refs/heads/")}
            if (base / "packed-refs").is_file():
                for line in (base / "packed-refs").read_text().splitlines():
                    if line.endswith(" " + ref):
                        return {"commit": line.split()[0], "branch": ref.removeprefix("refs/heads/")}
    except (OSError, IndexError):
        pass
    return {"commit": None, "branch": None}


def load() -> list[float] | None:
    """The 1, 5 and 15-minute load averages."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _busy_seconds() -> float | None:
    """CPU seconds all cores have spent busy since boot (/proc/stat), None off Linux."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class Others:
    """CPU that other processes used while a block ran, as a share of all cores' time.

    The machine may be shared (tests of other engineers, a browser): a measurement taken
    while others used a good part of the cores is not comparable, and the JSON says so.
    Our worker processes count as ours once they have exited, which simulate() waits for.
    """

    def __enter__(self) -> "Others":
        self.busy, self.own, self.began = _busy_seconds(), _own_seconds(), time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.began
        busy = _busy_seconds()
        self.share = self.seconds = None
        if busy is not None and self.busy is not None and self.wall > 0:
            self.seconds = max((busy - self.busy) - (_own_seconds() - self.own), 0.0)
            self.share = round(self.seconds / (self.wall * (os.cpu_count() or 1)), 3)


def wait_idle(max_wait: float, threshold: float = 0.05) -> float:
    """Wait (at most ``max_wait`` s) until other processes use under ``threshold`` of the cores for 1 s."""
    began = time.perf_counter()
    while time.perf_counter() - began < max_wait:
        with Others() as o:
            time.sleep(1.0)
        if o.share is None or o.share < threshold:
            break
    return time.perf_counter() - began


def machine() -> dict:
    import polars
    import pyarrow
    import simpy

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    mem = None
    if Path("/proc/meminfo").exists():
        mem = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    return {"hostname": platform.node(), "platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count(),
            "cpus_usable": usable, "memory_bytes": mem, "python": platform.python_version(),
            "numpy": np.__version__, "simpy": simpy.__version__, "polars": polars.__version__, "pyarrow": pyarrow.__version__}


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=None, help="most runs timed per engine alone (default 2000; --quick 200)")
    ap.add_argument("--quick", action="store_true", help="small run counts: a smoke check in under a minute")
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "latest.json", help="where to write the figures")
    ap.add_argument("--headline-runs", type=int, default=None, help="binjiang runs of the headline (default 10000; --quick 1000)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts end to end (default 1 2)")
    ap.add_argument("--wait-idle", type=float, default=0.0, metavar="S",
                    help="before each measurement wait up to S seconds for other processes to leave the cores idle")
    args = ap.parse_args(argv)
    quick = args.quick
    max_runs = args.runs or (200 if quick else 2000)
    budget = 1.5 if quick else 12.0  # seconds per engine alone (at most max_runs)
    rounds = 1 if quick else 6  # engines alone are timed in turns, this many slices each
    e2e_seconds = 1.5 if quick else 12.0  # target seconds per end-to-end measurement at 1 worker
    checks = 2 if quick else 5
    headline_runs = args.headline_runs or (1000 if quick else 10_000)
    headline_workers = 2

    report: dict = {
        "schema": 1, "timestamp": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "git": git_commit(), "machine": machine(),
        "command": " ".join([Path(sys.executable).name, "benchmarks/run.py"] + (argv if argv is not None else sys.argv[1:])),
        "settings": {"quick": quick, "max_runs": max_runs, "budget_seconds": budget, "e2e_seconds": e2e_seconds,
                     "rounds": rounds, "check_runs": checks, "headline_runs": headline_runs, "headline_workers": headline_workers},
        "load_start": load(), "scenarios": {}, "targets": {},
    }
    os.chdir(ROOT)
    tmp = Path(tempfile.mkdtemp(prefix="sim-bench-"))
    try:
        for key, path in SCENARIOS.items():
            scenario = load_scenario(path)
            model = build(scenario)
            console.print(f"[bold]{key}[/] ({path}): checking agreement on {checks} runs …")
            entry: dict = {"file": path, "check": check(model, checks), "engine_alone": [], "end_to_end": []}
            waited = wait_idle(args.wait_idle)
            entry["engine_alone"] = engine_alone(model, max_runs, budget, rounds)
            for res in entry["engine_alone"]:
                res["waited_s"] = round(waited, 1)
                console.print(f"  engine alone  {res['engine']:15} {res['runs']:5} runs  {res['runs_per_s']:8.1f} runs/s")
            base = entry["engine_alone"][0]
            for res in entry["engine_alone"]:
                res["speedup_vs_baseline"] = res["runs_per_s"] / base["runs_per_s"]
                res["speedup_vs_baseline_engine_only"] = res["runs_per_s_engine_only"] / base["runs_per_s_engine_only"]
                if res["runs_per_s_with_collect"] is not None:
                    res["speedup_vs_baseline_with_collect"] = res["runs_per_s_with_collect"] / base["runs_per_s"]
            gc_off = entry["engine_alone"][-1]
            for res in entry["engine_alone"]:
                res["speedup_vs_baseline_gc_off"] = res["runs_per_s"] / gc_off["runs_per_s"]
            for res in (r for r in entry["engine_alone"] if r["engine"] in ("simpy", "fast")):
                rate = res["runs_per_s_with_collect"]
                batch = 100 if rate * e2e_seconds >= 800 else max(1, int(rate * e2e_seconds) // 8)
                runs = e2e_runs(rate, e2e_seconds, 8 * batch, 20_000, batch)
                one = None
                for workers in args.workers:
                    waited = wait_idle(args.wait_idle)
                    with Others() as others:
                        e2e = end_to_end(scenario, res["engine"], workers, runs, batch, tmp)
                    e2e.update(others_cpu_share=others.share, waited_s=round(waited, 1))
                    one = one or e2e["runs_per_s"]
                    e2e["scaling_vs_1_worker"] = e2e["runs_per_s"] / one
                    entry["end_to_end"].append(e2e)
                    console.print(f"  end to end    {res['engine']:8} {workers} worker(s) {runs:6} runs  {e2e['runs_per_s']:8.1f} runs/s")
            report["scenarios"][key] = entry
        console.print(f"[bold]headline[/]: {headline_runs} runs of {SCENARIOS['binjiang']} on {headline_workers} workers …")
        waited = wait_idle(args.wait_idle)
        with Others() as others:
            report["headline"] = headline(headline_runs, headline_workers, tmp)
        report["headline"].update(others_cpu_share=others.share, waited_s=round(waited, 1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    fc = {r["engine"]: r for r in report["scenarios"]["first_come"]["engine_alone"]}
    h = report["headline"]
    peak = h["peak_rss_tree_bytes"] or (h["maxrss_parent_bytes"] + headline_workers * h["maxrss_largest_worker_bytes"])
    report["targets"] = {
        "fast_speedup_first_come": {"target": TARGET_SPEEDUP, "value": fc["fast"]["speedup_vs_baseline"],
                                    "met": fc["fast"]["speedup_vs_baseline"] >= TARGET_SPEEDUP,
                                    "with_collect": fc["fast"]["speedup_vs_baseline_with_collect"],
                                    "vs_baseline_gc_off": fc["fast"]["speedup_vs_baseline_gc_off"]},
        "headline_seconds": {"target": TARGET_SECONDS, "value": h["wall_seconds"], "runs": h["runs"],
                             "met": h["wall_seconds"] <= TARGET_SECONDS if h["runs"] >= 10_000 else None},
        "headline_peak_bytes": {"target": TARGET_BYTES, "value": peak, "met": peak < TARGET_BYTES},
    }
    report["load_end"] = load()
    report["bench_process_maxrss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    show(report)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    console.print(f"figures written to {args.json}")
    return report


def show(report: dict) -> None:
    m, g = report["machine"], report["git"]
    console.print(f"\n[bold]sim benchmarks[/] {report['timestamp']}  commit {(g['commit'] or '?')[:10]}  "
                  f"{m['cpu']} × {m['cpus_usable']} usable cores, Python {m['python']}, numpy {m['numpy']}, simpy {m['simpy']}; "
                  f"load average {report['load_start']} at start, {report['load_end']} at end")
    t = Table(title="Engine alone, one process: median ms per run; runs/s and apps/s include sampling, not collect",
              title_justify="left", padding=(0, 1))
    for col in ("scenario", "engine", "runs", "apps/run", "sample ms", "engine ms", "collect ms", "runs/s",
                "apps/s", "× baseline", "× baseline\n+collect", "others'\ncpu"):
        t.add_column(col, justify="left" if col in ("scenario", "engine") else "right")
    for key, entry in report["scenarios"].items():
        for r in entry["engine_alone"]:
            t.add_row(key, r["engine"].replace("_gc_off", " (gc off)"), str(r["runs"]), f"{r['applications_per_run']:,.0f}", f"{r['ms_sample']:.2f}",
                      f"{r['ms_engine']:.2f}", "—" if r["ms_collect"] is None else f"{r['ms_collect']:.2f}",
                      f"{r['runs_per_s']:,.1f}", f"{r['applications_per_s']:,.0f}", f"{r['speedup_vs_baseline']:.1f}",
                      f"{r['speedup_vs_baseline_with_collect']:.1f}" if "speedup_vs_baseline_with_collect" in r else "—",
                      _pct(r["others_cpu_share"]))
    console.print(t)
    t = Table(title="End to end: simulate() to Parquet (what `sim run` does), wall time", title_justify="left", padding=(0, 1))
    for col in ("scenario", "engine", "workers", "runs", "batch", "seconds", "runs/s", "apps/s", "scaling", "others'\ncpu"):
        t.add_column(col, justify="left" if col in ("scenario", "engine") else "right")
    for key, entry in report["scenarios"].items():
        for r in entry["end_to_end"]:
            t.add_row(key, r["engine"], str(r["workers"]), str(r["runs"]), str(r["batch_size"]), f"{r['seconds']:.2f}",
                      f"{r['runs_per_s']:,.1f}", f"{r['applications_per_s']:,.0f}", f"×{r['scaling_vs_1_worker']:.2f}",
                      _pct(r["others_cpu_share"]))
    console.print(t)
    h = report["headline"]
    console.print(f"[bold]Headline[/]: {h['runs']:,} runs of {h['scenario']} on {h['workers']} workers (engine {h['engine']}): "
                  f"{h['wall_seconds']:.1f} s wall from launch to exit ({h['runs_per_s']:,.0f} runs/s), peak memory "
                  f"{_mib(h['peak_rss_tree_bytes'])} for the whole process tree (parent {_mib(h['maxrss_parent_bytes'])}, "
                  f"largest worker {_mib(h['maxrss_largest_worker_bytes'])}), {_mib(h['output_bytes'])} of Parquet; "
                  f"other processes used {_pct(h['others_cpu_share'])} of the cores meanwhile")
    console.print("(others' cpu: share of all cores' time used by other processes during the measurement; "
                  "figures taken above a few % are not comparable — rerun with --wait-idle 120)")
    for name, tgt in report["targets"].items():
        met = {True: "[green]met[/]", False: "[red]MISSED[/]", None: "[yellow]n/a (fewer than 10,000 runs)[/]"}[tgt["met"]]
        value = _mib(tgt["value"]) if name.endswith("bytes") else f"{tgt['value']:.1f}"
        target = _mib(tgt["target"]) if name.endswith("bytes") else f"{tgt['target']:g}"
        more = (f" (×{tgt['with_collect']:.1f} counting collect, ×{tgt['vs_baseline_gc_off']:.1f} against the baseline "
                f"with gc off)") if "with_collect" in tgt else ""
        console.print(f"  target {name}: {value} vs {target}{more} → {met}")


def _pct(x: float | None) -> str:
    return "?" if x is None else f"{100 * x:.0f}%"


def _mib(n: int | None) -> str:
    return "?" if n is None else f"{n / 2**20:,.1f} MiB"


if __name__ == "__main__":
    main()
