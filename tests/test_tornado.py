"""Issue 11 item 5: `sim sensitivity` — the tornado, with common random numbers and paired intervals."""

from __future__ import annotations

import json

import polars as pl

from tests.test_sensitivity import dominated


def test_a_dominant_parameter_has_the_largest_swing_and_one_with_no_effect_none(cli, tmp_path):
    path = dominated(tmp_path, runs=200)
    out = tmp_path / "tornado"
    result = cli("sensitivity", path, "--out", out, "--workers", "1", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert [h["parameter"] for h in data["held"]] == ["segments.a.arrivals_per_year",
                                                      "segments.a.attributes.revenue.median", "segments.a.take_up.toy.v.p"]
    table = pl.DataFrame(data["tornado"])
    needed = table.filter((pl.col("measure") == "budget_needed") & (pl.col("year") == 2025)).sort("rank")
    first = needed.row(0, named=True)
    assert first["parameter"] == "segments.a.arrivals_per_year" and first["swing_low"] > 0
    assert first["at_low"] < first["base"] < first["at_high"]
    unused = needed.filter(pl.col("parameter") == "segments.a.attributes.revenue.median").row(0, named=True)
    # common random numbers: holding a number nothing reads changes no run, so the swing is exactly 0
    assert unused["swing"] == 0 and unused["swing_low"] == 0 == unused["swing_high"]
    dry = table.filter((pl.col("measure") == "p_dry") & (pl.col("year") == 2025)).sort("rank")
    assert dry["parameter"][0] == "segments.a.arrivals_per_year" and dry["swing_low"][0] > 0
    assert sorted(p.name for p in out.iterdir()) == ["01-high", "01-low", "02-high", "02-low", "03-high", "03-low",
                                                     "base", "tornado.html", "tornado.parquet"]
    assert pl.read_parquet(out / "tornado.parquet").height == table.height
    printed = cli("sensitivity", path, "--out", out, "--workers", "1", "--param", "segments.a.arrivals_per_year",
                  "--force", "--lang", "en")
    assert printed.code == 0 and "a.arrivals_per_year (" in printed.out and "Swing of the budget needed" in printed.out
    assert not (out / "02-low").exists()  # the earlier tornado's other settings are gone


def test_refusals_name_the_option(cli, tmp_path):
    path = dominated(tmp_path, runs=20)
    bad = cli("sensitivity", path, "--param", "segments.a.firms_at_start", "--out", tmp_path / "t")
    assert bad.code == 2 and bad.err.startswith("error: --param segments.a.firms_at_start: is not an uncertain number "
                                                "of the scenario; they are: segments.a.arrivals_per_year, ")
    plain = cli("sensitivity", "tests/invalid/base_scenario.yaml", "--out", tmp_path / "t")
    assert plain.code == 2 and "has no uncertain number to hold" in plain.err and not (tmp_path / "t").exists()
