"""Issue 4: `sim run --report` files as a reader gets them: report.html in a real headless
Chromium (offline, every chart loaded, no console error) and report.xlsx reopened.

Chromium and its driver are Debian's; the session fixture installs them when missing
(we run as root) and fails, not skips, when that is impossible: an unchecked page is a
regression waiting to ship.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
SECTIONS = ("risk", "chart-fan", "chart-demand", "chart-dry", "chart-funders", "pools", "programs", "funders")


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


def test_report_html_in_headless_chromium(reported, browser, tmp_path):
    page = reported / "report.html"
    text = page.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text and "<script" not in text
    browser.get(page.as_uri())
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.closest('section') && i.closest('section').id,"
        " i.complete, i.naturalWidth, i.src.slice(0, 22)])")
    assert len(images) >= 4
    for section, complete, width, src in images:
        assert complete and width > 0, (section, src)
        assert src == "data:image/png;base64,"
    for ident in SECTIONS:
        assert browser.execute_script(f"return document.getElementById('{ident}') !== null"), ident
    with_images = {s for s, *_ in images}
    assert {"chart-fan", "chart-demand", "chart-dry", "chart-funders"} <= with_images
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [r for r in resources if not r.startswith(("data:", "file:"))] == []
    body = browser.find_element("tag name", "body").text
    assert "算力券" in body and "compute_vouchers" in body and "（六）" in body
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1280, min(height + 50, 12000))
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 50_000
    if os.environ.get("SIM_SCREENSHOT_DIR"):  # to look at the page: SIM_SCREENSHOT_DIR=/tmp pytest …
        shutil.copy(shot, Path(os.environ["SIM_SCREENSHOT_DIR"]) / "report.png")


def test_report_xlsx_reopens_with_numbers_as_numbers(reported):
    book = openpyxl.load_workbook(reported / "report.xlsx")
    assert book.sheetnames == ["Read me", "Pool risk", "Pools", "Programs", "Funders", "Grants through year"]
    for name in book.sheetnames:
        sheet = book[name]
        assert sheet.freeze_panes == "A2", name
        assert sheet.column_dimensions["A"].width and sheet.column_dimensions["A"].width > 8, name
    risk = book["Pool risk"]
    header = [c.value for c in risk[1]]
    row = next(r for r in risk.iter_rows(min_row=2, values_only=False) if r[0].value == "binjiang.compute_vouchers")
    cells = dict(zip(header, row))
    assert cells["budget\n(万元)"].data_type == "n" and cells["budget\n(万元)"].value == 10_000
    assert cells["budget\n(万元)"].number_format == "#,##0.00"
    assert cells["P(dry)"].data_type == "n" and cells["P(dry)"].number_format == "0.0%"
    assert cells["year"].value in (2025, 2026, 2027) and cells["year"].number_format == "0"
    assert isinstance(cells["budget needed\n(万元)"].value, float)
    programs = book["Programs"]
    titles = {r[3] for r in programs.iter_rows(min_row=2, values_only=True)}
    assert "降低算力使用成本（算力券）" in titles
    numbers = [c for r in programs.iter_rows(min_row=2, max_row=40) for c in r[7:]]
    assert numbers and all(c.data_type == "n" for c in numbers)
