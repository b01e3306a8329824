"""Options shared by several commands, read the way people type numbers.

``--runs 1e4``, ``--runs 10_000`` and ``--runs 10,000`` all mean ten thousand runs; a
value that is not a whole number is refused naming the option, before anything runs.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sim.errors import InputError, OptionError, SimError
from sim.planning.sweep import FORBIDDEN, parse_value
from sim.scenario.schema import Scenario


def whole(option: str, text: str | None) -> int | None:
    """``text`` as a whole number (None stays None); :class:`OptionError` naming ``option`` otherwise."""
    if text is None:
        return None
    cleaned = text.strip().replace("_", "").replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value != value.to_integral_value():
        raise OptionError(option, text, "must be a whole number, e.g. 1000, 1e4 or 10,000")
    return int(value)


def probability(option: str, value: float) -> float:
    """A target risk strictly between 0 and 1, or :class:`OptionError` naming ``option``."""
    if not 0 < value < 1:
        raise OptionError(option, value, "must be a probability strictly between 0 and 1, e.g. --risk 0.05 for 5%")
    return value


LANG_HELP = ("zh or en: the language of the report files (report.html, report.xlsx, sweep.html; default zh, for the "
             "budget office that reads and forwards them) and of the tables printed here (default en).")


def languages(value: str | None) -> tuple[str, str]:
    """``--lang``: the files' language and the terminal's; each has its own default when the option is left out."""
    if value is None:
        return "zh", "en"
    if value not in ("zh", "en"):
        raise OptionError("--lang", value, "must be zh (Chinese) or en (English)")
    return value, value


SET_HELP = ("PATH=VALUE: set a scenario field for this run, read as YAML (0.5 a number, 5000万 an amount, "
            "{dist: beta, mean: 0.6, sd: 0.1} a distribution), e.g. segments.ai_smes.take_up.binjiang.compute_voucher.p=0.5; "
            "repeat for several. Paths as `sim sweep --set` takes them.")


def with_settings(scenario: Scenario, texts: list[str]) -> Scenario:
    """The scenario with each ``--set PATH=VALUE`` applied, or :class:`OptionError` naming the one at fault."""
    values: dict[str, Any] = {}
    for text in texts:
        path, sep, raw = text.partition("=")
        path = path.strip()
        if not sep or not path or not raw.strip() or " " in path:
            raise OptionError("--set", text, "expected PATH=VALUE, e.g. --set segments.ai_smes.firms_at_start=200")
        if any(path.startswith(p) for p in FORBIDDEN):
            raise OptionError("--set", text, "the Monte Carlo settings have their options: --runs, --seed, --batch-size")
        if path in values:
            raise OptionError("--set", text, f"{path} is set twice")
        try:
            values[path] = parse_value(raw.strip(), path)
            scenario.with_overrides({path: values[path]})  # each alone first: the error names its --set
        except InputError as exc:
            raise OptionError("--set", text, "; ".join(f"{p.field}: {p.message}" if p.field else p.message
                                                       for p in exc.problems)) from None
        except SimError as exc:
            raise OptionError("--set", text, str(exc).split(": ", 1)[-1]) from None
    return scenario.with_overrides(values) if values else scenario
