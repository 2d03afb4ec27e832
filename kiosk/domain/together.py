"""Which one item the cart suggests ("often bought together", 常一起买), from the hub's rules.

Pure: the index is built once per table (:func:`kiosk.store.together.load_index`) and each look
costs a few dictionary reads per cart line, so a scan never waits for it.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kiosk.domain.cart import Cart, Product

SOURCE = "together"  # the sale line's ``source`` when the shopper took the suggestion


@dataclass(frozen=True)
class Pairing:
    """A product that often comes with another, priced as this terminal sells it, and how strongly."""

    product: Product
    lift_milli: int
    confidence_bp: int


def _strongest_first(pairings: Iterable[Pairing]) -> tuple[Pairing, ...]:
    return tuple(sorted(pairings, key=lambda p: (-p.lift_milli, -p.confidence_bp, p.product.sku)))


@dataclass(frozen=True)
class TogetherIndex:
    """Each product's pairings, strongest (highest lift) first."""

    by_sku: Mapping[str, tuple[Pairing, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_sku", {sku: _strongest_first(p) for sku, p in self.by_sku.items()})

    def __len__(self) -> int:
        return sum(len(p) for p in self.by_sku.values())


def suggest(index: TogetherIndex, cart: Cart, skip: frozenset[str] = frozenset()) -> Product | None:
    """The consequent with the best lift over the cart's products that is not in the cart and not
    in ``skip`` (already offered this sale); ties go to the higher confidence, then the lower sku."""
    in_cart = {line.product.sku for line in cart.lines}
    best: Pairing | None = None
    for sku in in_cart:
        for pairing in index.by_sku.get(sku, ()):
            taken = pairing.product.sku in in_cart or pairing.product.sku in skip
            if taken:
                continue  # the next of this product's pairings, weaker, may still be free
            if best is None or _ranks_above(pairing, best):
                best = pairing
            break  # the rest of this product's pairings are weaker
    return best.product if best else None


def _ranks_above(a: Pairing, b: Pairing) -> bool:
    return (-a.lift_milli, -a.confidence_bp, a.product.sku) < (-b.lift_milli, -b.confidence_bp, b.product.sku)
