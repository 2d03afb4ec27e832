"""Builders of real, hash-chained uplink events for hub tests."""

from typing import Any

from kiosk.sync.schema import GENESIS, make_event


def sale_data(
    sale_id: str, lines: list[tuple[str, int, int]], store: str = "S01", member_id: str | None = None
) -> dict[str, Any]:
    """``sale.completed`` data for lines of (sku, unit price fen, quantity)."""
    rows = [
        {
            "position": i,
            "sku": sku,
            "name_zh": f"商品{sku}",
            "name_en": f"Item {sku}",
            "unit_price_fen": price,
            "quantity": qty,
            "total_fen": price * qty,
        }
        for i, (sku, price, qty) in enumerate(lines, start=1)
    ]
    total = sum(r["total_fen"] for r in rows)
    return {
        "sale_id": sale_id,
        "receipt_no": f"{store}-K-{sale_id}",
        "store": store,
        "total_fen": total,
        "currency": "CNY",
        "lines": rows,
        "payments": [{"method": "cash", "amount_fen": total, "reference": ""}],
        "member_id": member_id,
        "ledger": [],
    }


def sale_chain(
    device: str,
    count: int,
    start_seq: int = 1,
    prev: str = GENESIS,
    ts: str = "2026-11-24T10:00:00.000+08:00",
    member_id: str | None = None,
) -> list[dict[str, Any]]:
    """``count`` linked sale events of 2 x 150 fen + 1 x 300 fen (600 fen each)."""
    events = []
    for seq in range(start_seq, start_seq + count):
        event = make_event(
            event_id=f"{device}-ev-{seq}",
            device=device,
            seq=seq,
            boot="boot",
            ts=ts,
            type="sale.completed",
            prev=prev,
            data=sale_data(f"{device}-sale-{seq}", [("A", 150, 2), ("B", 300, 1)], member_id=member_id),
        )
        prev = event["hash"]
        events.append(event)
    return events
