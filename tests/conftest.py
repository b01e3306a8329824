"""Shared fixtures: run the CLI in-process and capture what it prints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _in_project_root(monkeypatch):
    """Tests run from the project folder, as users do (policies/ and scenarios/ resolve)."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def cli(capsys):
    def run(*args: str) -> Result:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
