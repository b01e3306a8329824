"""A self-contained HTML page: one file that opens offline, charts inline as SVG.

A report is mailed around and opened on machines without network access, so the page
carries everything it shows: its CSS and its one script inline, every chart as inline
SVG whose labels are text (the reader's browser draws the Chinese with its own fonts),
no script, font, stylesheet or image fetched from anywhere.

:func:`budget_box` is the page's one interactive part: per pool and year, a budget typed
or slid by the reader, and the chance that the year's demand reaches it and the expected
unmet demand, computed in the page from the runs' demand embedded in it.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass

CSS = """
:root { --ink: #1b2631; --muted: #5d6d7e; --line: #d5dbdb; --band: #f4f6f7; --warn: #9a5b00; --accent: #1f4e79; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 -apple-system, "Segoe UI", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei",
       "Source Han Sans SC", "WenQuanYi Zen Hei", Roboto, Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--accent); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p.meta { color: var(--muted); margin: 0 0 16px; }
.box { background: var(--band); border-left: 4px solid var(--accent); padding: 10px 14px; margin: 12px 0; }
.box.warn { border-left-color: var(--warn); }
.box ul { margin: 4px 0; padding-left: 20px; }
.missing { color: var(--warn); font-style: italic; }
nav a { margin-right: 14px; }
figure { margin: 8px 0 18px; }
figure svg.chart { max-width: 100%; height: auto; display: block; }
table.budget-box input[type=number] { width: 9em; text-align: right; font: inherit; }
table.budget-box input[type=range] { width: 16em; vertical-align: middle; }
table.budget-box output { font-variant-numeric: tabular-nums; }
figcaption { color: var(--muted); font-size: 12px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 12.5px; }
th, td { padding: 3px 7px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--band); text-align: left; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td .sub { display: block; color: var(--muted); font-size: 11px; }
tr.first td { border-top: 1px solid #aab7b8; }
.title { min-width: 12em; }
code { background: var(--band); padding: 0 3px; }
"""


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, an optional second line in small type, and a tooltip."""

    text: str
    sub: str = ""
    tip: str = ""
    num: bool = False
    rowspan: int = 1
    cls: str = ""


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def figure(svg: str, label: str, caption: str = "") -> str:
    """A figure holding an inline SVG chart (no file beside the page, no network); ``label`` names it for screen readers."""
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure role="img" aria-label="{esc(label)}">{svg}{cap}</figure>'


def table(headers: list[Cell | str], rows: list[list[Cell | None]], *, cls: str = "") -> str:
    """An HTML table; a ``None`` cell is one covered by a rowspan above it."""
    head = "".join(_cell(h if isinstance(h, Cell) else Cell(h), "th") for h in headers)
    body = []
    for row in rows:
        first = bool(row) and row[0] is not None and row[0].rowspan > 1
        cells = "".join(_cell(c, "td") for c in row if c is not None)
        body.append(f'<tr{" class=first" if first else ""}>{cells}</tr>')
    return f'<div class="scroll"><table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _cell(c: Cell, tag: str) -> str:
    classes = " ".join(filter(None, ["num" if c.num else "", c.cls]))
    attrs = (f' class="{classes}"' if classes else "") + (f' title="{esc(c.tip)}"' if c.tip else "")
    attrs += f' rowspan="{c.rowspan}"' if c.rowspan > 1 else ""
    sub = f'<span class="sub">{esc(c.sub)}</span>' if c.sub else ""
    return f"<{tag}{attrs}>{esc(c.text)}{sub}</{tag}>"


def box(items: list[str], *, warn: bool = False, title: str = "") -> str:
    """A highlighted list of notes; ``items`` are HTML already escaped by the caller."""
    if not items:
        return ""
    head = f"<strong>{esc(title)}</strong>" if title else ""
    return f'<div class="box{" warn" if warn else ""}">{head}<ul>{"".join(f"<li>{i}</li>" for i in items)}</ul></div>'


def section(ident: str, title: str, body: str) -> str:
    return f'<section id="{esc(ident)}"><h2>{esc(title)}</h2>{body}</section>'


def document(title: str, body: str, *, lang: str = "zh-CN") -> str:
    """The whole page: inline CSS, no external reference of any kind."""
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>{body}</main></body></html>")


@dataclass(frozen=True)
class BudgetRow:
    """One pool-year of the budget box: its label, its starting budget and the runs' demand (yuan)."""

    key: str  # "pool|year", the key of its demand in the embedded data
    pool: Cell
    year: str
    start: int  # yuan shown at first (the budget, or the budget needed where there is none)
    demand: list[int]  # one value per run


def budget_box(rows: list[BudgetRow], headers: list[str]) -> str:
    """A table where the reader types or slides a budget per pool-year and reads P(demand ≥ budget) and expected unmet.

    The runs' demand is embedded sorted and delta-encoded (``<script type="application/json">``);
    the script decodes it once, then for a budget ``B`` finds by binary search the first
    run with demand ≥ ``B`` (``P = (n − i) / n``) and the unmet demand from suffix sums
    (``mean(max(D − B, 0)) = (S_i − (n − i) B) / n``), exactly as
    :func:`sim.report.figures.dry_at` does in Python.  Outputs carry the exact counts in
    ``data-runs-dry`` and ``data-unmet-yuan`` attributes.
    """
    data = {}
    body = []
    for row in rows:
        values = sorted(row.demand)
        data[row.key] = [values[0]] + [b - a for a, b in zip(values, values[1:])] if values else []
        step = _step(max(values[-1] if values else 0, row.start, 1) * 1.25)
        top = math.ceil(max(values[-1] if values else 0, row.start, 1) * 1.25 / 10_000 / float(step)) * float(step)
        start_wan = row.start / 10_000
        body.append(
            f'<tr data-key="{esc(row.key)}">{_cell(row.pool, "td")}<td>{esc(row.year)}</td>'
            f'<td class="num"><input type="number" class="budget" min="0" step="any" value="{start_wan:.0f}" '
            f'aria-label="{esc(headers[2])}"></td>'
            f'<td><input type="range" class="slider" min="0" max="{top:.0f}" step="{step}" value="{start_wan:.0f}" '
            f'aria-label="{esc(headers[2])}"></td>'
            f'<td class="num"><output class="p-dry"></output></td><td class="num"><output class="unmet"></output></td></tr>')
    head = "".join(f"<th{' class=num' if i in (2, 4, 5) else ''}>{esc(h)}</th>" for i, h in enumerate(headers))
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return (f'<div class="scroll"><table class="budget-box"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
            f'</table></div><script type="application/json" id="sim-demand">{payload}</script><script>{BUDGET_SCRIPT}</script>')


def _step(top_yuan: float) -> str:
    """A slider step of about 1/500 of its range, rounded to 1, 2 or 5 × a power of ten (万元)."""
    raw = max(top_yuan / 10_000 / 500, 1)
    power = 10 ** (len(str(int(raw))) - 1)
    return str(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


BUDGET_SCRIPT = """
(function () {
  const raw = JSON.parse(document.getElementById('sim-demand').textContent);
  const runs = {};
  for (const key in raw) {
    const sorted = [], suffix = [];
    let value = 0;
    for (const d of raw[key]) { value += d; sorted.push(value); }
    let total = 0;
    for (let i = sorted.length - 1; i >= 0; i--) { total += sorted[i]; suffix[i] = total; }
    suffix[sorted.length] = 0;
    runs[key] = {sorted: sorted, suffix: suffix};
  }
  function firstAtLeast(sorted, budget) {
    let lo = 0, hi = sorted.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] >= budget) hi = mid; else lo = mid + 1; }
    return lo;
  }
  function update(row, wan) {
    const r = runs[row.dataset.key], n = r.sorted.length;
    const budget = Math.round(Number(wan) * 10000);
    const i = firstAtLeast(r.sorted, budget), dry = n - i;
    const unmet = n ? (r.suffix[i] - dry * budget) / n : 0;
    const p = row.querySelector('output.p-dry'), u = row.querySelector('output.unmet');
    p.dataset.runsDry = dry; p.dataset.runs = n; p.dataset.budgetYuan = budget;
    p.textContent = (n ? (100 * dry / n).toFixed(1) : '0.0') + '% (' + dry + '/' + n + ')';
    u.dataset.unmetYuan = unmet;
    u.textContent = (unmet / 10000).toLocaleString(undefined, {maximumFractionDigits: 0});
  }
  for (const row of document.querySelectorAll('table.budget-box tbody tr')) {
    const box = row.querySelector('input.budget'), slider = row.querySelector('input.slider');
    box.addEventListener('input', function () { slider.value = box.value; update(row, box.value); });
    slider.addEventListener('input', function () { box.value = slider.value; update(row, slider.value); });
    update(row, box.value);
  }
})();
"""
