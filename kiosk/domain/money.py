"""Money is an integer count of fen (分). No floats anywhere money is computed."""

import re
from typing import NewType

Fen = NewType("Fen", int)

_YUAN = re.compile(r"^(-)?(\d+)(?:\.(\d{1,2}))?$")


def parse_yuan(text: str) -> Fen:
    """Parse a yuan amount written like ``12``, ``12.5`` or ``12.50`` into fen.

    Raises ValueError for anything else (three decimals, commas, spaces).
    """
    match = _YUAN.match(text.strip())
    if not match:
        raise ValueError(f"not a yuan amount: {text!r}")
    sign, whole, frac = match.groups()
    fen = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    return Fen(-fen if sign else fen)


def format_fen(amount: int, symbol: str = "¥") -> str:
    """Format fen as yuan with two decimals: ``1234`` -> ``¥12.34``."""
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 100)
    return f"{sign}{symbol}{whole}.{frac:02d}"


def short_yuan(amount: int) -> str:
    """Yuan without ``.00`` for whole amounts, as shops write bonus tiers: ``10000`` -> ``¥100``."""
    return f"¥{amount // 100}" if amount % 100 == 0 and amount >= 0 else format_fen(amount)


def multiply(unit_fen: int, quantity: int) -> Fen:
    """The price of ``quantity`` units; exact because both are integers."""
    return Fen(unit_fen * quantity)
