"""A committed sale prints through the real print queue onto the virtual ESC/POS printer."""

import datetime as dt
import time
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk.domain.cart import Cart
from kiosk.hw.escpos_parser import EscposParser, Raster
from kiosk.hw.events import EventQueue, HardwareEventKind
from kiosk.hw.print_queue import PrintQueue
from kiosk.hw.printer import open_printer
from kiosk.hw.receipt_render import render_receipt
from kiosk.hw.virtual_printer import VirtualPrinter
from kiosk.store import catalog, outbox
from kiosk.store.receipts import receipt_for_sale, recent_receipts, record_receipt_failure
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from tests.store.test_members import RICE, member_sale, pay
from tests.store.test_members import member_with_balances as member_with_balances  # the fixture

NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
TERMINAL = Terminal(store="S01", device="K01", boot="b")


def _sale() -> str:
    catalog.seed_demo_catalog()
    water = catalog.find_by_barcode("6901010370005")
    assert water is not None
    commit_sale(Cart().add(water, 3), [PaymentIntent("cash", 600)], TERMINAL, NOW, sale_id="s-1")
    return "s-1"


def test_receipt_holds_the_stored_sale(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    receipt = receipt_for_sale(_sale(), "邻里便利店", "http://hub/r/s-1")
    assert receipt.receipt_no == "S01-K01-202611240001"
    assert receipt.time == NOW
    assert [(x.name, x.qty, x.unit_fen, x.total_fen) for x in receipt.lines] == [
        ("农夫山泉 550ml", 3, 200, 600)
    ]
    assert [(p.label, p.fen) for p in receipt.payments] == [("现金 Cash", 600)]
    assert receipt.total_fen == 600
    assert receipt.qr_url == "http://hub/r/s-1"


def test_sale_receipt_prints_as_a_raster_image_and_opens_the_drawer(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    virtual = VirtualPrinter(width_dots=576)
    events = EventQueue()
    queue = PrintQueue(open_printer("virtual:", 576, virtual=virtual), events).start()
    try:
        image = render_receipt(receipt_for_sale(_sale(), "邻里便利店"), 576)
        queue.submit("S01-K01-202611240001", image, open_drawer=True)
        deadline = time.monotonic() + 10
        while not virtual.drawer_pulses() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        queue.stop()
    [printed] = virtual.images()
    assert printed.size == image.size
    assert printed.convert("1").tobytes() == image.convert("1").tobytes()
    assert len(virtual.drawer_pulses()) == 1
    states = [e.code for e in events.drain() if e.kind is HardwareEventKind.STATUS]
    assert "printed" in states


def test_failed_receipt_is_reported_through_the_outbox(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    _sale()
    record_receipt_failure("S01-K01-202611240001", "paper_out", TERMINAL, NOW)
    sale_event, failure = outbox.pending()
    assert failure["type"] == "receipt.failed"
    assert failure["seq"] == 2 and failure["prev"] == sale_event["hash"]
    assert failure["data"] == {"sale_id": "s-1", "receipt_no": "S01-K01-202611240001", "reason": "paper_out"}


def test_recent_receipts_list_the_last_sales_and_every_receipt_that_did_not_print(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    catalog.seed_demo_catalog()
    water = catalog.find_by_barcode("6901010370005")
    assert water is not None
    for n in range(1, 5):  # four sales a minute apart, 2, 4, 6 and 8 yuan
        at = NOW + dt.timedelta(minutes=n)
        commit_sale(Cart().add(water, n), [PaymentIntent("cash", 200 * n)], TERMINAL, at, sale_id=f"s-{n}")
    record_receipt_failure("S01-K01-202611240001", "paper_out", TERMINAL, NOW)  # the oldest never printed
    listed = recent_receipts(2, waiting=["S01-K01-202611240003"])
    assert [(r.receipt_no, r.total_fen, r.time.strftime("%H:%M"), r.failed) for r in listed] == [
        ("S01-K01-202611240004", 800, "15:34", False),
        ("S01-K01-202611240003", 600, "15:33", True),  # still waiting in the print queue
        ("S01-K01-202611240001", 200, "15:31", True),  # older than the last two, listed for its failure
    ]
    assert listed[2].sale_id == "s-1"
    # printed after paper was loaded: no longer flagged, and beyond the last two, no longer listed
    again = recent_receipts(2, printed=["S01-K01-202611240001"])
    assert [(r.receipt_no, r.failed) for r in again] == [
        ("S01-K01-202611240004", False),
        ("S01-K01-202611240003", False),
    ]


def _print(receipt_no: str, width: int, path: Path) -> bytes:
    """One print of the stored sale through a fresh print queue (a restart in between) to a file printer."""
    queue = PrintQueue(open_printer(f"file:{path}", width), EventQueue()).start()
    try:
        image = render_receipt(receipt_for_sale("s-1", "邻里便利店", "http://hub/r/s-1"), width)
        queue.submit(receipt_no, image)
        deadline = time.monotonic() + 10
        while receipt_no not in queue.printed and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        queue.stop()
    return path.read_bytes()


def test_a_member_coupon_sale_reprints_byte_for_byte_with_discount_and_member(
    member_with_balances, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # ¥100 of rice, 满100减20 coupon: ¥80 paid ¥10 points + ¥20 stored value + ¥50 cash
    sale = replace(member_sale("s-1"), phone_masked="138****8000", points_after=4070)
    commit_sale(Cart().add(RICE, 2), pay(), TERMINAL, NOW, "s-1", member=sale)
    receipt = receipt_for_sale("s-1", "邻里便利店")
    assert receipt.subtotal_fen == 10000
    assert [(d.label, d.fen) for d in receipt.discounts] == [("会员优惠 Member discount", 2000)]
    assert receipt.total_fen == 8000 == sum(p.fen for p in receipt.payments)
    assert (receipt.member, receipt.points_earned, receipt.points_balance) == ("138****8000", 70, 4070)
    first = _print("S01-K01-202611240001", 384, tmp_path / "first.bin")
    again = _print("S01-K01-202611240001", 384, tmp_path / "again.bin")
    assert first == again and len(first) > 1000
    [raster] = [op for op in EscposParser().feed(first) if isinstance(op, Raster)]
    assert raster.width == 384
