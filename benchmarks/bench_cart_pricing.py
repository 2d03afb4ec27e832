"""Pricing a member's cart: 50 lines, a 5 % member discount and two coupons, against plain arithmetic.

What a scan or a coupon tap asks of the pure rules (``kiosk.domain``), no database:

- ``price_cart`` with both coupons (the sale's price);
- the pay screen's work per cart change: ``best_coupons`` (the combination that saves most)
  and ``coupon_choices`` (each coupon used, kept or not usable here);
- baseline: hand-written integer arithmetic giving the same total (each line's 5 %, the
  满减 off the rest, the item coupon's off) in one loop.

Sides alternate in 10 rounds of 100 samples each (1,000 samples a side).
``python benchmarks/bench_cart_pricing.py``
"""

import datetime as dt
import statistics
from zoneinfo import ZoneInfo

from harness import alternate, app_logging, emit, figure, percentile, spread, timed_pairs

from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import Coupon, CouponKind, best_coupons, price_cart
from kiosk.domain.member_choices import coupon_choices

NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
ROUNDS, PER_ROUND = 10, 100
PRODUCTS = [Product(f"sku{i}", f"69{i:011d}", f"商品{i}", f"Item {i}", 150 + 37 * i,
                    "food" if i % 3 else "drink") for i in range(50)]  # fmt: skip
CART = Cart()
for n, product in enumerate(PRODUCTS):
    CART = CART.add(product, 1 + n % 3)
THRESHOLD = Coupon(id="c-threshold", kind=CouponKind.THRESHOLD, name_zh="满100减20", min_spend_fen=10000,
                   off_fen=2000, valid_from=NOW - dt.timedelta(days=1),
                   valid_until=NOW + dt.timedelta(days=1), member_id="m-1")  # fmt: skip
DRINKS = Coupon(id="c-drinks", kind=CouponKind.ITEM_DISCOUNT, name_zh="饮料9折", percent_off=10,
                categories=frozenset({"drink"}), valid_from=NOW - dt.timedelta(days=1),
                valid_until=NOW + dt.timedelta(days=1), member_id="m-1")  # fmt: skip
COUPONS = (THRESHOLD, DRINKS)


def by_hand() -> int:
    """The same total as ``price_cart(CART, COUPONS, ..., 5)`` in plain integers."""
    nets = []
    for line in CART.lines:
        net = line.total_fen - line.total_fen * 5 // 100
        if line.product.category == "drink":
            net -= net * 10 // 100
        nets.append(net)
    total = sum(nets)
    return total - (2000 if total >= 10000 else 0)


def pay_screen() -> object:
    """What the pay screen computes when the cart changes."""
    priced = best_coupons(CART, COUPONS, NOW, "m-1", 5)
    return coupon_choices(list(COUPONS), priced, frozenset(), CART, NOW, "m-1", 5)


def main() -> None:
    """Alternate the sides in rounds, print one JSON object."""
    app_logging()
    assert price_cart(CART, COUPONS, NOW, "m-1", 5).total_fen == by_hand()
    sides = {
        "price_cart": lambda: timed_pairs(lambda _: price_cart(CART, COUPONS, NOW, "m-1", 5), PER_ROUND),
        "pay_screen": lambda: timed_pairs(lambda _: pay_screen(), PER_ROUND),
        "by_hand": lambda: timed_pairs(lambda _: by_hand(), PER_ROUND),
    }
    rounds = alternate(sides, ROUNDS)
    every = {name: [ms for r in per for ms, _ in r] for name, per in rounds.items()}
    cpu = {name: [ms for r in per for _, ms in r] for name, per in rounds.items()}
    base = percentile(every["by_hand"], 99)
    figures = []
    for name, title in (
        ("price_cart", "price_cart p99, 50 lines + member discount + 2 coupons"),
        ("pay_screen", "pay screen per cart change (best_coupons + coupon_choices) p99, same cart"),
    ):
        p99 = percentile(every[name], 99)
        figures.append(figure(
            title, round(p99, 3), "ms", baseline="hand-written integer arithmetic, same total, p99",
            baseline_value=round(base, 4), ratio=p99 / base,
            rounds=spread([percentile([ms for ms, _ in r], 99) for r in rounds[name]]),
            samples=len(every[name]), goal="p99 < 5 ms", met=p99 < 5.0,
            note=f"p50 {statistics.median(every[name]):.3f} ms;"
            f" CPU time p99 {percentile(cpu[name], 99):.3f} ms",
        ))  # fmt: skip
    emit("cart_pricing", figures, lines=len(CART.lines), coupons=len(COUPONS))


if __name__ == "__main__":
    main()
