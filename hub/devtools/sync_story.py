"""A small, real sync story for the fleet and quarantine pages: used by tests and screenshots.

``python -m hub.devtools.sync_story docs/screenshots`` seeds a throwaway hub database
through the real ingest, serves the dashboard and saves PNGs of ``/fleet`` and
``/quarantine`` in Chinese and English.
"""

import base64
import contextlib
import datetime as dt
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hub.db.schema import open_hub_database
from hub.devtools.serving import serving
from hub.fleet import presence as fleet
from hub.fleet.presence import DeviceStatus
from hub.fleet.receipt_keys import device_receipt_key_text
from hub.ingest.batch import ingest_batch
from hub.members.settings import settings as loyalty_settings
from hub.web.app import create_app
from hub.web.sync import router
from kiosk.devtools import browser
from kiosk.domain import receipt_link
from kiosk.store.pii import PiiKey
from kiosk.sync.schema import GENESIS, batch, canonical, make_event

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 6, 30, tzinfo=dt.UTC)  # 14:30 in Shanghai


def _sale(device: str, seq: int, prev: str, fen: int) -> dict[str, Any]:
    data = {
        "sale_id": f"{device}-sale-{seq}",
        "receipt_no": f"S01-{device}-20261124{seq:04d}",
        "store": "S01",
        "total_fen": fen,
        "currency": "CNY",
        "lines": [
            {"position": 1, "sku": "T1", "name_zh": "绿茶", "name_en": "Green tea",
             "unit_price_fen": fen, "quantity": 1, "total_fen": fen}
        ],
        "payments": [{"method": "mobile", "amount_fen": fen, "reference": ""}],
        "member_id": None,
        "ledger": [],
    }  # fmt: skip
    return make_event(
        event_id=f"{device}-ev-{seq}", device=device, seq=seq, boot="b", ts="2026-11-24T14:00:00.000+08:00",
        type="sale.completed", prev=prev, data=data,
    )  # fmt: skip


def _registration(device: str, seq: int, prev: str, member_id: str) -> dict[str, Any]:
    # personal fields stay opaque to the hub: stand-in ciphertexts are enough for the story
    member = {"id": member_id, "phone_index": f"index-{member_id}", "phone_enc": f"sealed-{member_id}",
              "home_store": "S01", "source": "kiosk", "created_at": "2026-11-24T14:05:00+08:00"}  # fmt: skip
    return make_event(
        event_id=f"{device}-ev-{seq}", device=device, seq=seq, boot="b", ts="2026-11-24T14:05:00.000+08:00",
        type="member.registered", prev=prev, data={"member": member},
    )  # fmt: skip


def _chain(device: str, count: int) -> list[dict[str, Any]]:
    events, prev = [], GENESIS
    for seq in range(1, count + 1):
        events.append(_sale(device, seq, prev, 300 + seq * 50))
        prev = events[-1]["hash"]
    return events


def _status(device: str, state: str, **health: object) -> bytes:
    return canonical({"v": 1, "device": device, "state": state, **health})


def seed(now: dt.datetime = NOW) -> None:
    """Three terminals: K01 healthy, K02 silent for 2 hours with a gap and a fast clock, K03 quarantined.

    K01 also registered two members (member version 2); K02 went silent before they existed.
    """
    healthy = {"app_version": "0.1.0", "config_version": 3, "outbox_depth": 0, "oldest_unsent_s": 0.0,
               "disk_free_bytes": 12_400_000_000, "uptime_s": 86_000.0, "printer": "ok"}  # fmt: skip
    k01 = _chain("K01", 3)
    for n in (1, 2):  # two members registered at K01: member versions 1 and 2
        k01.append(_registration("K01", 3 + n, k01[-1]["hash"], f"m-{n}"))
    sent = (now - dt.timedelta(seconds=1)).isoformat()
    ingest_batch("pos/K01/up/events", batch("K01", k01, sent_at=sent), now, TZ)
    fleet.record_status("pos/K01/status", _status("K01", "online", **healthy, member_version=2), now)

    earlier = now - dt.timedelta(hours=2)
    k02 = _chain("K02", 6)
    fast_clock = (earlier + dt.timedelta(hours=3)).isoformat()
    ingest_batch("pos/K02/up/events", batch("K02", k02[:2], sent_at=fast_clock), earlier, TZ)
    ingest_batch("pos/K02/up/events", batch("K02", k02[4:], sent_at=fast_clock), earlier, TZ)
    backlog = {**healthy, "outbox_depth": 41, "oldest_unsent_s": 7_300.0, "printer": "paper_out",
               "member_version": 0}  # fmt: skip
    fleet.record_status("pos/K02/status", _status("K02", "online", **backlog), earlier)
    fleet.record_status("pos/K02/status", _status("K02", "offline"), earlier)

    k03 = _chain("K03", 2)
    k03[1]["data"]["total_fen"] = 1  # edited after hashing: the hub refuses it
    ingest_batch("pos/K03/up/events", batch("K03", k03, sent_at=sent), now, TZ)
    ingest_batch("pos/K03/up/events", b'{"v": 1, "device": "K03", "events": "oops"}', now, TZ)
    fleet.record_status("pos/K03/status", _status("K03", "online", **healthy), now)


@contextlib.contextmanager
def key_rotation() -> Iterator[None]:
    """A business key rotation under way (the hub holds a new and an old key); K01 already reports
    the new key, K02 and K03 not yet. The hub's keys as they were afterwards."""
    before = loyalty_settings.key
    ring = PiiKey(ROTATED_KEY, (bytes(range(32)),))
    loyalty_settings.key = ring
    DeviceStatus.update(key_id=ring.key_id).where(DeviceStatus.device == "K01").execute()
    try:
        yield
    finally:
        loyalty_settings.key = before


ROTATED_KEY = bytes(range(100, 132))


def capture(out: Path) -> list[Path]:
    """Seed a throwaway database, serve the pages, save eight screenshots into ``out``.

    Fleet, quarantine, a customer's e-receipt, and the fleet during a key rotation, each in Chinese
    and English.
    """
    from fastapi import FastAPI

    with tempfile.TemporaryDirectory(prefix="hub-story-") as work:
        db = open_hub_database(f"sqlite:///{work}/hub.db")
        seed()
        app: FastAPI = create_app(
            TZ, today=lambda: NOW.astimezone(TZ).date(), data_dir=Path(work) / "hub", clock=lambda: NOW
        )
        app.router.routes[:0] = router(TZ, now=NOW + dt.timedelta(minutes=1)).routes  # pin the clock
        # the link terminal K01 prints: signed with its key from the hub's receipt secret
        key = base64.b64decode(device_receipt_key_text(Path(work) / "hub", "K01"))
        link = receipt_link.sign("S01-K01-202611240001", receipt_link.expiry(NOW, 90), key)
        pages = {"fleet": "fleet", "quarantine": "quarantine", "receipt": f"r/{link}"}
        try:
            with serving(app) as port:
                shots = []
                for name, page in pages.items():
                    for lang, suffix in (("zh", ""), ("en", "?lang=en")):
                        target = out / f"hub-{name}-{lang}.png"
                        shots.append(
                            browser.screenshot(f"http://127.0.0.1:{port}/{page}{suffix}", target, 1280, 720)
                        )
                with key_rotation():  # the fleet page during `hub keys rotate`: who is not on the new key
                    for lang, suffix in (("zh", ""), ("en", "?lang=en")):
                        target = out / f"hub-fleet_rotation-{lang}.png"
                        shots.append(
                            browser.screenshot(f"http://127.0.0.1:{port}/fleet{suffix}", target, 1280, 720)
                        )
                return shots
        finally:
            db.close()


if __name__ == "__main__":
    for path in capture(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
