"""A self-contained HTML page: one file that opens offline, charts embedded as data URIs.

A report is mailed around and opened on machines without network access, so the page
carries everything it shows: its CSS inline, every chart as a base64 PNG ``data:`` URI,
no script, font, stylesheet or image fetched from anywhere.  Chinese titles are text in
the tables (the reader's browser has CJK fonts even where matplotlib has none).
"""

from __future__ import annotations

import base64
import html
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
figure img { max-width: 100%; height: auto; display: block; }
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


def image(png: bytes, alt: str, caption: str = "") -> str:
    """A figure holding ``png`` as a data URI (no file beside the page, no network)."""
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img class="chart" alt="{esc(alt)}" src="data:image/png;base64,{data}">{cap}</figure>'


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
