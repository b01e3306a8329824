"""Options shared by several commands, read the way people type numbers.

``--runs 1e4``, ``--runs 10_000`` and ``--runs 10,000`` all mean ten thousand runs; a
value that is not a whole number is refused naming the option, before anything runs.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sim.errors import OptionError


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
