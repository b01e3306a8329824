"""Benchmarks: how fast sim runs every shipped scenario, and its engines beside a plain SimPy baseline.

    python benchmarks/run.py                      # full measurement (about 10 minutes on 2 idle cores)
    python benchmarks/run.py --quick              # smoke check, about a minute
    python benchmarks/run.py --wait-idle 120      # on a shared machine: wait for idle cores first
    python benchmarks/run.py --only binjiang anhui --runs 10000 --json benchmarks/results/mine.json

Scenarios: benchmarks/first_come.yaml (the DESIGN's reference workload) and every
scenarios/*.yaml.  For each it measures

1. agreement (first_come and binjiang): grants per first-come program and year, and the day
   each first-come pool ran dry, are identical for the baseline (benchmarks/baseline.py, a
   process per firm), sim's SimPy engine and sim's fast engine on the first runs; the
   script stops otherwise;
2. per run, in this process, in CPU time: milliseconds per run to sample (``samples``: a
   pass of runs drawn together, as the runner draws them, divided by its runs), to decide
   (each engine, run by run: ``baseline`` where it applies, ``simpy``, and ``fast`` where
   it supports the scenario) and to sum into tables (``collect_runs``, per pass); runs/s
   and applications/s; sampling's share of a run; the fast engine's speed-up over the
   baseline.  Sampling and the engines are timed in turns, so that they share whatever
   else the machine does;
3. end to end: ``sim run SCENARIO --runs 10000 --workers 2`` (Parquet and the printed
   summary included; 2,000 runs of first_come) in a fresh interpreter: wall time from
   launch to exit, runs/s, the CPU seconds of the whole process tree, and its peak memory;
4. scaling: ``simulate()`` with 1 and 2 workers on first_come and binjiang;
5. uncertain numbers (issue 11): binjiang as shipped (its uncertain numbers drawn once per
   run, a ``parameters`` table written) against the same scenario with every uncertain
   number held at its median, ``simulate()`` in this process, CPU runs/s, in alternating
   rounds; the target is at least 90% of the runs per second without them, estimated as
   the median of the rounds' paired ratios (a round's rate moves by ±20% on a shared VM;
   pairing each round of one variant with the next of the other removes the drift).

It prints tables and the targets (issue 8), and writes every figure as JSON (default
benchmarks/results/latest.json, git-ignored) with the commit, machine and time.  Every
measurement records how much CPU other processes took meanwhile ("others' cpu"): wall
times taken while others used the cores are not comparable, CPU times mostly are.
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
from sim.engine.population import samples  # noqa: E402
from sim.runs.records import collect, collect_runs  # noqa: E402
from sim.runs.runner import simulate  # noqa: E402
from sim.scenario.load import load_scenario  # noqa: E402
from sim.scenario.model import build  # noqa: E402

SHIPPED = {p.stem: f"scenarios/{p.name}" for p in sorted((ROOT / "scenarios").glob("*.yaml"))}
SCENARIOS = {"first_come": "benchmarks/first_come.yaml", **SHIPPED}
BASELINE = ("first_come", "binjiang")  # scenarios whose first-come pools the baseline can run
SCALING = ("first_come", "binjiang")
TARGET_SPEEDUP = 100.0  # fast over baseline on first_come.yaml, tables included (issue 8)
TARGET_SECONDS = 15.0  # 10,000 runs of each shipped scenario end to end on 2 cores
TARGET_RUNS_PER_S = {"binjiang": 700.0}
TARGET_BYTES = 1 << 30  # peak memory of such a run
TARGET_SAMPLE_SHARE = 0.5  # sampling's share of a run's time, on the engine `sim run` picks
TARGET_UNCERTAIN_SHARE = 0.9  # binjiang's runs/s with its uncertain numbers over without them (issue 11)
console = Console(highlight=False, width=max(Console().width, 150))


def engine_for(model) -> str:
    """The engine `sim run` picks: the fast one where it supports the scenario."""
    return "fast" if fast.supports(model) is None else "simpy"


# ---------------------------------------------------------------- 1. agreement


def check(model, runs: int) -> dict:
    """Assert the three engines grant the same per first-come program and year."""
    fc = set(baseline.first_come_programs(model))
    engines = [("simpy", simpy_engine.run)] + ([("fast", fast.run)] if fast.supports(model) is None else [])
    for drawn in samples(model, 0, runs):
        for run in drawn.runs:
            apps = drawn.applications(run)
            base = baseline.run(model, apps, drawn.arrival_days(run))
            for name, decide in engines:
                decisions = decide(model, apps)
                table = collect(model, run, apps, decisions)["program_years"]
                for prog, year, granted in zip(table["program_index"].tolist(), table["year"].tolist(), table["granted_yuan"].tolist()):
                    if prog in fc:
                        mine = base.granted.get((prog, year), 0)
                        assert mine == granted, f"run {run}: {model.programs[prog].key} {year}: baseline {mine} != {name} {granted}"
                dry = {k: v for k, v in decisions.exhausted_on.items() if model.pools[k[0]].rationing == "first_come"}
                assert dry == base.exhausted_on, f"run {run}: pools ran dry on different days: baseline {base.exhausted_on}, {name} {dry}"
    return {"runs": runs, "first_come_programs": len(fc), "identical": True}


# ---------------------------------------------------------------- 2. per run


class Timer:
    """CPU time per run of one part of the work, over passes of runs drawn as the runner draws them.

    ``sample`` times the sampler alone; an engine's timer draws its passes untimed and
    times its decisions (the fast engine's a pass at once, as the runner makes them; the
    others run by run) and, for sim's engines, the tables per pass.
    """

    def __init__(self, model, name: str, pass_runs: int):
        self.model, self.name, self.pass_runs = model, name, pass_runs
        self.decide = {"baseline": lambda m, a, d: baseline.run(m, a, d), "simpy": lambda m, a, d: simpy_engine.run(m, a),
                       "fast": lambda m, a, d: fast.run(m, a), "sample": None}[name]
        self.cpu = {"sample": 0.0, "decide": 0.0, "collect": 0.0}
        self.runs = self.apps = self.firms = 0
        self.others_s = self.wall_s = 0.0
        # warm up on a whole pass: first-call imports, caches and the first touch of a pass's memory
        # (page faults the allocator does not pay again) out of the figures, so --quick measures steady state too
        self._pass(10**6, 10**6 + pass_runs)

    def slice(self, seconds: float, max_runs: int) -> None:
        """Time passes for about ``seconds`` (at least one pass, at most ``max_runs`` runs in all)."""
        with Others() as others:
            began = time.perf_counter()
            while self.runs < max_runs and time.perf_counter() - began < seconds:
                first = self.runs
                done = self._pass(first, min(first + self.pass_runs, max_runs))
                self.runs += done
        self.wall_s += others.wall
        self.others_s += others.seconds or 0.0

    def _pass(self, first: int, last: int) -> int:
        model, warm = self.model, first >= 10**6
        t0 = time.process_time()
        drawn = [d for d in samples(model, first, last)]
        t1 = time.process_time()
        if self.decide is None:
            if not warm:
                self.cpu["sample"] += t1 - t0
                self.apps += sum(len(d.apps) for d in drawn)
                self.firms += sum(int(d.firms.sum()) for d in drawn)
            return last - first
        for d in drawn:
            t1 = time.process_time()
            if self.name == "fast":  # as the runner decides: a pass at once
                out = fast.run_pass(model, d.apps, d.at, len(d.runs))
            else:
                out = [self.decide(model, d.applications(run), d.arrival_days(run) if self.name == "baseline" else None)
                       for run in d.runs]
            t2 = time.process_time()
            if self.name != "baseline":
                collect_runs(model, d, out)
            t3 = time.process_time()
            if not warm:
                self.cpu["decide"] += t2 - t1
                self.cpu["collect"] += t3 - t2
                self.apps += len(d.apps)
        return last - first

    def result(self) -> dict:
        runs = max(self.runs, 1)
        ms = {k: 1e3 * v / runs for k, v in self.cpu.items()}
        return {"part": self.name, "runs": self.runs, "pass_runs": self.pass_runs,
                "ms_sample": ms["sample"] if self.name == "sample" else None,
                "ms_decide": ms["decide"] if self.decide else None,
                "ms_collect": ms["collect"] if self.name in ("simpy", "fast") else None,
                "applications_per_run": self.apps / runs, "firms_per_run": self.firms / runs if self.name == "sample" else None,
                "others_cpu_share": round(self.others_s / (self.wall_s * (os.cpu_count() or 1)), 3) if self.wall_s else None}


def per_run(model, key: str, budget_s: float, rounds: int, max_runs: int) -> dict:
    """CPU ms per run: sampling, and each engine's decisions and tables, timed in turns."""
    parts = ["sample"] + (["baseline"] if key in BASELINE else []) + ["simpy"] + (["fast"] if fast.supports(model) is None else [])
    gc.collect()
    gc.freeze()  # the harness's own objects out of the collector's way
    timers = []
    for name in parts:
        timers.append(Timer(model, name, _pass_runs(model, name)))
    for _ in range(rounds):
        for timer in timers:
            timer.slice(budget_s / rounds, max_runs)
    gc.unfreeze()
    results = {t.name: t.result() for t in timers}
    sample = results["sample"]["ms_sample"]
    out = {"sample": results["sample"], "engines": []}
    for name in parts[1:]:
        r = results[name]
        r["ms_sample"] = sample
        r["ms_run"] = sample + r["ms_decide"]  # what a run costs without its tables
        r["ms_run_with_tables"] = r["ms_run"] + (r["ms_collect"] or 0.0)
        r["runs_per_s"] = 1e3 / r["ms_run"]
        r["runs_per_s_with_tables"] = 1e3 / r["ms_run_with_tables"] if r["ms_collect"] is not None else None
        r["applications_per_s"] = r["applications_per_run"] * r["runs_per_s"]
        r["sample_share"] = sample / r["ms_run_with_tables"]
        out["engines"].append(r)
    if "baseline" in results:
        base = results["baseline"]["ms_run"]
        for r in out["engines"]:
            r["speedup_vs_baseline"] = base / r["ms_run"]
            r["speedup_vs_baseline_with_tables"] = base / r["ms_run_with_tables"]
    return out


def _pass_runs(model, name: str) -> int:
    """Runs a timer decides per pass: the runner's 100, fewer for the slow process-per-firm engines."""
    if name in ("sample", "fast"):
        return 100
    firms = sum(s.firms_at_start + sum(s.arrivals_in(y) for y in model.years) for s in model.scenario.spec.segments)
    return max(1, min(100, int(20_000 / max(firms, 1.0))))


# ---------------------------------------------------------------- 3. end to end


def end_to_end(path: str, runs: int, workers: int, tmp: Path) -> dict:
    """``sim run PATH --runs N --workers W`` in a fresh interpreter, timed from launch to exit."""
    out = tmp / Path(path).stem
    command = [sys.executable, "-m", "sim", "run", path, "--runs", str(runs), "--workers", str(workers), "--out", str(out), "--force"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "150"})
    memory = TreeMemory(proc.pid)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - began
    tree_peak = memory.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the run and its workers, all waited for
    if proc.returncode != 0:
        raise SystemExit(f"`{' '.join(command)}` failed:\n{stderr[-2000:]}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    disk = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    shutil.rmtree(out, ignore_errors=True)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "scenario": path, "runs": runs, "workers": workers, "engine": manifest["engine"],
        "wall_seconds": wall, "runs_per_s": runs / wall, "cpu_seconds": cpu, "cpu_ms_per_run": 1e3 * cpu / runs,
        "peak_rss_tree_bytes": tree_peak, "peak_rss_tree_samples": memory.samples,
        "maxrss_largest_process_bytes": after.ru_maxrss * 1024, "output_bytes": disk,
    }


def scaling(scenario, workers: int, runs: int, tmp: Path) -> dict:
    out = tmp / f"{scenario.name}-{workers}"
    began = time.perf_counter()
    result = simulate(scenario, runs=runs, workers=workers, out=out, force=True)
    wall = time.perf_counter() - began
    shutil.rmtree(out, ignore_errors=True)
    return {"engine": result.engine, "workers": workers, "runs": runs, "seconds": wall, "runs_per_s": runs / wall,
            "applications_per_s": result.applications / wall}


def uncertainty_cost(path: str, runs: int, rounds: int, tmp: Path) -> dict:
    """CPU runs/s of a scenario with its uncertain numbers and with each held at its median, in turns."""
    scenario = load_scenario(path)
    fixed = scenario.with_overrides({p.path: p.typed(p.quantile(0.5)) for p in scenario.parameters})
    rates: dict[str, list[float]] = {"uncertain": [], "fixed": []}
    for variant in (scenario, fixed):  # warm up: models built, modules loaded, caches filled
        simulate(variant, runs=20, workers=1, out=tmp / "uncertain-warm", force=True)
    for _ in range(rounds):
        for name, variant in (("uncertain", scenario), ("fixed", fixed)):
            began = time.process_time()
            simulate(variant, runs=runs, workers=1, out=tmp / f"uncertain-{name}", force=True)
            rates[name].append(runs / (time.process_time() - began))
    shutil.rmtree(tmp / "uncertain-warm", ignore_errors=True)
    shutil.rmtree(tmp / "uncertain-uncertain", ignore_errors=True)
    shutil.rmtree(tmp / "uncertain-fixed", ignore_errors=True)
    uncertain, plain = float(np.median(rates["uncertain"])), float(np.median(rates["fixed"]))
    ratios = [a / b for a, b in zip(rates["uncertain"], rates["fixed"])]
    return {"scenario": path, "parameters": len(scenario.parameters), "factors": len(scenario.spec.factors),
            "runs": runs, "rounds": rounds, "runs_per_cpu_s_uncertain": uncertain, "runs_per_cpu_s_fixed": plain,
            "share": float(np.median(ratios)), "ratio_of_medians": uncertain / plain, "all_rounds": rates}


# ---------------------------------------------------------------- memory


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
    ap.add_argument("--quick", action="store_true", help="small run counts: a smoke check in about a minute")
    ap.add_argument("--only", nargs="+", choices=list(SCENARIOS), metavar="NAME", help=f"these scenarios only: {', '.join(SCENARIOS)}")
    ap.add_argument("--runs", type=int, default=None, help="runs end to end per shipped scenario (default 10000; --quick 1000)")
    ap.add_argument("--time-runs", type=int, default=None, help="most runs timed per part in step 2 (default 2000; --quick 200)")
    ap.add_argument("--workers", type=int, default=2, help="workers end to end (default 2)")
    ap.add_argument("--no-scaling", action="store_true", help="skip step 4 (1 and 2 workers)")
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "latest.json", help="where to write the figures")
    ap.add_argument("--wait-idle", type=float, default=0.0, metavar="S",
                    help="before each measurement wait up to S seconds for other processes to leave the cores idle")
    args = ap.parse_args(argv)
    quick = args.quick
    names = args.only or list(SCENARIOS)
    e2e_runs = args.runs or (1000 if quick else 10_000)
    max_runs = args.time_runs or (200 if quick else 2000)
    budget = 1.0 if quick else 6.0  # CPU seconds per part per scenario in step 2 (at most max_runs)
    rounds = 1 if quick else 3
    checks = 2 if quick else 5
    scale_seconds = 1.5 if quick else 8.0

    report: dict = {
        "schema": 2, "timestamp": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "git": git_commit(), "machine": machine(),
        "command": " ".join([Path(sys.executable).name, "benchmarks/run.py"] + (argv if argv is not None else sys.argv[1:])),
        "settings": {"quick": quick, "scenarios": names, "end_to_end_runs": e2e_runs, "workers": args.workers,
                     "max_runs_timed": max_runs, "budget_seconds": budget, "rounds": rounds, "check_runs": checks},
        "load_start": load(), "scenarios": {}, "targets": {},
    }
    os.chdir(ROOT)
    tmp = Path(tempfile.mkdtemp(prefix="sim-bench-"))
    try:
        for key in names:
            path = SCENARIOS[key]
            scenario = load_scenario(path)
            model = build(scenario)
            entry: dict = {"file": path, "engine": engine_for(model)}
            if key in BASELINE:
                console.print(f"[bold]{key}[/] ({path}): checking agreement on {checks} runs …")
                entry["check"] = check(model, checks)
            waited = wait_idle(args.wait_idle)
            entry["per_run"] = per_run(model, key, budget, rounds, max_runs)
            entry["per_run"]["waited_s"] = round(waited, 1)
            for r in entry["per_run"]["engines"]:
                console.print(f"  per run      {key:10} {r['part']:8} sample {r['ms_sample']:6.3f} + decide {r['ms_decide']:8.3f}"
                              f" + collect {r['ms_collect'] or 0:6.3f} ms (CPU)")
            waited = wait_idle(args.wait_idle)
            with Others() as others:  # first_come is 20 times Binjiang's size and no target: a fifth of the runs
                entry["end_to_end"] = end_to_end(path, e2e_runs if key in SHIPPED else max(100, e2e_runs // 5), args.workers, tmp)
            entry["end_to_end"].update(others_cpu_share=others.share, waited_s=round(waited, 1))
            e = entry["end_to_end"]
            console.print(f"  end to end   {key:10} {e['runs']} runs on {e['workers']} workers: {e['wall_seconds']:.1f} s "
                          f"({e['runs_per_s']:,.0f} runs/s), {e['cpu_ms_per_run']:.2f} CPU ms a run")
            if key in SCALING and not args.no_scaling:
                rate = 1e3 / e["cpu_ms_per_run"]
                runs = max(100, int(rate * scale_seconds) // 100 * 100)
                entry["scaling"] = []
                for workers in (1, 2):
                    waited = wait_idle(args.wait_idle)
                    with Others() as others:
                        s = scaling(scenario, workers, runs, tmp)
                    s.update(others_cpu_share=others.share, waited_s=round(waited, 1))
                    s["scaling_vs_1_worker"] = s["runs_per_s"] / entry["scaling"][0]["runs_per_s"] if entry["scaling"] else 1.0
                    entry["scaling"].append(s)
            report["scenarios"][key] = entry
        if "binjiang" in names:
            waited = wait_idle(args.wait_idle)
            with Others() as others:
                cost = uncertainty_cost(SCENARIOS["binjiang"], 200 if quick else 500, 1 if quick else 9, tmp)
            cost.update(others_cpu_share=others.share, waited_s=round(waited, 1))
            report["uncertain"] = cost
            console.print(f"  uncertain    binjiang   {cost['runs_per_cpu_s_uncertain']:,.0f} runs per CPU s with its "
                          f"{cost['parameters']} uncertain numbers, {cost['runs_per_cpu_s_fixed']:,.0f} with them at "
                          f"their medians (medians of the rounds); the rounds' paired ratios have median {cost['share']:.0%}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report["targets"] = targets(report, e2e_runs)
    report["load_end"] = load()
    report["bench_process_maxrss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    show(report)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    console.print(f"figures written to {args.json}")
    return report


def targets(report: dict, e2e_runs: int) -> dict:
    """Issue 8's targets, each with the measured value and whether it is met (None: not measured as stated)."""
    out: dict = {}
    scen = report["scenarios"]
    whole = e2e_runs >= 10_000
    for key, entry in scen.items():
        if key not in SHIPPED:
            continue
        e = entry["end_to_end"]
        out[f"{key}_10000_runs_seconds"] = {"target": TARGET_SECONDS, "value": e["wall_seconds"], "runs": e["runs"],
                                           "met": e["wall_seconds"] <= TARGET_SECONDS if whole else None,
                                           "cpu_per_worker": e["cpu_seconds"] / e["workers"]}
        if key in TARGET_RUNS_PER_S:
            out[f"{key}_runs_per_s"] = {"target": TARGET_RUNS_PER_S[key], "value": e["runs_per_s"],
                                        "met": e["runs_per_s"] >= TARGET_RUNS_PER_S[key] if whole else None}
        picked = next(r for r in entry["per_run"]["engines"] if r["part"] == entry["engine"])
        out[f"{key}_sample_share"] = {"target": TARGET_SAMPLE_SHARE, "value": picked["sample_share"],
                                      "met": picked["sample_share"] <= TARGET_SAMPLE_SHARE}
    if "uncertain" in report:
        u = report["uncertain"]
        out["binjiang_uncertain_speed"] = {"target": TARGET_UNCERTAIN_SHARE, "value": u["share"],
                                           "met": u["share"] >= TARGET_UNCERTAIN_SHARE,
                                           "runs_per_s": (u["runs_per_cpu_s_uncertain"], u["runs_per_cpu_s_fixed"])}
    peaks = [e["end_to_end"]["peak_rss_tree_bytes"] or e["end_to_end"]["maxrss_largest_process_bytes"] for e in scen.values()]
    if peaks:
        out["peak_memory_bytes"] = {"target": TARGET_BYTES, "value": max(peaks), "met": max(peaks) < TARGET_BYTES}
    if "first_come" in scen:
        fc = next((r for r in scen["first_come"]["per_run"]["engines"] if r["part"] == "fast"), None)
        if fc is not None:
            base = next(r for r in scen["first_come"]["per_run"]["engines"] if r["part"] == "baseline")
            out["first_come_fast_vs_baseline_with_tables"] = {
                "target": TARGET_SPEEDUP, "value": fc["speedup_vs_baseline_with_tables"],
                "met": fc["speedup_vs_baseline_with_tables"] >= TARGET_SPEEDUP, "without_tables": fc["speedup_vs_baseline"],
                # the ratio a fast engine that took no time at all would reach: sampling and tables alone
                "free_engine": base["ms_run"] / (fc["ms_sample"] + fc["ms_collect"])}
    return out


def show(report: dict) -> None:
    m, g = report["machine"], report["git"]
    console.print(f"\n[bold]sim benchmarks[/] {report['timestamp']}  commit {(g['commit'] or '?')[:10]}  "
                  f"{m['cpu']} × {m['cpus_usable']} usable cores, Python {m['python']}, numpy {m['numpy']}, simpy {m['simpy']}; "
                  f"load average {report['load_start']} at start, {report['load_end']} at end")
    t = Table(title="Per run, one process, CPU ms: sampling (a pass of runs, as the runner draws them), deciding, "
                    "summing into tables; runs/s from those", title_justify="left", padding=(0, 1))
    for col in ("scenario", "engine", "runs", "apps/run", "sample ms", "decide ms", "collect ms", "runs/s",
                "runs/s\n+tables", "sample\nshare", "× baseline", "× baseline\n+tables", "others'\ncpu"):
        t.add_column(col, justify="left" if col in ("scenario", "engine") else "right")
    for key, entry in report["scenarios"].items():
        for r in entry["per_run"]["engines"]:
            picked = " *" if r["part"] == entry["engine"] else ""
            t.add_row(key, r["part"] + picked, str(r["runs"]), f"{r['applications_per_run']:,.0f}", f"{r['ms_sample']:.3f}",
                      f"{r['ms_decide']:.3f}", "—" if r["ms_collect"] is None else f"{r['ms_collect']:.3f}",
                      f"{r['runs_per_s']:,.1f}", "—" if r["runs_per_s_with_tables"] is None else f"{r['runs_per_s_with_tables']:,.1f}",
                      _pct(r["sample_share"]) if r["ms_collect"] is not None else "—",
                      f"{r['speedup_vs_baseline']:.1f}" if "speedup_vs_baseline" in r else "—",
                      f"{r['speedup_vs_baseline_with_tables']:.1f}" if "speedup_vs_baseline" in r and r["ms_collect"] is not None else "—",
                      _pct(r["others_cpu_share"]))
    console.print(t)
    console.print("(* the engine `sim run` picks; the baseline's runs/s include the same sampling)")
    t = Table(title="End to end: `sim run SCENARIO --runs N --workers W` in a fresh interpreter (Parquet and summary included)",
              title_justify="left", padding=(0, 1))
    for col in ("scenario", "engine", "runs", "workers", "wall s", "runs/s", "CPU s", "CPU ms/run", "peak memory", "Parquet", "others'\ncpu"):
        t.add_column(col, justify="left" if col in ("scenario", "engine") else "right")
    for key, entry in report["scenarios"].items():
        e = entry["end_to_end"]
        t.add_row(key, e["engine"], f"{e['runs']:,}", str(e["workers"]), f"{e['wall_seconds']:.1f}", f"{e['runs_per_s']:,.0f}",
                  f"{e['cpu_seconds']:.1f}", f"{e['cpu_ms_per_run']:.2f}", _mib(e["peak_rss_tree_bytes"]), _mib(e["output_bytes"]),
                  _pct(e["others_cpu_share"]))
    console.print(t)
    rows = [(key, s) for key, entry in report["scenarios"].items() for s in entry.get("scaling", [])]
    if rows:
        t = Table(title="Scaling: simulate() with 1 and 2 workers, wall time", title_justify="left", padding=(0, 1))
        for col in ("scenario", "engine", "workers", "runs", "seconds", "runs/s", "scaling", "others'\ncpu"):
            t.add_column(col, justify="left" if col in ("scenario", "engine") else "right")
        for key, s in rows:
            t.add_row(key, s["engine"], str(s["workers"]), str(s["runs"]), f"{s['seconds']:.2f}", f"{s['runs_per_s']:,.1f}",
                      f"×{s['scaling_vs_1_worker']:.2f}", _pct(s["others_cpu_share"]))
        console.print(t)
    console.print("(others' cpu: share of all cores' time used by other processes during the measurement; wall times "
                  "taken above a few % are not comparable — rerun with --wait-idle 120)")
    for name, tgt in report["targets"].items():
        met = {True: "[green]met[/]", False: "[red]MISSED[/]", None: "[yellow]n/a (fewer than 10,000 runs)[/]"}[tgt["met"]]
        if name.endswith("bytes"):
            value, target = _mib(tgt["value"]), "< " + _mib(tgt["target"])
        elif name.endswith("share") or name.endswith("speed"):
            value, target = _pct(tgt["value"]), ("≥ " if name.endswith("speed") else "≤ ") + _pct(tgt["target"])
        elif name.endswith("seconds"):
            value, target = f"{tgt['value']:.1f} s", f"≤ {tgt['target']:g} s"
        else:
            value, target = f"{tgt['value']:,.1f}", f"≥ {tgt['target']:g}"
        more = (f" (×{tgt['without_tables']:.1f} without the tables; ×{tgt['free_engine']:.1f} if deciding took no time, "
                f"sampling and tables alone)") if "without_tables" in tgt else ""
        if "runs_per_s" in tgt:
            more = (f" (the median of the rounds' paired ratios; medians of the rounds: {tgt['runs_per_s'][0]:,.0f} runs per "
                    f"CPU s with its uncertain numbers, {tgt['runs_per_s'][1]:,.0f} without)")
        if "cpu_per_worker" in tgt:  # what the wall time would be if the workers had the cores to themselves, start-up aside
            more = f" (CPU {tgt['cpu_per_worker']:.1f} s per worker)"
        console.print(f"  target {name}: {value} vs {target}{more} → {met}")


def _pct(x: float | None) -> str:
    return "?" if x is None else f"{100 * x:.0f}%"


def _mib(n: int | None) -> str:
    return "?" if n is None else f"{n / 2**20:,.1f} MiB"


if __name__ == "__main__":
    main()
