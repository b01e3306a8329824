"""Issue 10: every bad input a clear message — the project's corpus of bad inputs.

Each case gives its exact message (one line, after ``error: ``), exit code 2, no
traceback, and nothing written.  Scenario files live in ``tests/invalid/scenario/`` (each
breaks ``tests/invalid/base_scenario.yaml`` in one way, said in its first line); policy
files in ``tests/invalid/policy/`` (tests/test_policy_schema.py); options and output
folders are tables below.  ``sim validate`` refuses every bad scenario that ``sim run``
refuses, with the same message, before anything runs.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from sim.runs import executors

ROOT = Path(__file__).resolve().parents[1]
INVALID = ROOT / "tests" / "invalid"
SCENARIOS = INVALID / "scenario"
BASE = "tests/invalid/base_scenario.yaml"


def f(stem: str) -> str:
    return f"tests/invalid/scenario/{stem}.yaml"


# file stem: the message, exactly ("…" at the end: the rest depends on the machine)
SCENARIO_CASES = {
    "bad_yaml": "{file}:19: invalid YAML: mapping values are not allowed here",
    "gbk_encoding": "{file}:3: is not UTF-8 text (byte 0xb2 cannot be read); save it as UTF-8 (an editor's "
                    "\"Save with encoding\", or iconv -f GBK -t UTF-8)",
    "empty": "{file}:1: must be a YAML mapping of fields (key: value)",
    "duplicate_key": "{file}:19: invalid YAML: duplicate key firms_at_start",
    "impossible_date": "{file}:5: horizon.start: '2025-02-30' is not a date in the calendar (day is out of range for "
                       "month); write it as YYYY-MM-DD, e.g. 2025-02-28",
    "horizon_not_whole_years": "{file}:5: horizon: the horizon runs over whole budget years: start on 01-01, end on 12-31",
    "misspelt_segments": "{file}:15: segmnets: unknown field 'segmnets'; did you mean 'segments'?",
    "problem_on_line_100": "{file}:100: segmnts_note: unknown field 'segmnts_note'; check its spelling against the "
                           "documented fields",
    "missing_why": "{file}:24: segments.0.take_up.mini.voucher.why: an assumption needs its reasoning in 'why'",
    "unknown_attribute": "{file}:22: segments.0.attributes.compute_partner: unknown firm attribute 'compute_partner'; "
                         "see sim/policy/attributes.py for the vocabulary",
    "bad_money": "{file}:21: segments.0.attributes.compute_rental.median: '100万万' in compute_rental is not an amount "
                 "of money: expected a non-negative number with at most one unit 万 or 亿, e.g. 4000万, 1.5亿, "
                 "2,000万元 or 2000",
    "lognormal_without_sigma": "{file}:21: segments.0.attributes.compute_rental: a lognormal distribution needs 'sigma'",
    "take_up_above_one": "{file}:24: segments.0.take_up.mini.voucher.p: Input should be less than or equal to 1",
    "negative_arrivals": "{file}:19: segments.0.arrivals_per_year: arrival rates must be 0 or more firms a year",
    "unknown_program": "{file}:24: segments.0.take_up.mini.vouchr: unknown program; use policy.program, e.g. mini.voucher",
    "unknown_policy": "{file}:4: policies.0: no such policy file or id; known ids: anhui, baoding, binjiang, ningxia, "
                      "yinchuan",
    "bad_override_path": "{file}:8: overrides.mini.effective.begin: unknown field 'begin'; check its spelling against "
                         "the documented fields (in policy mini)",
    "life_pool_with_yearly_budgets": "{file}:9: overrides.mini.pools.vouchers.budget: a pool over the policy's life "
                                     "(period: life) has one budget, not one per year (in policy mini)",
    "review_before_call_ends": "{file}:13: pools.mini.vouchers.review: review on 04-15 comes before the call of "
                               "mini.voucher ends (05-31); review on or after 05-31, or end that call earlier",
    "huge_population": "{file}:18: segments.0.firms_at_start: a run would hold about 1,000,000,006 firms and "
                       "1,500,000,009 applications, about 1.3 TiB of memory; this machine has …",
    "zero_runs": "{file}:6: monte_carlo.runs: Input should be greater than 0",
    "markup_in_name": "{file}:2: name: '[bold]mini' may hold only letters, digits, _ and - (it names files and folders)",
    # issue 11: uncertain numbers and correlations
    "uncertain_pool_budget": "{file}:13: overrides.mini.pools.vouchers.budget.value: a pool's budget is the decision "
                             "being sized, not an uncertainty: give one amount (`sim size` finds the budget for a risk, "
                             "`sim sweep` compares several)",
    "uncertain_take_up_lognormal": "{file}:24: segments.0.take_up.mini.voucher.p: is a probability (0–1), but this "
                                   "lognormal distribution is unbounded above; use beta, or uniform or triangular within 0–1",
    "uncertain_sd_zero": "{file}:19: segments.0.arrivals_per_year.sd: sd must be above 0; got 0",
    "uncertain_low_above_high": "{file}:21: segments.0.attributes.compute_rental.sigma.low: low (1.2) must be below high (0.8)",
    "uncertain_beta_too_wide": "{file}:24: segments.0.take_up.mini.voucher.p.sd: sd 0.4 is too large for a beta with "
                               "mean 0.9: it must be below 0.3",
    "uncertain_unknown_factor": "{file}:18: segments.0.firms_at_start.factor: unknown factor 'ai_boom'; name it under "
                                "factors: (known: none)",
    "uncertain_not_allowed": "{file}:6: monte_carlo.runs: cannot be uncertain; a distribution may replace take-up p, "
                             "arrivals_per_year, firms_at_start, the numbers of an attribute's distribution and its "
                             "growth, award_share and amount numbers, and policy rates and dates set through overrides",
    "correlation_not_a_matrix": "{file}:25: segments.0.correlation.corpus_purchases ~ model_purchases: corpus_purchases "
                                "~ model_purchases = -0.9 cannot hold together with compute_rental ~ corpus_purchases = "
                                "0.9 and compute_rental ~ model_purchases = 0.9: it must lie between 0.63 and 1.00; the "
                                "matrix is not a correlation matrix",
    # issue 9: 不重复 spans and 补足差额 grades
    "stacking_without_period": "{file}:16: stacking.0.period: is required but missing",
    "top_up_share_not_graded": "{file}:14: programs.mini.voucher.award_share: mini.voucher pays the difference only on "
                               "promotion to a higher grade (补足差额), so its award is given as grades: use choice or "
                               "empirical or constant, e.g. {{dist: choice, values: {{0.4: 2, 0.7: 2, 1.0: 1}}, why: …}}; "
                               "got uniform",
    "policy_instead": "{file}:1: is a policy file, not a scenario: it has id and programs but no segments; give a "
                      "scenario that names this policy, e.g. scenarios/binjiang.yaml (`sim validate {file}` checks a policy)",
    "payment_on_decision_program": "{file}:11: programs.mini.voucher.payment.lag_months: mini.voucher is paid at the "
                                   "decision: its policy states no later payment, so there is no lag, lapse, deadline or "
                                   "instalment to assume (only programs whose policy says they pay on redemption, after a "
                                   "milestone or in instalments take them)",
    "payment_lag_missing": "{file}:28: segments.0.take_up.mini.voucher: segment firms takes up mini.voucher, which its "
                           "policy pays when its vouchers are redeemed (（六）); give "
                           "programs.mini.voucher.payment.lag_months: {{dist: uniform, low: 2, high: 4, why: …}}",
    "lag_without_max": "{file}:15: programs.mini.voucher.payment.lag_months: a lognormal lag has no longest value; give "
                       "max (months), so that the tail of payments ends",
    "instalments_not_one": "{file}:15: programs.mini.voucher.payment.instalments.shares: yearly shares must add up to 1; "
                           "40%, 40% add up to 4/5",
}


def matches(err: str, expected: str) -> bool:
    """``err`` is exactly ``error: expected`` and a newline (a trailing … matches the rest of the line)."""
    if expected.endswith("…"):
        return err.startswith("error: " + expected[:-1]) and err.count("\n") == 1
    return err == f"error: {expected}\n"


def test_the_scenario_corpus_is_complete_and_its_base_is_valid(cli):
    assert {p.stem for p in SCENARIOS.glob("*.yaml")} == set(SCENARIO_CASES)
    assert cli("validate", BASE).code == 0


@pytest.mark.parametrize("stem", sorted(SCENARIO_CASES))
def test_bad_scenario_one_exact_message_nothing_written(cli, tmp_path, stem):
    expected = SCENARIO_CASES[stem].format(file=f(stem))
    out = tmp_path / "out"
    result = cli("run", f(stem), "--out", out, "--workers", "1")
    assert result.code == 2 and matches(result.err, expected), result.err
    assert result.out == "" and not out.exists()
    if stem != "policy_instead":  # a policy file is a valid policy: `sim validate` says so
        check = cli("validate", f(stem))
        assert check.code == 2 and matches(check.err, expected), check.err


def test_rich_never_alters_a_message(cli):
    """':100:' would print as an emoji, '[bold]' would vanish as markup: both are printed as written."""
    assert ":100: segmnts_note" in cli("validate", f("problem_on_line_100")).err
    assert "'[bold]mini'" in cli("validate", f("markup_in_name")).err
    assert r"'^[A-Za-z0-9_\-]+$'" not in cli("validate", f("markup_in_name")).err  # the friendly message, not the regex


# --------------------------------------------------------------------------- options

@pytest.fixture
def read_only(tmp_path):
    """A folder this process cannot write into (chattr +i when running as root)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("chattr +i is not available here to make a folder read-only for root")
        yield folder
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)


RUN = ("run", BASE, "--workers", "1")
# case: (arguments after `sim`, the exact message; {tmp} is the test's folder)
OPTION_CASES = {
    "runs zero": ((*RUN, "--runs", "0", "--out", "{tmp}/o"), "--runs 0: must be 1 or more, e.g. --runs 1000"),
    "runs not a number": ((*RUN, "--runs", "many", "--out", "{tmp}/o"),
                          "--runs many: must be a whole number, e.g. 1000, 1e4 or 10,000"),
    "runs a fraction": ((*RUN, "--runs", "2.5", "--out", "{tmp}/o"),
                        "--runs 2.5: must be a whole number, e.g. 1000, 1e4 or 10,000"),
    "runs 1e20": ((*RUN, "--runs", "1e20", "--out", "{tmp}/o"),
                  "--runs 100000000000000000000: in batches of 5 makes 20,000,000,000,000,000,000 batches, more than "
                  "1,000,000; give a larger --batch-size, e.g. --batch-size 100000000000000"),
    "seed negative": ((*RUN, "--seed", "-1", "--out", "{tmp}/o"), "--seed -1: must be 0 or more, e.g. --seed 42"),
    "batch size zero": ((*RUN, "--batch-size", "0", "--out", "{tmp}/o"),
                        "--batch-size 0: must be 1 or more, e.g. --batch-size 100"),
    "batch too big for memory": ((*RUN, "--runs", "10000000000", "--batch-size", "10000000000", "--out", "{tmp}/o"),
                                 "--batch-size 10000000000: 1 worker(s) holding batches of 10000000000 runs need about …"),
    "runs too many for the disk": ((*RUN, "--runs", "10000000000", "--batch-size", "100000", "--out", "{tmp}/o"),
                                   "--runs 10000000000: would write about …"),
    "workers zero": ((*RUN, "--workers", "0", "--out", "{tmp}/o"), "--workers 0: must be 1 or more, e.g. --workers 2"),
    "basis unknown": (("size", BASE, "--basis", "accrual", "--out", "{tmp}/o"),
                      "--basis accrual: must be commitment (what a pool's budget limits: grants in the year decided; "
                      "the default) or cash (what the treasury pays each year)"),
    "engine unknown": ((*RUN, "--engine", "quick", "--out", "{tmp}/o"),
                       "--engine quick: must be auto (the fast engine when it supports the scenario), simpy or fast"),
    "executor unknown": ((*RUN, "--executor", "cluster", "--out", "{tmp}/o"),
                         "--executor cluster: must be local (processes on this machine) or dask"),
    "address without dask": ((*RUN, "--address", "tcp://10.0.0.5:8786", "--out", "{tmp}/o"),
                             "--address tcp://10.0.0.5:8786: goes with --executor dask"),
    "address not an address": ((*RUN, "--executor", "dask", "--address", "schedulerhost", "--out", "{tmp}/o"),
                               "--address schedulerhost: is not a scheduler address like tcp://10.0.0.5:8786"),
    "scheduler file missing": ((*RUN, "--executor", "dask", "--scheduler-file", "{tmp}/scheduler.json", "--out", "{tmp}/o"),
                               "--scheduler-file {tmp}/scheduler.json: no such file (waited 0.2 s for a scheduler to "
                               "write it); start the scheduler with `dask scheduler --scheduler-file "
                               "{tmp}/scheduler.json`, or give --address tcp://HOST:8786"),
    "resume and force": ((*RUN, "--resume", "--force", "--out", "{tmp}/o"),
                         "--resume: and --force contradict each other: --resume finishes the run in the folder, "
                         "--force replaces it; choose one"),
    "resume nothing": ((*RUN, "--resume", "--out", "{tmp}/o"), "{tmp}/o: no such folder, so nothing to resume; run without --resume"),
    "out empty": ((*RUN, "--out", ""), "--out '': is empty; name a folder, e.g. --out outputs/binjiang (it is created if missing)"),
    "out a file": ((*RUN, "--out", "{tmp}/file.txt"),
                   "--out {tmp}/file.txt: is a file, not a folder; name a folder (it is created if missing)"),
    "out inside a file": ((*RUN, "--out", "{tmp}/file.txt/run"),
                          "--out {tmp}/file.txt/run: is inside {tmp}/file.txt, which is a file, not a folder; name a "
                          "folder (it is created if missing)"),
    "risk above one (report)": (("report", "{tmp}/o", "--risk", "1.5"),
                                "--risk 1.5: must be a probability strictly between 0 and 1, e.g. --risk 0.05 for 5%"),
    "risk zero (size)": (("size", BASE, "--risk", "0", "--out", "{tmp}/o"),
                         "--risk 0.0: must be a probability strictly between 0 and 1, e.g. --risk 0.05 for 5%"),
    "risk negative (sweep)": (("sweep", BASE, "--risk", "-0.1", "--set", "segments.0.firms_at_start=5,10", "--out", "{tmp}/o"),
                              "--risk -0.1: must be a probability strictly between 0 and 1, e.g. --risk 0.05 for 5%"),
    "workers zero (size)": (("size", BASE, "--workers", "0", "--out", "{tmp}/o"), "--workers 0: must be 1 or more, e.g. --workers 2"),
    "runs zero (sweep)": (("sweep", BASE, "--runs", "0", "--set", "segments.0.firms_at_start=5,10", "--out", "{tmp}/o"),
                          "--runs 0: must be 1 or more, e.g. --runs 1000"),
}


@pytest.mark.parametrize("case", sorted(OPTION_CASES))
def test_bad_option_one_exact_message_nothing_written(cli, tmp_path, monkeypatch, case):
    monkeypatch.setattr(executors, "SCHEDULER_FILE_WAIT", 0.2)
    args, expected = OPTION_CASES[case]
    (tmp_path / "file.txt").write_text("not a folder")
    before = sorted(tmp_path.rglob("*"))
    result = cli(*[a.format(tmp=tmp_path) for a in args])
    assert result.code == 2 and matches(result.err, expected.format(tmp=tmp_path)), result.err
    assert "monte_carlo" not in result.err and "Traceback" not in result.err
    assert sorted(tmp_path.rglob("*")) == before


def test_read_only_output_folder(cli, read_only):
    result = cli(*RUN, "--out", read_only / "run")
    assert result.code == 2
    assert result.err.startswith(f"error: --out {read_only / 'run'}: cannot write there: "), result.err
    assert list(read_only.iterdir()) == []


def test_runs_from_the_scenario_are_blamed_on_the_scenario(cli, tmp_path):
    text = (ROOT / BASE).read_text(encoding="utf-8").replace("runs: 10, seed: 1, batch_size: 5",
                                                             "runs: 100000000000, seed: 1, batch_size: 5")
    (tmp_path / "big.yaml").write_text(text.replace("[base_policy.yaml]", f"[{INVALID / 'base_policy.yaml'}]"))
    result = cli("run", tmp_path / "big.yaml", "--out", tmp_path / "o")
    assert result.code == 2 and not (tmp_path / "o").exists()
    assert result.err.startswith(f"error: {tmp_path / 'big.yaml'}:6: monte_carlo.runs: 100000000000: in batches of 5 makes "), result.err


# --------------------------------------------------------------------------- output folders

def _manifest_of(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


@pytest.fixture
def finished(cli, tmp_path) -> Path:
    out = tmp_path / "run"
    assert cli(*RUN, "--out", out).code == 0
    return out


def test_output_folder_cases(cli, tmp_path, finished):
    """A folder that is not a run, not finished, damaged or of another version: one message each, nothing written."""
    cases = []
    empty = tmp_path / "empty"
    empty.mkdir()
    cases.append((("report", empty), f"{empty}: no manifest.json; this is not the output of `sim run` (or the run never started)"))
    cases.append((("report", tmp_path / "nowhere"), f"{tmp_path / 'nowhere'}: no such folder; run `sim run SCENARIO --out "
                                                    f"{tmp_path / 'nowhere'}` first"))
    garbage = tmp_path / "garbage"
    subprocess.run(["cp", "-a", str(finished), str(garbage)], check=True)
    (garbage / "manifest.json").write_text("{ not json")
    cases.append((("report", garbage), f"{garbage}/manifest.json: unreadable manifest (Expecting property name enclosed in "
                                        "double quotes: line 1 column 3 (char 2)); run again with --force"))
    newer = tmp_path / "newer"
    subprocess.run(["cp", "-a", str(finished), str(newer)], check=True)
    (newer / "manifest.json").write_text(json.dumps({**_manifest_of(finished), "schema_version": 99}))
    cases.append((("report", newer), f"{newer}/manifest.json: written by a newer sim (schema version 99, this sim reads 2); "
                                      "upgrade sim to read it"))
    incomplete = tmp_path / "incomplete"
    subprocess.run(["cp", "-a", str(finished), str(incomplete)], check=True)
    (incomplete / "manifest.json").write_text(json.dumps({**_manifest_of(finished), "batches_complete": [0], "complete": False}))
    cases.append((("report", incomplete), f"{incomplete}: the run is incomplete (1 of 2 batches); finish it with "
                                           f"`sim run {BASE} --out {incomplete} --resume`"))
    cases.append(((*RUN, "--out", finished), f"{finished}: holds an earlier run (complete); add --resume to finish it or "
                                              "--force to start again"))
    cases.append(((*RUN, "--out", finished, "--resume", "--seed", "7"),
                  f"{finished}: cannot resume: the earlier run differs in scenario, seed; use --force to start again"))
    tables_only = tmp_path / "tables_only"
    subprocess.run(["cp", "-a", str(finished), str(tables_only)], check=True)
    (tables_only / "manifest.json").unlink()
    cases.append(((*RUN, "--out", tables_only), f"{tables_only}: holds tables but no manifest; add --force to start again"))
    for args, expected in cases:
        before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
        result = cli(*args)
        assert result.code == 2 and matches(result.err, expected), (args, result.err)
        assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == before, args


def test_corpus_categories_are_all_covered():
    """The issue's categories, each with at least one case in the corpus."""
    categories = {
        "broken YAML and encodings": {"bad_yaml", "gbk_encoding", "empty", "duplicate_key"},
        "impossible values and dates": {"impossible_date", "horizon_not_whole_years", "negative_arrivals",
                                        "take_up_above_one", "bad_money", "zero_runs", "review_before_call_ends"},
        "misspelt or unknown names": {"misspelt_segments", "unknown_attribute", "unknown_program", "unknown_policy",
                                      "bad_override_path", "problem_on_line_100"},
        "one message per root cause": {"policy_instead", "misspelt_segments", "life_pool_with_yearly_budgets"},
        "sizes that cannot fit": {"huge_population"},
        "markup and emoji": {"markup_in_name", "problem_on_line_100"},
    }
    for name, stems in categories.items():
        assert stems <= set(SCENARIO_CASES), name
    assert {"runs 1e20", "batch too big for memory", "runs too many for the disk", "scheduler file missing",
            "out empty", "out a file", "workers zero", "seed negative", "batch size zero"} <= set(OPTION_CASES)
    assert re.search(r"\d", SCENARIO_CASES["huge_population"])
