"""Issue 12 item 5: the README's calibration walk-through runs as written in a fresh copy of the project.

The commands of "Calibrate to what you saw last year" run one after the other in a copy of
the project, as written but for the number of runs (the prior capped at 400, the sizing
at 20), so the test stays quick; the whole walk-through as written is timed in the README.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys

from tests.test_readme import ROOT

CAPS = {"calibrate": "400", "size": "20"}


def walk_through() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Calibrate to what you saw last year", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [shlex.split(line) for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def fewer_runs(args: list[str]) -> list[str]:
    if args[1] in CAPS and "--runs" in args:
        i = args.index("--runs")
        return args[:i + 1] + [CAPS[args[1]]] + args[i + 2:]
    return args


def test_the_calibration_walk_through_runs_in_order(tmp_path):
    for name in ("policies", "scenarios"):
        shutil.copytree(ROOT / name, tmp_path / name)
    commands = walk_through()
    assert [c[1] for c in commands] == ["fit", "calibrate", "size"]
    outputs = []
    for args in commands:
        done = subprocess.run([sys.executable, "-m", "sim", *fewer_runs(args)[1:]], cwd=tmp_path, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, (args, done.stderr[-2000:])
        outputs.append(done.stdout)
    assert "compute_rental: {dist: " in outputs[0]
    assert "Posterior against prior" in outputs[1] and "Posterior-predictive check" in outputs[1]
    folder = tmp_path / "outputs" / "binjiang-calibration"
    assert (folder / "calibration.parquet").exists() and (folder / "binjiang_calibrated.yaml").exists()
    assert (tmp_path / "outputs" / "binjiang_calibrated-size" / "sizing.parquet").exists()
