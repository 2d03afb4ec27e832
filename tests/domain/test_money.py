import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.money import format_fen, multiply, parse_yuan


@pytest.mark.parametrize(
    ("text", "fen"),
    [("0", 0), ("12", 1200), ("12.5", 1250), ("12.50", 1250), ("0.01", 1), ("-3.20", -320), (" 7.05 ", 705)],
)
def test_parse_yuan_reads_up_to_two_decimals(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "1.234", "1,000", "¥5", "abc", "1.", ".5", "1 000"])
def test_parse_yuan_rejects_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="not a yuan amount"):
        parse_yuan(text)


@pytest.mark.parametrize(
    ("fen", "text"), [(0, "¥0.00"), (1, "¥0.01"), (1050, "¥10.50"), (123456, "¥1234.56"), (-5, "-¥0.05")]
)
def test_format_fen_shows_yuan_with_two_decimals(fen: int, text: str) -> None:
    assert format_fen(fen) == text


def test_format_fen_takes_another_symbol() -> None:
    assert format_fen(990, symbol="CNY ") == "CNY 9.90"


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_format_then_parse_round_trips(fen: int) -> None:
    assert parse_yuan(format_fen(fen, symbol="")) == fen


def test_multiply_is_exact_integer_arithmetic() -> None:
    assert multiply(333, 3) == 999
    assert isinstance(multiply(333, 3), int)
