"""Issues 4 and 10: `sim run --report` files as a reader gets them: report.html in a real
headless Chromium (offline, charts as inline SVG with their Chinese as text, the budget box
computing what sim computes, no console error) and report.xlsx reopened.

Chromium and its driver are Debian's; the session fixture installs them when missing
(we run as root) and fails, not skips, when that is impossible: an unchecked page is a
regression waiting to ship.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
SECTIONS = ("risk", "try-budget", "cash", "chart-fan", "chart-demand", "chart-dry", "chart-funders", "pools", "programs",
            "funders")


@pytest.fixture(scope="session")
def chromium() -> tuple[Path, Path]:
    """Debian's chromium and chromium-driver, installed with apt-get if missing (once, under a lock)."""
    with open("/tmp/sim-chromium-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers must not run apt-get at the same time
        if not (CHROMIUM.exists() and DRIVER.exists()):
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"]):
                try:
                    done = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1200)
                except (OSError, subprocess.TimeoutExpired) as exc:
                    pytest.fail(f"{' '.join(cmd)} could not run: {exc}")
                if done.returncode != 0:
                    pytest.fail(f"{' '.join(cmd)} failed with {done.returncode}:\n{done.stderr[-3000:]}")
        if not (CHROMIUM.exists() and DRIVER.exists()):
            pytest.fail(f"{CHROMIUM} or {DRIVER} is still missing after apt-get install chromium chromium-driver")
    return CHROMIUM, DRIVER


@pytest.fixture
def browser(chromium, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium[0])
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1280,1000",
                # any request to the network would go to a dead proxy and fail loudly in the console
                "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(chromium[1])), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """`sim run --report`: 40 runs of Binjiang with the report written in the same step."""
    from sim.cli.main import main

    out = tmp_path_factory.mktemp("bj") / "out"
    code = main(["run", str(ROOT / "scenarios/binjiang.yaml"), "--runs", "40", "--workers", "2", "--out", str(out), "--report"])
    assert code == 0
    return out


def test_run_with_report_writes_the_three_files_and_the_ledger(reported):
    for name in ("report.html", "report.xlsx", "summary.parquet", "awards"):
        assert (reported / name).exists(), name


def _load(browser, page: Path) -> None:
    browser.get(page.as_uri())
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe


def test_report_html_in_headless_chromium(reported, browser, tmp_path):
    """The Chinese page (the default) opens offline, with its charts as inline SVG whose Chinese is text."""
    page = reported / "report.html"
    text = page.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text and "<img" not in text and "<script src" not in text
    _load(browser, page)
    assert browser.execute_script("return document.documentElement.lang") == "zh-CN"
    for ident in SECTIONS:
        assert browser.execute_script(f"return document.getElementById('{ident}') !== null"), ident
    charts = browser.execute_script(
        "return Array.from(document.querySelectorAll('svg.chart')).map(s => [s.closest('section').id,"
        " Array.from(s.querySelectorAll('text')).map(t => t.textContent).join('|'), s.getBoundingClientRect().width])")
    assert {"chart-fan", "chart-demand", "chart-dry", "chart-funders"} <= {c[0] for c in charts}
    assert all(width > 200 for _, _, width in charts)
    fan = [labels for section, labels, _ in charts if section == "chart-fan"]
    assert any("算力券" in labels and "compute_vouchers" in labels and "年内累计拨付" in labels for labels in fan)
    cash = [labels for section, labels, _ in charts if section == "cash"]  # Binjiang's platforms are paid by year
    assert any("embodied_platform" in labels and "年内累计现金支付" in labels and "2029" in labels for labels in cash)
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [r for r in resources if not r.startswith(("data:", "file:"))] == []
    headings = browser.execute_script("return Array.from(document.querySelectorAll('h1, h2')).map(h => h.textContent)")
    assert headings[0].startswith("预算测算报告") and "预算试算：资金用尽概率与未满足需求" in headings
    assert any(h.startswith("资金池：资金用尽风险") for h in headings) and "各财政年度承诺额与现金支付" in headings
    body = browser.find_element("tag name", "body").text
    assert "算力券" in body and "compute_vouchers" in body and "（六）" in body and "未设上限" in body
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1280, min(height + 50, 12000))
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 50_000
    if os.environ.get("SIM_SCREENSHOT_DIR"):  # to look at the page: SIM_SCREENSHOT_DIR=/tmp pytest …
        shutil.copy(shot, Path(os.environ["SIM_SCREENSHOT_DIR"]) / "report.png")


def _row(browser, key: str):
    return browser.find_element("css selector", f"table.budget-box tr[data-key='{key}']")


def _read(row) -> tuple[int, int, float]:
    p_dry = row.find_element("css selector", "output.p-dry")
    unmet = row.find_element("css selector", "output.unmet")
    return int(p_dry.get_attribute("data-runs-dry")), int(p_dry.get_attribute("data-runs")), float(unmet.get_attribute("data-unmet-yuan"))


@pytest.mark.parametrize("budget_wan", ["9000", "10500.5", "0"])
def test_budget_box_gives_the_python_figures(reported, browser, budget_wan):
    """Type a budget into the page: its P(demand ≥ budget) and expected unmet demand equal sim's, to the run and the yuan."""
    from selenium.webdriver.common.keys import Keys

    from sim.report.figures import build_report, dry_at

    report = build_report(reported)
    _load(browser, reported / "report.html")
    row = _row(browser, "binjiang.compute_vouchers|2026")
    box = row.find_element("css selector", "input.budget")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(budget_wan)
    yuan = round(float(budget_wan) * 10_000)
    dry, runs, unmet = _read(row)
    want_dry, want_runs, want_unmet = dry_at(report.pool_demand, "binjiang.compute_vouchers", 2026, yuan)
    assert (dry, runs) == (want_dry, want_runs) == (dry, 40)
    assert unmet == pytest.approx(want_unmet, abs=1e-6)
    shown = row.find_element("css selector", "output.p-dry").text
    assert shown == f"{100 * want_dry / 40:.1f}% ({want_dry}/40)"
    slider = row.find_element("css selector", "input.slider")
    assert float(slider.get_attribute("value")) == pytest.approx(float(budget_wan), abs=float(slider.get_attribute("step")))


def test_budget_box_slider_moves_the_figures(reported, browser):
    from sim.report.figures import build_report, dry_at

    report = build_report(reported)
    _load(browser, reported / "report.html")
    row = _row(browser, "binjiang.compute_vouchers|2027")
    slider = row.find_element("css selector", "input.slider")
    browser.execute_script("arguments[0].value = arguments[0].min; arguments[0].dispatchEvent(new Event('input'))", slider)
    assert _read(row)[0] == 40  # a budget of 0: every run's demand reaches it
    browser.execute_script("arguments[0].value = arguments[0].max; arguments[0].dispatchEvent(new Event('input'))", slider)
    top = round(float(slider.get_attribute("max")) * 10_000)
    assert _read(row)[0] == dry_at(report.pool_demand, "binjiang.compute_vouchers", 2027, top)[0] == 0
    assert row.find_element("css selector", "input.budget").get_attribute("value") == slider.get_attribute("max")


def test_english_page(cli, reported, browser, tmp_path):
    copy = tmp_path / "en"
    shutil.copytree(reported, copy)
    assert cli("report", copy, "--lang", "en", "-q").code == 0
    _load(browser, copy / "report.html")
    headings = browser.execute_script("return Array.from(document.querySelectorAll('h2')).map(h => h.textContent)")
    assert "Try a budget: chance of running dry and unmet demand" in headings
    assert browser.execute_script("return document.querySelectorAll('svg.chart').length") >= 4
    assert "<img" not in (copy / "report.html").read_text(encoding="utf-8")


def test_report_xlsx_native_tables_and_charts(reported):
    book = openpyxl.load_workbook(reported / "report.xlsx")
    assert book.sheetnames == ["说明", "资金池风险", "资金池", "政策项目", "各级财政", "年度现金支付", "月度现金支付", "年内累计拨付", "敏感性", "图表"]
    for name in book.sheetnames[1:-1]:
        sheet = book[name]
        assert sheet.freeze_panes == "A2", name
        # a native Excel table: filter buttons, banded rows (the sensitivity sheet has its chart's data beside it)
        assert len(sheet.tables) == (2 if name == "敏感性" else 1), name
        assert sheet.column_dimensions["A"].width and sheet.column_dimensions["A"].width > 8, name
    risk = book["资金池风险"]
    header = [c.value for c in risk[1]]
    row = next(r for r in risk.iter_rows(min_row=2, values_only=False) if r[0].value == "binjiang.compute_vouchers")
    cells = dict(zip(header, row))
    assert cells["预算（万元）"].data_type == "n" and cells["预算（万元）"].value == 10_000
    assert cells["预算（万元）"].number_format == "#,##0.00"
    assert cells["用尽概率"].data_type == "n" and cells["用尽概率"].number_format == "0.0%"
    assert cells["年度"].value in (2025, 2026, 2027) and cells["年度"].number_format == "0"
    assert cells["分配方式"].value == "先到先得" and isinstance(cells["所需预算（万元）"].value, float)
    programs = book["政策项目"]
    titles = {r[3] for r in programs.iter_rows(min_row=2, values_only=True)}
    assert "降低算力使用成本（算力券）" in titles
    numbers = [c for r in programs.iter_rows(min_row=2, max_row=40) for c in r[7:]]
    assert numbers and all(c.data_type == "n" or c.value is None for c in numbers)
    with zipfile.ZipFile(reported / "report.xlsx") as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        # budget against budget needed, chance of running dry, grants by funder; what drives demand
        assert len(charts) == 4
        xmls = [z.read(c).decode("utf-8") for c in charts]
        xml = next(x for x in xmls if "'图表'" in x or "图表!" in x)  # the first chart drawn from the 图表 sheet
        assert "<c:barChart>" in xml
        assert sum("敏感性" in x for x in xmls) == 1  # what drives demand, from the sensitivity sheet
    chart_sheet = book["图表"]
    assert [c.value for c in chart_sheet[1]] == ["资金池", "预算（万元）", "所需预算（万元）", "用尽概率"]
