"""The data path, policy → scenario → engine → runs → report → planning → cli, is one-way."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = ["errors", "policy", "scenario", "engine", "runs", "report", "planning", "cli"]


def _stage(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "sim" or len(parts) < 2:
        return None
    return STAGES.index(parts[1]) if parts[1] in STAGES else None


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
            if node.module == "sim":
                out += [(node.lineno, f"sim.{a.name}") for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
    return out


@pytest.mark.parametrize("path", sorted((ROOT / "sim").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_imports_from_a_later_stage(path):
    own = _stage("sim." + ".".join(path.relative_to(ROOT / "sim").with_suffix("").parts))
    if own is None:
        return  # sim/__init__.py and sim/__main__.py sit above the stages
    later = [f"line {line}: {mod}" for line, mod in _imports(path) if (_stage(mod) or 0) > own]
    assert not later, f"{path.relative_to(ROOT)} imports from a later stage: {later}"


def test_importing_the_report_does_not_load_simpy():
    code = "import sys, sim, sim.report.figures, sim.report.render, sim.report.terminal; print('simpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_the_command_line_starts_without_scipy_stats():
    """`sim --help`, `sim quote`, `sim policies` need no distribution: scipy.stats (most of a second) loads when one is drawn."""
    code = "import sys, sim.cli.main, sim.policy.quote; print(any(m.startswith('scipy.stats') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
