"""Stage 5, report: what a run folder says a budget office should plan for.

Takes a finished run folder and gives figures per program, pool and funder and year
(commitments and cash side by side, :mod:`sim.report.cash`), each with its Monte Carlo
uncertainty, then writes them for people: terminal tables, a
self-contained HTML page with charts, an Excel workbook and a tidy Parquet summary.
Reads run folders only through :mod:`sim.runs.storage`; never loads an engine.
"""
