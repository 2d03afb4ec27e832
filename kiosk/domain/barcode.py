"""EAN-13 checksums, used to tell a garbled scan from an unknown product."""

from stdnum import ean


def ean13_check_digit(first12: str) -> str:
    """The check digit that completes a 12-digit EAN-13 body."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"an EAN-13 body is 12 digits, got {first12!r}")
    return ean.calc_check_digit(first12)


def is_valid_ean13(code: str) -> bool:
    """True when ``code`` is 13 digits with a correct check digit."""
    return len(code) == 13 and code.isdigit() and ean.is_valid(code)


def looks_like_ean(code: str) -> bool:
    """True for codes a scanner reads from retail EAN/UPC symbols (8, 12 or 13 digits)."""
    return code.isdigit() and len(code) in (8, 12, 13)


def is_valid_retail_code(code: str) -> bool:
    """True when an EAN-8, UPC-A or EAN-13 code has a correct check digit."""
    return looks_like_ean(code) and ean.is_valid(code)
