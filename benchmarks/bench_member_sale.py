"""Member sale commit cost on a real SQLite file, against a plain sale as the baseline.

Prints one JSON object. A member sale is priced with a 满减 coupon and a 5%
member discount, pays part with points and stored value, and commits the sale,
its lines, payments, four ledger entries (chained), the coupon use and the
``sale.completed`` event in one transaction. Also reports pricing + earn in
memory (the pure rules alone) and hub ingest of the resulting events.
"""

import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import (
    Coupon,
    CouponKind,
    EarnContext,
    LoyaltyRules,
    MemberPayment,
    Split,
    price_cart,
    sale_ledger,
)
from kiosk.domain.loyalty.rules import StoredValueRule
from kiosk.store import members, open_database, outbox
from kiosk.store.pii import PiiKey
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.sync.schema import batch

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=TZ)
T = Terminal(store="S01", device="K01", boot="bench")
RICE = Product("rice", "1", "大米", "Rice", 5000, "food")
COLA = Product("cola", "2", "可乐", "Cola", 350, "drink")
CART = Cart().add(RICE, 2).add(COLA, 4)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 300


def coupon(i: int) -> Coupon:
    return Coupon(
        id=f"c-{i}",
        kind=CouponKind.THRESHOLD,
        name_zh="满100减20",
        min_spend_fen=10000,
        off_fen=2000,
        valid_from=NOW - dt.timedelta(days=1),
        valid_until=NOW + dt.timedelta(days=1),
    )


def member_sale(i: int) -> tuple[members.MemberSale, list[PaymentIntent]]:
    priced = price_cart(CART, (coupon(i),), NOW, "m-1", 5)
    paid = MemberPayment(points=500, points_fen=500, stored=Split(1000, 0))
    _, entries = sale_ledger(
        "m-1", f"s-{i}", priced, paid, LoyaltyRules(), EarnContext(day=NOW.date()), members.new_stamp(T, NOW)
    )
    pays = [
        PaymentIntent("points", 500),
        PaymentIntent("stored_value", 1000),
        PaymentIntent("cash", priced.total_fen - 1500),
    ]
    return members.MemberSale("m-1", f"s-{i}", priced, tuple(entries), 0), pays


def timed(run) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for i in range(N):
        start = time.perf_counter()
        run(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {"median_ms": round(statistics.median(ms), 3), "p95_ms": round(ms[int(len(ms) * 0.95)], 3)}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        plain_db = open_database(Path(tmp) / "plain.db")
        plain = timed(lambda i: commit_sale(CART, [PaymentIntent("cash", CART.total_fen)], T, NOW))
        plain_events = outbox.pending(limit=N + 10)
        plain_db.close()
        db = open_database(Path(tmp) / "member.db")
        members.register_member(
            PiiKey(bytes(32)), T, NOW, "13812341234", members.Consent("v1", "K01"), member_id="m-1"
        )
        members.top_up_stored_value(T, NOW, "m-1", 10_000_000, StoredValueRule(), "bench")
        for i in range(N):
            members.add_coupon(coupon(i))

        def one(i: int) -> None:
            sale, pays = member_sale(i)
            commit_sale(CART, pays, T, NOW, f"s-{i}", member=sale)

        member = timed(one)
        rules = timed(lambda i: member_sale(i))
        events = outbox.pending(limit=N + 10)
        db.close()
        from hub.db.schema import open_hub_database
        from hub.ingest.batch import ingest_batch
        from hub.members import ledger as loyalty
        from hub.rules import store as rules_store

        def ingest_rate(name: str, device: str, evs: list[dict[str, object]], versions: int = 0) -> int:
            hub = open_hub_database(f"sqlite:///{Path(tmp) / name}")
            for v in range(versions):  # the owner's saved rules: each member sale checks for a newer one
                rules_store.save_rules({}, "bench", NOW - dt.timedelta(days=versions - v))
            start = time.perf_counter()
            for k in range(0, len(evs), 50):
                ingest_batch(f"pos/{device}/up/events", batch(device, evs[k : k + 50]), NOW, TZ)
            rate = round(len(evs) / (time.perf_counter() - start))
            hub.close()
            return rate

        plain_rate = ingest_rate("hub-plain.db", "K01", plain_events)
        member_rate = ingest_rate("hub-member.db", "K01", events)
        stored_rate = ingest_rate("hub-member-rules.db", "K01", events, versions=3)
        loyalty.configure(LoyaltyRules(), None)
    print(
        json.dumps(
            {
                "sales": N,
                "plain_sale_commit": summary(plain),
                "member_sale_commit_incl_rules": summary(member),
                "rules_only_price_earn_entries": summary(rules),
                "hub_ingest_plain_sales_per_s": plain_rate,
                "hub_ingest_member_events_per_s": member_rate,
                "hub_ingest_member_events_per_s_3_stored_rule_versions": stored_rate,
                "stored_rules_ratio": round(stored_rate / member_rate, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
