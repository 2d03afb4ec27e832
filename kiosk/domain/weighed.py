"""Price- and weight-embedded EAN-13 labels printed by shop scales (prefix 2x).

A scale label looks like ``2F IIIII VVVVV C``: a prefix the shop chose (20-29),
the item's code (PLU) on the scale, the embedded value, and the EAN check digit.
Shops configure how many digits each part has and whether the value is a price
in fen or a weight in grams; :class:`ScaleLabelLayout` holds that choice and
:func:`decode_scale_label` reads a label with it. Pure: no I/O, no clock.
"""

from dataclasses import dataclass
from typing import Literal

from kiosk.domain.barcode import is_valid_ean13
from kiosk.domain.errors import DomainError
from kiosk.domain.money import Fen

ValueKind = Literal["price", "weight"]


class ScaleLabelError(DomainError):
    """A code that claims to be a scale label but cannot be read as one."""


@dataclass(frozen=True)
class ScaleLabelLayout:
    """How this shop's scales lay out a label.

    ``prefixes`` are the two-digit prefixes that mark a scale label. After the
    prefix come ``item_digits`` digits of item code, then ``value_digits`` digits
    of value, then the check digit; ``2 + item_digits + value_digits`` must be 12.
    """

    prefixes: tuple[str, ...] = ("20", "21", "22", "23", "24", "25", "26", "27", "28", "29")
    item_digits: int = 5
    value_digits: int = 5
    value_kind: ValueKind = "price"

    def __post_init__(self) -> None:
        if 2 + self.item_digits + self.value_digits != 12:
            raise ScaleLabelError(
                f"a scale label layout needs 2 + item + value = 12 digits, "
                f"got 2 + {self.item_digits} + {self.value_digits}"
            )
        for prefix in self.prefixes:
            if len(prefix) != 2 or not prefix.isdigit() or prefix[0] != "2":
                raise ScaleLabelError(f"scale label prefixes are 20..29, got {prefix!r}")


@dataclass(frozen=True)
class ScaleLabel:
    """What a scale label says: the item code and either its price or its weight."""

    code: str
    item_code: str
    price_fen: Fen | None = None
    weight_g: int | None = None


def is_scale_label(code: str, layout: ScaleLabelLayout) -> bool:
    """True when ``code`` is 13 digits starting with one of the layout's prefixes."""
    return len(code) == 13 and code.isdigit() and code[:2] in layout.prefixes


def decode_scale_label(code: str, layout: ScaleLabelLayout) -> ScaleLabel:
    """Read a scale label; raise :class:`ScaleLabelError` when it is not a valid one."""
    if not is_scale_label(code, layout):
        raise ScaleLabelError(f"{code!r} is not a scale label for prefixes {layout.prefixes}")
    if not is_valid_ean13(code):
        raise ScaleLabelError(f"{code!r} has a wrong check digit")
    item_end = 2 + layout.item_digits
    item_code = code[2:item_end]
    value = int(code[item_end:12])
    if layout.value_kind == "price":
        return ScaleLabel(code=code, item_code=item_code, price_fen=Fen(value))
    return ScaleLabel(code=code, item_code=item_code, weight_g=value)


def price_for_weight(weight_g: int, price_per_kg_fen: int) -> Fen:
    """The price of ``weight_g`` grams at ``price_per_kg_fen``, rounded half up to the fen."""
    if weight_g < 0 or price_per_kg_fen < 0:
        raise ScaleLabelError("weight and price per kg cannot be negative")
    return Fen((weight_g * price_per_kg_fen + 500) // 1000)


def format_weight(weight_g: int) -> str:
    """Grams as kilograms with three decimals: ``532`` -> ``0.532kg``."""
    kg, grams = divmod(weight_g, 1000)
    return f"{kg}.{grams:03d}kg"
