import pytest

from kiosk.domain.barcode import ean13_check_digit, is_valid_ean13, is_valid_retail_code, looks_like_ean


def test_check_digit_of_known_codes() -> None:
    assert ean13_check_digit("690123456789") == "2"
    assert ean13_check_digit("400638133393") == "1"


def test_check_digit_needs_twelve_digits() -> None:
    with pytest.raises(ValueError):
        ean13_check_digit("12345")


@pytest.mark.parametrize(
    ("code", "valid"),
    [("6901234567892", True), ("6901234567893", False), ("690123456789", False), ("69012345678a2", False)],
)
def test_is_valid_ean13(code: str, valid: bool) -> None:
    assert is_valid_ean13(code) is valid


@pytest.mark.parametrize(
    ("code", "retail", "valid"),
    [
        ("96385074", True, True),  # EAN-8
        ("96385075", True, False),
        ("036000291452", True, True),  # UPC-A
        ("4006381333931", True, True),
        ("HTTPS://X", False, False),
        ("12345", False, False),
    ],
)
def test_retail_codes(code: str, retail: bool, valid: bool) -> None:
    assert looks_like_ean(code) is retail
    assert is_valid_retail_code(code) is valid
