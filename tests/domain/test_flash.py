"""Flash sales at a terminal: the flash price within this terminal's share, then the normal price."""

import datetime as dt

from kiosk.domain.cart import Cart, Product
from kiosk.domain.flash import FlashOffer, decide, offers_for, running_offer

UTC = dt.UTC
START = dt.datetime(2026, 9, 25, 2, 0, tzinfo=UTC)
MOONCAKE = Product("mooncake", "6900000000035", "月饼", "Mooncake", 3000, "food")
OFFER = FlashOffer("mid-autumn", "mooncake", 1000, START, START + dt.timedelta(hours=2), 3)
CAMPAIGN = {
    "kind": "flash_sale", "id": "mid-autumn", "sku": "mooncake", "price_fen": 1000, "cap": 5,
    "starts_at": "2026-09-25T02:00:00+00:00", "ends_at": "2026-09-25T04:00:00+00:00",
    "allocations": {"K01": 3, "K02": 2},
}  # fmt: skip


def test_each_terminal_reads_its_own_share_and_the_window_bounds_it() -> None:
    assert offers_for([CAMPAIGN, {"kind": "other"}], "K01") == [OFFER]
    assert offers_for([CAMPAIGN], "K09") == []
    at = dt.datetime(2026, 9, 25, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # 02:00 UTC
    assert running_offer([OFFER], "mooncake", at) == OFFER
    assert running_offer([OFFER], "mooncake", START + dt.timedelta(hours=2)) is None
    assert running_offer([OFFER], "rice", at) is None


def test_the_flash_price_lasts_for_the_share_then_the_normal_price_applies() -> None:
    first = decide(MOONCAKE, Cart(), OFFER, sold_here=0)
    assert (first.product.price_fen, first.allowed, first.reason, first.left) == (
        1000,
        True,
        "flash_price",
        2,
    )
    cart = Cart().add(first.product, 2)
    third = decide(MOONCAKE, cart, OFFER, sold_here=0)
    assert (third.product.price_fen, third.reason, third.left) == (1000, "flash_price", 0)
    fourth = decide(MOONCAKE, cart.add(third.product), OFFER, sold_here=0)
    assert (fourth.allowed, fourth.reason, fourth.left) == (False, "flash_share_used", 0)
    gone = decide(MOONCAKE, Cart(), OFFER, sold_here=3)
    assert (gone.product.price_fen, gone.allowed, gone.reason) == (3000, True, "flash_gone")
    normal_line = Cart().add(MOONCAKE)
    assert decide(MOONCAKE, normal_line, OFFER, sold_here=3).product.price_fen == 3000
    assert decide(MOONCAKE, Cart(), None, 0) == decide(MOONCAKE, Cart(), None, 5)
