"""Money: amounts as the documents write them, held as integer yuan.

The policies say `1亿`, `4000万`, `0.5万`, `2,000万元`; budgets and grants must add up to
the yuan, so every amount becomes an ``int`` of yuan at the boundary and stays one.
Display is in 万元, the unit a Chinese finance department budgets in.

Examples
--------
>>> parse_money("1.5亿")
150000000
>>> format_wan(150000000)
'15000万'
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from sim.errors import MoneyError

UNITS = {"亿": 100_000_000, "万": 10_000}
MAX_YUAN = 10**14  # 100万亿: far above any budget; amount × rate numerator stays inside int64
_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_money(value: object, where: str = "") -> int:
    """Parse an amount (``1亿``, ``4000万``, ``2,000万元``, ``2000``) into integer yuan.

    Raises :class:`MoneyError` naming the value and ``where`` it came from when the value
    is negative, not a number, has more than one unit (``万万``), or is not a whole yuan.
    """
    at = f" in {where}" if where else ""
    if isinstance(value, bool) or value is None:
        raise MoneyError(f"{value!r}{at} is not an amount of money; write e.g. 4000万, 1.5亿 or 2000")
    if isinstance(value, int):
        return _checked(value, value, at)
    if isinstance(value, float):
        if not value.is_integer():
            raise MoneyError(f"{value!r}{at} is not a whole number of yuan; write it in 万, e.g. 0.5万")
        return _checked(int(value), value, at)
    if not isinstance(value, str):
        raise MoneyError(f"{value!r}{at} is not an amount of money; write e.g. 4000万, 1.5亿 or 2000")
    text = value.strip().replace(" ", "")
    if text.endswith("元"):
        text = text[:-1]
    scale = 1
    if text and text[-1] in UNITS:
        scale = UNITS[text[-1]]
        text = text[:-1]
    if _GROUPED.match(text):
        text = text.replace(",", "")
    if not _NUMBER.match(text):
        raise MoneyError(
            f"{value!r}{at} is not an amount of money: expected a non-negative number with at "
            "most one unit 万 or 亿, e.g. 4000万, 1.5亿, 2,000万元 or 2000"
        )
    try:
        yuan = Decimal(text) * scale
    except InvalidOperation:  # pragma: no cover - the regex already rules this out
        raise MoneyError(f"{value!r}{at} is not an amount of money") from None
    if yuan != yuan.to_integral_value():
        raise MoneyError(f"{value!r}{at} is not a whole number of yuan")
    return _checked(int(yuan), value, at)


def _checked(yuan: int, value: object, at: str) -> int:
    if yuan < 0:
        raise MoneyError(f"{value!r}{at} is negative; amounts of money must be 0 or more")
    if yuan > MAX_YUAN:
        raise MoneyError(f"{value!r}{at} is larger than the largest amount sim handles (100万亿)")
    return yuan


def format_wan(yuan: int) -> str:
    """Write integer yuan exactly in 万 (``12345`` → ``1.2345万``); parse_money reads it back."""
    if yuan < 0:
        raise MoneyError(f"amount(={yuan}) must be >= 0")
    whole, rest = divmod(yuan, 10_000)
    if rest == 0:
        return f"{whole}万"
    return f"{whole}.{rest:04d}".rstrip("0") + "万"


def wan(yuan: int | float | None, digits: int = 2) -> str:
    """Display an amount in 万元 with thousands separators, e.g. ``4,000.00``; blank for None."""
    if yuan is None:
        return "—"
    return f"{yuan / 10_000:,.{digits}f}"


_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)\s*([%‰])$")
_RATIO = re.compile(r"^(\d+)\s*/\s*(\d+)$")


def parse_rate(value: object, where: str = "") -> Fraction:
    """Parse a rate (``30%``, ``1‰``, ``1/3``, ``0.12``) into an exact fraction.

    Rates stay exact so that 30% of 1000万 is 300万 to the yuan, not 2999999.9999.
    """
    at = f" in {where}" if where else ""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{value!r}{at} is not a rate; write e.g. 30%, 1‰, 1/3 or 0.12")
    if isinstance(value, (int, float)):
        rate = Fraction(str(value))
    elif isinstance(value, Fraction):
        rate = value
    elif isinstance(value, str):
        text = value.strip()
        if m := _PERCENT.match(text):
            rate = Fraction(m.group(1)) / (100 if m.group(2) == "%" else 1000)
        elif m := _RATIO.match(text):
            if int(m.group(2)) == 0:
                raise ValueError(f"{value!r}{at} divides by zero")
            rate = Fraction(int(m.group(1)), int(m.group(2)))
        elif _NUMBER.match(text):
            rate = Fraction(text)
        else:
            raise ValueError(f"{value!r}{at} is not a rate; write e.g. 30%, 1‰, 1/3 or 0.12")
    else:
        raise ValueError(f"{value!r}{at} is not a rate; write e.g. 30%, 1‰, 1/3 or 0.12")
    if rate < 0:
        raise ValueError(f"{value!r}{at} is negative; rates must be 0 or more")
    if rate.denominator > 10_000:
        raise ValueError(f"{value!r}{at} is too fine a rate (denominator above 10000)")
    return rate


def format_rate(rate: Fraction) -> str:
    """Show a rate as people write it: ``30%``, ``1‰``, ``1/3``."""
    pct = rate * 100
    if pct.denominator == 1:
        return f"{pct.numerator}%"
    if (pct * 10).denominator == 1:
        return f"{float(pct):g}%"
    permille = rate * 1000
    if permille.denominator == 1:
        return f"{permille.numerator}‰"
    return f"{rate.numerator}/{rate.denominator}"
