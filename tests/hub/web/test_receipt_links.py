"""Signed, expiring e-receipt links: from `hub device add` and a real terminal sale to the hub's page.

Each terminal is provisioned with the real `hub device add` (its kiosk.toml carries its receipt key),
sells on its own SQLite database, prints the receipt whose QR text is the link, and its outbox is
booked by the hub; the link is then opened on the hub's app. Every way a link can be wrong gets the
same 404 page, byte for byte.
"""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from hub.commands.device import device as device_cli
from hub.devtools.signed_in import session_for
from hub.fleet.receipt_keys import RECEIPT_KEY_FILE
from hub.ingest.batch import ingest_batch
from hub.web.app import create_app
from hub.web.auth import COOKIE
from kiosk.cli import _provisioned_settings
from kiosk.config import load_config
from kiosk.domain import receipt_link
from kiosk.domain.cart import Cart, Product
from kiosk.store import open_database, outbox, receipts, refunds
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.sync.schema import batch

TZ = ZoneInfo("Asia/Shanghai")
SOLD = dt.datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
RICE = Product("rice", "6900000000011", "大米", "Rice", 5000, "food")
TILL, BACK = "d-0a0b0c", "d-0d0e0f"
# the page is the same on both databases (tests/hub/web/test_receipt_page.py): SQLite is enough here
pytestmark = pytest.mark.parametrize("hub_db_url", ["sqlite"], indirect=True)


def provision(tmp_path: Path, device_id: str, days: int) -> dict[str, Any]:
    """`hub device add` for ``device_id``; the app settings its kiosk.toml gives `kiosk run`."""
    args = ["add", "--store", "s-001", "--name", device_id, "--broker-host", "hub.lan", "--id", device_id,
            "--hub-url", "https://hub.shop.lan", "--receipt-link-days", str(days), "--data",
            str(tmp_path / "hub"), "--broker-dir", str(tmp_path / "broker"), "--no-reload"]  # fmt: skip
    result = CliRunner().invoke(device_cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return _provisioned_settings(load_config(tmp_path / f"hub/devices/{device_id}/kiosk.toml"))


def sell(tmp_path: Path, device_id: str, settings: dict[str, Any], count: int) -> tuple[list[str], list[Any]]:
    """``count`` cash sales on the terminal's own database: their receipts' QR texts and the outbox."""
    db = open_database(tmp_path / f"{device_id}.db")
    try:
        terminal = Terminal(store="s-001", device=device_id, boot=f"{device_id}-boot")
        links = []
        for n in range(count):
            sale = commit_sale(
                Cart().add(RICE, 1), [PaymentIntent("cash", 5000)], terminal, SOLD, f"{device_id}-{n}"
            )
            url = receipts.receipt_link(
                settings["hub_url"],
                sale.receipt_no,
                dt.datetime.fromisoformat(sale.created_at),
                settings["receipt_key"],
                settings["receipt_link_days"],
            )
            qr = receipts.receipt_for_sale(sale.id, "邻里便利店", url).qr_url  # what the receipt prints
            assert qr is not None
            links.append(qr)
        return links, outbox.pending(limit=100)
    finally:
        db.close()


@pytest.fixture
def shop(hub_db, tmp_path: Path) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    till, back = provision(tmp_path, TILL, 90), provision(tmp_path, BACK, 30)
    till_links, till_events = sell(tmp_path, TILL, till, 2)
    back_links, back_events = sell(tmp_path, BACK, back, 1)
    for device_id, events in ((TILL, till_events), (BACK, back_events)):
        result = ingest_batch(f"pos/{device_id}/up/events", batch(device_id, events), SOLD, TZ)
        assert result is not None and result.rejected == []
    now = [SOLD + dt.timedelta(minutes=5)]
    app = create_app(TZ, data_dir=tmp_path / "hub", clock=lambda: now[0])
    yield {"client": TestClient(app), "now": now, "till": till_links, "back": back_links, "tmp": tmp_path}


def path_of(link: str) -> str:
    assert link.startswith("https://hub.shop.lan/r/"), link
    return link.removeprefix("https://hub.shop.lan")


def test_the_printed_link_opens_the_receipt_in_both_languages(shop: dict[str, Any]) -> None:
    client, link = shop["client"], shop["till"][0]
    receipt_no, expires, _ = path_of(link).removeprefix("/r/").split(".")
    assert receipt_no == f"s-001-{TILL}-202611240001"
    assert int(expires) == int(SOLD.timestamp()) + 90 * 86400  # the sale's time + the owner's 90 days
    page = client.get(path_of(link))
    assert page.status_code == 200
    assert (
        f'<b id="receipt-no">{receipt_no}</b>' in page.text
        and '<span id="sold-at">2026-11-24 10:00:00' in page.text
    )
    english = client.get(path_of(link) + "?lang=en")
    assert english.status_code == 200 and '<html lang="en">' in english.text and "Rice" in english.text


def test_every_wrong_link_gets_the_same_404(shop: dict[str, Any]) -> None:
    client, tmp = shop["client"], shop["tmp"]
    first, second = (path_of(x).removeprefix("/r/") for x in shop["till"])
    no1, exp1, sig1 = first.split(".")
    no2, _, sig2 = second.split(".")
    (back,) = (path_of(x).removeprefix("/r/") for x in shop["back"])
    back_no, back_exp, _ = back.split(".")
    till_key = _provisioned_settings(load_config(tmp / f"hub/devices/{TILL}/kiosk.toml"))["receipt_key"]
    back_key = _provisioned_settings(load_config(tmp / f"hub/devices/{BACK}/kiosk.toml"))["receipt_key"]
    wrong = {
        "bare receipt number": no1,
        "another receipt, this signature": f"{no2}.{exp1}.{sig1}",
        "signature changed": f"{no1}.{exp1}.{sig1[:-1]}{'A' if sig1[-1] != 'A' else 'B'}",
        "expiry extended": f"{no1}.{int(exp1) + 86400}.{sig1}",
        "unknown receipt": f"s-001-{TILL}-202611249999.{exp1}.{sig2}",
        "the back till's key on the front till's receipt": receipt_link.sign(no1, int(exp1), back_key),
        "the front till's key on the back till's receipt": receipt_link.sign(
            back_no, int(back_exp), till_key
        ),
        "a key the hub never gave": receipt_link.sign(no1, int(exp1), bytes(32)),
        "not a link": "a.b.c.d",
        "expiry not a number": f"{no1}.soon.{sig1}",
    }
    pages = {}
    for why, token in wrong.items():
        response = client.get(f"/r/{token}")
        assert response.status_code == 404, why
        pages[why] = response.text
    assert len(set(pages.values())) == 1  # nothing tells a guesser which part was wrong
    page = pages["bare receipt number"]
    assert no1 not in page and "s-001" not in page
    assert "这张电子小票无法打开" in page and "This e-receipt cannot be opened" in page
    assert client.get(f"/r/{first}").status_code == 200 and client.get(f"/r/{back}").status_code == 200


def test_a_link_expires_after_the_owners_days(shop: dict[str, Any]) -> None:
    client, now = shop["client"], shop["now"]
    till, back = path_of(shop["till"][0]), path_of(shop["back"][0])
    now[0] = SOLD + dt.timedelta(days=30) - dt.timedelta(seconds=1)
    assert (client.get(till).status_code, client.get(back).status_code) == (200, 200)
    now[0] = SOLD + dt.timedelta(days=30)  # the back till was provisioned with 30 days
    assert (client.get(till).status_code, client.get(back).status_code) == (200, 404)
    now[0] = SOLD + dt.timedelta(days=90)
    assert client.get(till).status_code == 404


def test_a_hub_without_its_receipt_secret_opens_nothing(shop: dict[str, Any]) -> None:
    (shop["tmp"] / "hub" / RECEIPT_KEY_FILE).unlink()
    assert shop["client"].get(path_of(shop["till"][0])).status_code == 404


def test_the_refund_lookup_reads_the_signed_link_from_the_scanned_qr(shop: dict[str, Any]) -> None:
    db = open_database(shop["tmp"] / f"{TILL}.db")
    try:
        for n, link in enumerate(shop["till"]):
            sale = refunds.find_sale(f" {link} ")
            assert sale is not None and sale.id == f"{TILL}-{n}"
        assert refunds.find_sale(f"s-001-{TILL}-202611240002").id == f"{TILL}-1"  # typed, as before  # type: ignore[union-attr]
    finally:
        db.close()


def test_the_receipt_secret_file_is_private_and_keys_differ_per_terminal(shop: dict[str, Any]) -> None:
    tmp = shop["tmp"]
    assert (tmp / "hub" / RECEIPT_KEY_FILE).stat().st_mode & 0o777 == 0o600
    keys = {
        _provisioned_settings(load_config(tmp / f"hub/devices/{d}/kiosk.toml"))["receipt_key"]
        for d in (TILL, BACK)
    }
    assert len(keys) == 2 and all(len(k) == 32 for k in keys)


def test_receipt_key_prints_the_line_for_a_terminal_provisioned_before(shop: dict[str, Any]) -> None:
    data = str(shop["tmp"] / "hub")
    result = CliRunner().invoke(device_cli, ["receipt-key", TILL, "--data", data], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    issued = load_config(shop["tmp"] / f"hub/devices/{TILL}/kiosk.toml").device.receipt_key
    assert result.output.splitlines()[-1] == f'receipt_key = "{issued}"'
    unknown = CliRunner().invoke(device_cli, ["receipt-key", "d-999999", "--data", data])
    assert unknown.exit_code == 1 and "d-999999" in unknown.output and "Traceback" not in unknown.output


def test_the_owner_reads_the_receipt_signed_in_without_a_link(shop: dict[str, Any]) -> None:
    client, receipt_no = shop["client"], f"s-001-{TILL}-202611240001"
    assert client.get(f"/sales/{receipt_no}/receipt", follow_redirects=False).status_code == 303
    token, _ = session_for("owner")
    client.cookies.set(COOKIE, token)
    page = client.get(f"/sales/{receipt_no}/receipt")
    assert page.status_code == 200 and f'<b id="receipt-no">{receipt_no}</b>' in page.text
