"""The attendant's side in a real Kivy window: reprinting receipts, and a keypad left open at the timeout.

One module fixture runs the whole visit once (two sales, two reprints, a
shopper who walks away from an open staff keypad); the tests assert on what
the screens showed, what the virtual printer printed and what the outbox holds.
"""

import base64
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import DEMO_RECEIPT_KEY
from kiosk.domain.receipt_link import DEFAULT_DAYS
from kiosk.hw.escpos_parser import EscposParser, Raster
from kiosk.hw.receipt_render import render_receipt
from kiosk.store import open_database
from kiosk.store.connection import database
from kiosk.store.models import Sale
from kiosk.store.receipts import receipt_for_sale, receipt_link
from tests.app.test_kiosk_window import MEMBER_CARD, MILK, PIN, WATER, after_seed, rows, run_kiosk, zh

STAFF_STEPS: list[dict[str, Any]] = [
    {"scan": WATER}, {"tap": "cart:pay"}, {"tap": "pay:cash"}, {"pin": PIN},
    {"tap": "receipt:print"}, {"tap": "done:new_sale"},
    {"scan": MILK}, {"tap": "cart:pay"}, {"tap": "pay:cash"}, {"pin": PIN},
    {"tap": "receipt:skip"}, {"tap": "done:new_sale"},
    {"tap": "idle:staff"}, {"pin": PIN}, {"observe": "menu"}, {"tap": "popup:reprint"},
    {"observe": "listed"}, {"shot": "reprint"}, {"tap": "reprint:1"}, {"wait": 0.5}, {"observe": "reprinted"},
    {"tap": "idle:staff"}, {"pin": PIN}, {"tap": "popup:reprint"}, {"tap": "reprint:0"}, {"wait": 0.8},
    {"observe": "reprinted_stored"},
    {"scan": WATER}, {"card": MEMBER_CARD}, {"tap": "cart:staff"}, {"observe": "keypad_open"},
    {"inactive": True}, {"observe": "keypad_timed_out"}, {"wait_until": "idle"}, {"observe": "reset"},
]  # fmt: skip


@pytest.fixture(scope="module")
def attendant(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    """Two sales (one receipt printed, one skipped), both reprinted; then a keypad nobody finishes."""
    workdir = tmp_path_factory.mktemp("staff")
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    script = {
        "steps": STAFF_STEPS,
        "screenshots": str(shots),
        "settings": {
            "idle_timeout_s": 6,  # inactivity is faked by the steps
            "countdown_s": 2,
            "printer_url": f"file:{workdir / 'printer.bin'}",
            "printer_width": 384,  # kiosk.toml's paper_width = 384: 58 mm paper
        },
    }
    return run_kiosk(workdir, display, script), workdir


def sales(db: Path) -> list[tuple[str, str, int]]:
    """(receipt number, created at, total) of every sale, newest first."""
    return rows(db, "select receipt_no, created_at, total_fen from sale order by created_at desc")


def listed(receipt_no: str, created_at: str, total: str) -> str:
    when = dt.datetime.fromisoformat(created_at).strftime("%m-%d %H:%M")
    return zh(f"{receipt_no}  {total}  {when}")


def test_the_staff_menu_lists_recent_receipts_newest_first(attendant: tuple[dict[str, Any], Path]) -> None:
    report, workdir = attendant
    screens = report["screens"]
    assert screens["menu"]["current"] == "idle"
    assert screens["menu"]["popup"]["kind"] == "StaffMenu"
    assert screens["menu"]["popup"]["reprint"] == "补打小票"
    (milk_no, milk_at, milk_fen), (water_no, water_at, water_fen) = sales(workdir / "kiosk.db")
    assert (milk_fen, water_fen) == (350, 200)
    popup = screens["listed"]["popup"]
    assert (popup["kind"], popup["title"], popup["empty"]) == ("ReprintPopup", "补打小票：选择一张", "")
    assert popup["rows"] == [
        listed(milk_no, milk_at, "¥3.50"),
        listed(water_no, water_at, "¥2.00"),
    ]
    assert report["small_buttons"]["reprint-zh"] == [] and report["small_buttons"]["reprint-en"] == []


def test_reprints_come_out_of_the_printer_and_are_audited(attendant: tuple[dict[str, Any], Path]) -> None:
    report, workdir = attendant
    db = workdir / "kiosk.db"
    (milk_no, _, _), (water_no, _, _) = sales(db)
    # the printed receipt again from the queue's copy; the skipped one drawn from the stored sale
    assert report["printed"] == [water_no, water_no, milk_no]
    assert report["screens"]["reprinted"]["message"] == zh(f"小票 {water_no} 正在补打。")
    assert report["screens"]["reprinted_stored"]["message"] == zh(f"小票 {milk_no} 正在补打。")
    events = after_seed([json.loads(b) for (b,) in rows(db, "select body from outbox order by seq")])
    reprints = [e["data"] for e in events if e["data"].get("action") == "reprint"]
    assert reprints == [
        {"store": "S01", "action": "reprint", "attendant": "attendant-1", "sale_id": None,
         "detail": {"receipt_no": water_no}},
        {"store": "S01", "action": "reprint", "attendant": "attendant-1", "sale_id": None,
         "detail": {"receipt_no": milk_no}},
    ]  # fmt: skip


def test_first_prints_and_reprints_are_the_stored_sales_receipt_at_the_configured_width(
    attendant: tuple[dict[str, Any], Path],
) -> None:
    _report, workdir = attendant
    (milk_no, _, _), (water_no, _, _) = sales(workdir / "kiosk.db")
    ops = EscposParser().feed((workdir / "printer.bin").read_bytes())
    rasters = [op for op in ops if isinstance(op, Raster)]
    assert [r.width for r in rasters] == [384, 384, 384]
    open_database(workdir / "kiosk.db")
    try:
        expected = {}
        for no in (water_no, milk_no):
            sale = Sale.get(Sale.receipt_no == no)
            # the QR carries the signed link (`kiosk run --demo` signs with the demo's receipt key)
            sold_at = dt.datetime.fromisoformat(sale.created_at)
            link = receipt_link(
                "http://hub.local:8080", no, sold_at, base64.b64decode(DEMO_RECEIPT_KEY), DEFAULT_DAYS
            )
            assert link is not None and f"/r/{no}." in link
            receipt = receipt_for_sale(sale.id, "邻里便利店", link)
            expected[no] = render_receipt(receipt, 384).tobytes()
    finally:
        database.close()
    # water: the first print, then its reprint; milk (never printed): drawn again from the stored sale
    images = [r.image.convert("1").tobytes() for r in rasters]
    assert images == [expected[water_no], expected[water_no], expected[milk_no]]


def test_a_keypad_left_open_still_times_out_abandons_the_cart_and_clears_the_member(
    attendant: tuple[dict[str, Any], Path],
) -> None:
    report, workdir = attendant
    screens = report["screens"]
    assert screens["keypad_open"]["popup"]["kind"] == "PinPopup"
    assert "138****8000" in screens["keypad_open"]["member"]  # the member is on screen behind it
    assert screens["keypad_timed_out"]["popup"]["kind"] == "StillThere"
    reset = screens["reset"]
    assert (reset["current"], reset["rows"], reset["total"], "popup" in reset) == ("idle", [], "¥0.00", False)
    assert reset["member"] == "刷会员卡或出示会员码，可享会员优惠"
    assert "138" not in json.dumps(reset, ensure_ascii=False)
    events = [json.loads(b) for (b,) in rows(workdir / "kiosk.db", "select body from outbox order by seq")]
    last = events[-1]
    abandoned = (last["type"], last["data"]["reason"], last["data"]["total_fen"])
    assert abandoned == ("cart.abandoned", "timeout", 200)
    assert [line["sku"] for line in last["data"]["lines"]] == ["DRK-001"]
