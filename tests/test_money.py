"""Money: one parser for the amounts in the documents, exact to the yuan."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.errors import MoneyError
from sim.policy.money import (
    MAX_YUAN,
    format_rate,
    format_wan,
    parse_money,
    parse_rate,
    wan,
)

CASES = [
    ("1亿", 100_000_000),
    ("4000万", 40_000_000),
    ("50万", 500_000),
    ("0.5万", 5_000),
    ("1.5亿", 150_000_000),
    ("2000", 2_000),
    ("2,000万元", 20_000_000),  # thousands separator and 元
    ("2000万元", 20_000_000),
    (" 300万 ", 3_000_000),  # surrounding spaces
    (2000, 2_000),  # YAML integer
    (1e8, 100_000_000),  # YAML float that is a whole number
    ("0", 0),
]


@pytest.mark.parametrize("text,yuan", CASES)
def test_parses_amounts_as_written(text, yuan):
    assert parse_money(text) == yuan


BAD = ["-5万", "万万", "1万万", "abc", "", "1.23456万", "1,00万", "0.5", True, None, -1, 1.5, "1亿万"]


@pytest.mark.parametrize("text", BAD)
def test_rejects_what_is_not_an_amount(text):
    with pytest.raises(MoneyError) as err:
        parse_money(text, "pools.x.budget")
    assert "pools.x.budget" in str(err.value)
    assert repr(text) in str(err.value)


@given(st.integers(min_value=0, max_value=MAX_YUAN))
def test_format_then_parse_is_identity(yuan):
    assert parse_money(format_wan(yuan)) == yuan


@given(st.integers(min_value=0, max_value=MAX_YUAN))
def test_format_is_in_wan(yuan):
    text = format_wan(yuan)
    assert text.endswith("万")
    assert float(text[:-1]) == pytest.approx(yuan / 10_000)


def test_display_in_wan():
    assert wan(40_000_000) == "4,000.00"
    assert wan(None) == "—"


@pytest.mark.parametrize("text,num,den", [("30%", 3, 10), ("1‰", 1, 1000), ("1/3", 1, 3), ("0.12", 3, 25), ("0.5%", 1, 200), (1, 1, 1)])
def test_rates_are_exact(text, num, den):
    rate = parse_rate(text)
    assert (rate.numerator, rate.denominator) == (num, den)


@pytest.mark.parametrize("text", ["30", "-1%", "abc", "1/0", None])
def test_bad_rates(text):
    if text == "30":  # a plain number is a rate of 30 (3000%): allowed, but shown as such
        assert format_rate(parse_rate(text)) == "3000%"
        return
    with pytest.raises(ValueError):
        parse_rate(text)


@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_rate_display_round_trips(num, den):
    rate = parse_rate(f"{num}/{den}")
    assert parse_rate(format_rate(rate)) == rate
