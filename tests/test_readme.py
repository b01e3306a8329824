"""Issue 10: a fresh clone runs the README's commands in the order written.

The set-up's `sim run` and every command of "What you can do" run one after the other in a
copy of the project, as written but for the number of Monte Carlo runs, capped at 20 so
the test stays quick: a command that needs --force, --resume that needs options repeated,
or a folder that does not exist yet fails here.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = re.search(r"&& \.venv/bin/(sim run [^\n]+)", text).group(1)
    block = text.split("## What you can do", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    lines, current = [], ""
    for raw in block.splitlines():
        line = raw.split("  #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip() or line.startswith(" " * 20):  # blank, or a comment's continuation
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            lines.append(current.strip())
            current = ""
    return [shlex.split(c) for c in [setup, *lines]]


def few_runs(args: list[str]) -> list[str]:
    if args[1] not in ("run", "size", "sweep", "sensitivity") or "--resume" in args:
        return args
    if "--runs" in args:
        i = args.index("--runs")
        return args[:i + 1] + ["20"] + args[i + 2:]
    return args + ["--runs", "20"]


def test_the_readme_commands_run_in_order(tmp_path):
    for name in ("policies", "scenarios", "docs"):
        shutil.copytree(ROOT / name, tmp_path / name)
    commands = readme_commands()
    assert len(commands) >= 12 and commands[0][:2] == ["sim", "run"]
    for args in commands:
        redirect = None
        if ">" in args:
            args, redirect = args[:args.index(">")], args[args.index(">") + 1]
        if "*" in " ".join(args):
            args = args[:1] + [a for arg in args[1:] for a in (sorted(str(p.relative_to(tmp_path)) for p in tmp_path.glob(arg)) if "*" in arg else [arg])]
        done = subprocess.run([sys.executable, "-m", "sim", *few_runs(args)[1:]], cwd=tmp_path, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, (args, done.stderr[-2000:])
        if redirect:
            (tmp_path / redirect).write_text(done.stdout, encoding="utf-8")
    assert (tmp_path / "outputs/binjiang/report.html").exists() and (tmp_path / "figures.json").stat().st_size > 1000
