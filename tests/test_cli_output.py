"""Issue 10 item 5: output that fits where it goes — never a cut number; --json, -q, --version."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import polars as pl
import pytest
from rich.console import Console

from sim.cli.run import print_summary
from sim.report.figures import build_report, pool_summary
from sim.report.terminal import pool_table, risk_table, show
from sim.runs.runner import simulate
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")
CUT = re.compile(r"\w…")  # a number or name cut short, as in 11,3… (a list's ", …" is not a cut)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out") / "bj"
    simulate(load_scenario(ROOT / "scenarios/binjiang.yaml"), runs=40, workers=1, out=out, events=True)
    return out


def terminal(width: int) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=width, force_terminal=True, highlight=False, markup=False, emoji=False), buffer


def cells(table) -> list[tuple[str, str]]:
    """(column header, cell text) of every non-empty cell but the first column's."""
    headers = [str(c.header).replace("\n", " ") for c in table.columns]
    out = []
    for column, header in zip(table.columns[1:], headers[1:]):
        out += [(header, getattr(c, "plain", str(c))) for c in column.cells if getattr(c, "plain", str(c)).strip()]
    return out


@pytest.mark.parametrize("width", [40, 60, 80])
def test_a_narrow_terminal_never_cuts_a_number(run, width):
    report = build_report(run)
    for table in (risk_table(report), pool_table(report)):
        console, buffer = terminal(width)
        show(console, table)
        text = ANSI.sub("", buffer.getvalue())
        assert not CUT.search(text) and all(len(line) <= width for line in text.splitlines())
        drawn = "─" in text  # the table fits: drawn as a table
        lines = text.splitlines()
        for header, value in cells(table):
            shown = value if drawn else f"{header}: {value}"
            assert any(shown in line for line in lines), (header, value)


def test_a_wide_terminal_draws_the_table(run):
    console, buffer = terminal(200)
    show(console, risk_table(build_report(run)))
    assert "─" in buffer.getvalue() and "year: " not in buffer.getvalue()


def test_piped_output_is_never_cut(cli, run, monkeypatch):
    """The test's stdout is not a terminal, as with `sim run … > file` or `| less`, even with COLUMNS=60."""
    monkeypatch.setenv("COLUMNS", "60")
    for args in (("report", run), ("policies",), ("run", "scenarios/binjiang.yaml", "--runs", "10", "--workers", "1",
                                                  "--out", run.parent / "piped")):
        result = cli(*args)
        assert result.code == 0, result.err
        assert not CUT.search(result.out), args
        assert result.err == "", args  # no progress bar drawn into a log


def test_run_summary_uses_the_report_percentiles(run):
    """Issue 8: `sim run` and `sim report` give the same p90 on one folder."""
    summary = pool_summary(run)
    figures = build_report(run).pools
    for measure in ("demand", "granted"):
        joined = summary.join(figures.filter(pl.col("measure") == measure), on=["pool", "year"])
        assert joined.height == summary.height
        assert (joined[f"{measure}_p90"] == joined["p90"]).all()
        assert (joined[f"{measure}_p50"] == joined["p50"]).all()
    risk = summary.join(build_report(run).pool_risk, on=["pool", "year"])  # P(dry) and its standard error as the report's
    assert risk.height and (risk["p_dry_se"] - risk["p_dry_se_right"]).abs().max() < 1e-12
    assert ((risk["p_dry"] - risk["p_dry_right"]).abs() < 1e-12).all()


def test_the_chinese_page_names_the_assumptions_in_chinese(cli, run):
    assert cli("report", run, "-q").code == 0
    page = (run / "report.html").read_text(encoding="utf-8")
    assert "ai_smes：算力券申请率" in page and "政策生效日期" in page  # in the table and the charts
    assert "ai_smes.take_up.compute_voucher.p" not in page
    assert "ai_smes.take_up.compute_voucher.p" in cli("report", run).out  # the terminal speaks English by default


def test_run_json_and_quiet(cli, tmp_path):
    result = cli("run", "scenarios/binjiang.yaml", "--runs", "10", "--workers", "1", "--out", tmp_path / "a", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["runs"] == 10 and data["out"] == str(tmp_path / "a") and data["complete"] and data["engine"] == "fast"
    vouchers = [p for p in data["pools"] if p["pool"] == "binjiang.compute_vouchers"]
    assert [p["year"] for p in vouchers] == [2025, 2026, 2027] and all(p["budget"] == 100_000_000 for p in vouchers)
    quiet = cli("run", "scenarios/binjiang.yaml", "--runs", "10", "--workers", "1", "--out", tmp_path / "b", "-q")
    assert quiet.code == 0 and quiet.out == f"{tmp_path / 'b'}\n"


def test_report_json(cli, run):
    result = cli("report", run, "--json", "--risk", "0.1")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    report = build_report(run, risk=0.1)
    assert data["risk"] == 0.1 and data["runs"] == 40
    assert sorted(Path(f).name for f in data["files"]) == ["report.html", "report.xlsx", "sensitivity.parquet",
                                                           "summary.parquet"]  # Binjiang has uncertain numbers
    first = report.pool_risk.row(0, named=True)
    row = next(r for r in data["pool_risk"] if r["pool"] == first["pool"] and r["year"] == first["year"])
    assert row["budget_needed_yuan"] == first["budget_needed_yuan"] and row["p_dry"] == first["p_dry"]
    assert {r["measure"] for r in data["pools"]} == {"demand", "granted", "unmet"}
    quiet = cli("report", run, "-q")
    assert quiet.out.splitlines() == [str(run / name) for name in ("report.html", "report.xlsx", "summary.parquet",
                                                                   "sensitivity.parquet")]


def test_size_and_sweep_json(cli, tmp_path):
    sized = cli("size", "tests/invalid/base_scenario.yaml", "--runs", "20", "--workers", "1", "--out", tmp_path / "s", "--json")
    assert sized.code == 0, sized.err
    data = json.loads(sized.out)
    assert data["risk"] == 0.05 and {r["pool"] for r in data["sizing"]} == {"mini.vouchers"}
    swept = cli("sweep", "tests/invalid/base_scenario.yaml", "--runs", "10", "--workers", "1", "--out", tmp_path / "w",
                "--set", "segments.0.firms_at_start=5,20", "--json")
    assert swept.code == 0, swept.err
    data = json.loads(swept.out)
    assert [v["segments.0.firms_at_start"] for v in data["variants"]] == ["5", "20"]
    assert {r["variant"] for r in data["comparison"]} == {"v01", "v02"}


def test_version_and_completion(cli):
    from sim import __version__

    result = cli("--version")
    assert result.code == 0 and result.out == f"sim {__version__}\n"
    assert "--install-completion" in cli("--help").out


def test_print_summary_fits_80_columns(run, tmp_path):
    from sim.runs.manifest import read_manifest
    from sim.runs.runner import RunResult

    console, buffer = terminal(80)
    print_summary(RunResult(out=run, manifest=read_manifest(run), engine="fast"), console)
    text = ANSI.sub("", buffer.getvalue())
    assert not CUT.search(text) and "compute_vouchers" in text


def test_terminal_in_chinese_with_lang_zh(cli, run, tmp_path):
    result = cli("report", run, "--lang", "zh")
    assert result.code == 0, result.err
    assert "预算测算报告" in result.out and "资金池（万元）：用尽概率" in result.out and "报告：" in result.out
    sized = cli("size", "tests/invalid/base_scenario.yaml", "--runs", "20", "--workers", "1", "--out", tmp_path / "s", "--lang", "zh")
    assert sized.code == 0, sized.err
    assert "使资金用尽概率不超过 5.0% 的预算（万元）" in sized.out and "所需\n预算" not in sized.out
    bad = cli("report", run, "--lang", "fr")
    assert bad.code == 2 and bad.err == "error: --lang fr: must be zh (Chinese) or en (English)\n"


def test_english_stays_the_terminal_default(cli, run):
    result = cli("report", run)
    assert result.code == 0
    assert '<html lang="zh-CN">' in (run / "report.html").read_text(encoding="utf-8")  # the page defaults to Chinese ...
    assert "Budget report" in result.out and "预算" not in result.out.split("\n")[1]  # ... the terminal to English


@pytest.mark.parametrize("command", ["run", "validate", "policies", "quote", "report", "size", "sweep", "schema"])
def test_every_command_has_help_with_an_example(cli, command):
    result = cli(command, "--help")
    assert result.code == 0 and "Example" in result.out
