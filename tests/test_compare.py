"""Issue 11 item 6: `sim compare` — paired differences of two variants run with the same seed."""

from __future__ import annotations

import json

import polars as pl
import pytest

RUN = ("run", "scenarios/binjiang.yaml", "--runs", "40", "--batch-size", "20", "--workers", "1", "-q")
HIGH = "segments.ai_smes.take_up.binjiang.compute_voucher.p=0.9"


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    from sim.cli.main import main

    root = tmp_path_factory.mktemp("compare")
    for name, extra in (("base", ()), ("high", ("--set", HIGH)), ("seed", ("--seed", "7")), ("few", ("--runs", "20"))):
        assert main([*RUN, *extra, "--out", str(root / name)]) == 0
    return root


def test_a_run_compared_with_itself_differs_by_nothing(cli, folders, tmp_path):
    result = cli("compare", folders / "base", folders / "base", "--json", "--out", tmp_path)
    rows = json.loads(result.out)["comparison"]
    assert result.code == 0 and rows and all(r["difference"] == 0 and r["paired_se"] == 0 for r in rows)
    assert cli("compare", folders / "base", folders / "base", "--out", tmp_path).out.startswith("Compare")


def test_paired_differences_are_the_mean_per_run_difference_and_tighter_than_independent(cli, folders, tmp_path):
    result = cli("compare", folders / "base", folders / "high", "--json", "--out", tmp_path)
    assert result.code == 0, result.err
    table = pl.DataFrame(json.loads(result.out)["comparison"])
    granted = table.filter((pl.col("pool") == "binjiang.compute_vouchers") & (pl.col("measure") == "granted")
                           & (pl.col("year") == 2025)).row(0, named=True)
    # the mean paired difference is the difference of the means, computed here from the tables themselves
    def mean_granted(folder):
        py = pl.read_parquet(folder / "pool_years" / "*.parquet")
        return py.filter((pl.col("pool") == "binjiang.compute_vouchers") & (pl.col("year") == 2025))["granted_yuan"].mean()
    assert granted["difference"] == pytest.approx(mean_granted(folders / "high") - mean_granted(folders / "base"))
    assert granted["difference_low"] > 0  # more take-up pays more, and the runs can tell
    assert granted["paired_se"] < granted["independent_se"] / 2
    files = json.loads(result.out)["files"]
    assert [f.rsplit("/", 1)[1] for f in files] == ["compare.parquet", "compare.html"]
    assert pl.read_parquet(tmp_path / "compare.parquet").equals(pl.read_parquet(files[0]))


@pytest.mark.parametrize("other,message", [
    ("seed", "{a} (seed 20261121) and {b} (seed 7) were run with different seeds: their runs do not share random "
             "numbers, so run by run differences mean nothing; run both with the same --seed (e.g. `sim run SCENARIO "
             "--seed 20261121 --set …`)"),
    ("few", "{a} (40 runs) and {b} (20 runs) differ in their number of runs; run both with the same --runs (e.g. --runs 40)"),
])
def test_folders_that_share_no_runs_are_refused(cli, folders, tmp_path, other, message):
    a, b = folders / "base", folders / other
    result = cli("compare", a, b, "--out", tmp_path / "c")
    assert result.code == 2 and result.err == f"error: {message.format(a=a, b=b)}\n"
    assert not (tmp_path / "c").exists()


def test_an_incomplete_run_is_refused_with_the_command_that_finishes_it(cli, folders, tmp_path):
    import shutil

    part = tmp_path / "part"
    shutil.copytree(folders / "high", part)
    manifest = json.loads((part / "manifest.json").read_text())
    manifest["batches_complete"], manifest["complete"] = [0], False
    (part / "manifest.json").write_text(json.dumps(manifest))
    result = cli("compare", folders / "base", part, "--out", tmp_path / "c")
    assert result.code == 2 and result.err.startswith(f"error: {part}: the run is incomplete (1 of 2 batches), so its "
                                                      "runs cannot be paired; finish it with `sim run scenarios/binjiang.yaml "
                                                      f"--set {HIGH} --out {part} --resume`")
