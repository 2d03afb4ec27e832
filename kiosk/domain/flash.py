"""Flash sales (秒杀) at a terminal: the flash price for at most this terminal's share.

Pure rules (the clock is an argument). The hub splits a flash sale's cap into per-terminal
shares that add up to the cap; a terminal sells at the flash price only while what it sold
itself plus what is in the cart stays within its own share, so the cap holds with every
terminal offline. Once its share is gone the product sells at its normal price.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from kiosk.domain.cart import Cart, Product
from kiosk.translations import N_


@dataclass(frozen=True)
class FlashOffer:
    """One flash sale as this terminal runs it: ``share`` is this terminal's units."""

    id: str
    sku: str
    price_fen: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    share: int

    def running(self, now: dt.datetime) -> bool:
        """Whether ``now`` is within the sale's window (start included, end excluded)."""
        return self.starts_at <= now < self.ends_at


def offers_for(campaigns: Iterable[dict[str, Any]], device: str) -> list[FlashOffer]:
    """The flash sales of a config release's ``campaigns`` that give ``device`` a share."""
    offers = []
    for item in campaigns:
        share = int(item.get("allocations", {}).get(device, 0)) if item.get("kind") == "flash_sale" else 0
        if share > 0:
            offers.append(
                FlashOffer(
                    str(item["id"]), str(item["sku"]), int(item["price_fen"]),
                    dt.datetime.fromisoformat(item["starts_at"]), dt.datetime.fromisoformat(item["ends_at"]),
                    share,
                )
            )  # fmt: skip
    return offers


def running_offer(offers: Iterable[FlashOffer], sku: str, now: dt.datetime) -> FlashOffer | None:
    """The flash sale running now for ``sku``, if any."""
    return next((o for o in offers if o.sku == sku and o.running(now)), None)


@dataclass(frozen=True)
class FlashDecision:
    """What a scan (or a +) of a product may add: the product as priced, or a refusal.

    ``reason`` is a string-table key: ``flash_price`` (added at the flash price),
    ``flash_gone`` (share used up: added at the normal price), ``flash_share_used``
    (refused: the flash-priced line may not grow past the share). ``left`` is the
    flash units this terminal still has beyond the cart.
    """

    product: Product
    allowed: bool
    reason: str = ""
    left: int = 0


def decide(
    product: Product, cart: Cart, offer: FlashOffer | None, sold_here: int, quantity: int = 1
) -> FlashDecision:
    """Price ``quantity`` more of ``product`` on ``cart``, given ``sold_here`` flash units already sold."""
    if offer is None:
        return FlashDecision(product, True)
    line = next((li for li in cart.lines if li.product.sku == product.sku), None)
    in_cart = line.quantity if line is not None and line.product.price_fen == offer.price_fen else 0
    room = offer.share - sold_here - in_cart
    if line is not None and not in_cart:  # already on the cart at the normal price
        return FlashDecision(line.product, True)
    if room >= quantity:
        flash = line.product if line is not None else replace(product, price_fen=offer.price_fen)
        return FlashDecision(flash, True, N_("flash_price"), room - quantity)
    if in_cart:
        return FlashDecision(line.product, False, N_("flash_share_used"), max(0, room))  # type: ignore[union-attr]
    return FlashDecision(product, True, N_("flash_gone"), 0)
