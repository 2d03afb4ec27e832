"""Stock after a day of sales, a refund, a transfer, an adjustment and a stock-take equals the hand count.

The expected figures are counted here from the lines the test sold, refunded and moved (never through
:mod:`hub.stock`), on SQLite and PostgreSQL; the sales go through the real ingest (the PostgreSQL bulk
path, the general path and the refund booking).
"""

import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.catalog.releases import load_catalog
from hub.ingest.batch import ingest_batch
from hub.reports import summary
from hub.stock import ledger
from hub.stock.models import StockDocument, StockLevel, StockMove
from kiosk.sync.schema import GENESIS, batch, make_event
from tests.events import sale_data

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
PRICES = {"A": 150, "B": 300, "C": 990}


class Till:
    """A terminal of one store that sells, refunds and resends, its events hash-chained."""

    def __init__(self, device: str, store: str) -> None:
        self.device, self.store, self.seq, self.prev = device, store, 0, GENESIS
        self.sent: list[dict[str, Any]] = []

    def _event(self, kind: str, data: dict[str, Any], ts: str) -> dict[str, Any]:
        self.seq += 1
        event = make_event(
            event_id=f"{self.device}-ev-{self.seq}", device=self.device, seq=self.seq, boot="b", ts=ts,
            type=kind, prev=self.prev, data=data,
        )  # fmt: skip
        self.prev = event["hash"]
        return event

    def sale(self, lines: list[tuple[str, int]], hour: int) -> dict[str, Any]:
        sale_id = f"{self.device}-sale-{self.seq + 1}"
        data = sale_data(sale_id, [(sku, PRICES[sku], q) for sku, q in lines], store=self.store)
        return self._event("sale.completed", data, f"2026-11-24T{hour:02d}:10:00.000+08:00")

    def refund(self, sale: dict[str, Any], position: int, quantity: int) -> dict[str, Any]:
        line = sale["data"]["lines"][position - 1]
        fen = line["unit_price_fen"] * quantity
        data = {
            "refund_id": f"{self.device}-rf-{self.seq + 1}", "sale_id": sale["data"]["sale_id"],
            "receipt_no": sale["data"]["receipt_no"], "store": self.store, "amount_fen": fen,
            "currency": "CNY",
            "lines": [{"position": position, "sku": line["sku"], "quantity": quantity, "total_fen": fen}],
            "payments": [{"method": "cash", "amount_fen": fen, "reference": ""}],
            "reason": "damaged", "attendant": "att-1", "member_id": None, "ledger": [],
            "coupons_restored": [],
        }  # fmt: skip
        return self._event("sale.refunded", data, "2026-11-24T16:00:00.000+08:00")

    def send(self, events: list[dict[str, Any]]) -> None:
        result = ingest_batch(f"pos/{self.device}/up/events", batch(self.device, events), NOW, TZ)
        assert result is not None and result.rejected == [], result


@pytest.fixture
def catalog(hub_db):  # type: ignore[no-untyped-def]
    load_catalog(
        {"sku": sku, "barcode": None, "name_zh": f"商品{sku}", "name_en": f"Item {sku}", "price_fen": fen}
        for sku, fen in PRICES.items()
    )
    return hub_db


def test_a_day_of_stock_equals_the_hand_count(catalog) -> None:  # type: ignore[no-untyped-def]
    hand: Counter[tuple[str, str]] = Counter()
    ledger.receive("S01", [("A", 100), ("B", 40), ("C", 12)], NOW, "owner")
    ledger.receive("S02", [("A", 10)], NOW, "owner")
    hand.update({("S01", "A"): 100, ("S01", "B"): 40, ("S01", "C"): 12, ("S02", "A"): 10})

    k1, k2 = Till("K01", "S01"), Till("K02", "S02")
    morning = [k1.sale([("A", 1 + n % 3), ("B", n % 2)], 9 + n % 4) for n in range(12)]
    k1.send(morning)  # plain sales: the bulk path on PostgreSQL
    k1.send(morning[4:8])  # sent again: nothing counted twice
    for sale in morning:
        for line in sale["data"]["lines"]:
            hand[("S01", line["sku"])] -= line["quantity"]
    afternoon = [k1.sale([("C", 2), ("A", 1)], 14), k1.sale([("B", 3)], 15)]
    refund = k1.refund(morning[2], 1, 2)  # two of line 1 (A) back
    k1.send([*afternoon, refund])  # a refund in the batch: the general path everywhere
    hand[("S01", "C")] -= 2
    hand[("S01", "A")] -= 1 - 2
    hand[("S01", "B")] -= 3
    k2.send([k2.sale([("A", 4)], 11)])
    hand[("S02", "A")] -= 4

    ledger.transfer("S01", "S02", [("A", 15), ("C", 3)], NOW, "owner")
    hand.update({("S02", "A"): 15, ("S02", "C"): 3})
    hand.subtract({("S01", "A"): 15, ("S01", "C"): 3})
    ledger.adjust("S01", [("C", -1)], "broken / 破损", NOW, "owner")
    hand[("S01", "C")] -= 1
    ledger.count("S01", [("B", 20), ("A", hand[("S01", "A")])], NOW, "owner")  # B: 20 on the shelf
    counted_b = hand[("S01", "B")]
    hand[("S01", "B")] = 20
    k1.send([k1.sale([("B", 1)], 17)])  # sold after the count
    hand[("S01", "B")] -= 1

    assert {(x.store, x.sku): x.on_hand for x in ledger.levels()} == dict(hand)
    assert dict(hand) == {
        ("S01", "A"): 100 - 24 - 1 + 2 - 15, ("S01", "B"): 19, ("S01", "C"): 12 - 2 - 3 - 1,
        ("S02", "A"): 10 - 4 + 15, ("S02", "C"): 3,
    }  # fmt: skip
    for level in StockLevel.select():
        assert ledger.ledger_sum(level.store, level.sku) == level.on_hand
    moves = StockMove.select().where(StockMove.kind == "count").order_by(StockMove.sku)
    assert [(m.sku, m.counted, m.quantity) for m in moves] == [("A", 62, 0), ("B", 20, 20 - counted_b)]
    documents = StockDocument.select().order_by(StockDocument.kind, StockDocument.store)
    assert [(d.kind, d.store, d.to_store, d.lines) for d in documents] == [
        ("adjust", "S01", "", 1), ("count", "S01", "", 2), ("receive", "S01", "", 3),
        ("receive", "S02", "", 1), ("transfer", "S01", "S02", 2),
    ]  # fmt: skip
    # a rebuild of the report rows leaves the stock ledger as it was
    before = sorted(tuple(r.values()) for r in StockMove.select().dicts())
    summary.rebuild(TZ)
    assert sorted(tuple(r.values()) for r in StockMove.select().dicts()) == before


def test_low_stock_and_the_reorder_list(catalog) -> None:  # type: ignore[no-untyped-def]
    ledger.receive("S01", [("A", 5), ("B", 30)], NOW, "owner")
    ledger.set_threshold("S01", "A", 10, 40, NOW, "owner")
    ledger.set_threshold("S01", "B", 10, 40, NOW, "owner")
    ledger.set_threshold("S02", "C", 2, 6, NOW, "owner")  # nothing there yet: 0 on hand
    got = [(x.store, x.sku, x.on_hand, x.suggested) for x in ledger.reorder_list()]
    assert got == [("S01", "A", 5, 35), ("S02", "C", 0, 6)]
    assert [x.sku for x in ledger.reorder_list(["S02"])] == ["C"]


REFUSED = [
    (
        lambda: ledger.transfer("S01", "S02", [("A", 6)], NOW, "o"),
        "第 1 行：S01 只有 5 件 A，调不出 6 件。",
        "Line 1: S01 holds 5 of A, cannot send 6.",
    ),
    (
        lambda: ledger.receive("S01", [("A", 1), ("Z9", 2)], NOW, "o"),
        "第 2 行：商品目录里没有编码 Z9。",
        "Line 2: no product Z9 in the catalog.",
    ),
    (
        lambda: ledger.adjust("S01", [("A", -1)], "  ", NOW, "o"),
        "调整库存须写明原因（如：破损、过期、盘点差异）。",
        "Say why (broken, expired, lost…).",
    ),
    (
        lambda: ledger.count("S01", [("A", 1), ("B", -3)], NOW, "o"),
        "第 2 行：B 的数量 -3 不行，须为不小于 0 的整数，最大 1000000。",
        "Line 2: quantity -3 for B must be 0 or more, at most 1000000.",
    ),
    (
        lambda: ledger.receive("S 1", [("A", 1)], NOW, "o"),
        "门店编号“S 1”无效：只能包含字母、数字、_ 和 -，例如 S01。",
        "Store 'S 1' is not a store id: letters, digits, _ and -, e.g. S01.",
    ),
]


@pytest.mark.parametrize(("call", "zh", "en"), REFUSED)
def test_a_bad_document_is_refused_whole(catalog, call, zh: str, en: str) -> None:  # type: ignore[no-untyped-def]
    ledger.receive("S01", [("A", 5)], NOW, "owner")
    before = (StockMove.select().count(), StockDocument.select().count(), ledger.on_hand("S01", "A"))
    with pytest.raises(ledger.StockError) as refused:
        call()
    assert (refused.value.zh, refused.value.en) == (zh, en)
    assert (StockMove.select().count(), StockDocument.select().count(), ledger.on_hand("S01", "A")) == before
