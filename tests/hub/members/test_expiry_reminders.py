"""Points-expiry reminders at the hub: who has points expiring within N days, oldest points spent first."""

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.members import ledger as loyalty
from hub.members.expiry_reminders import Reminder, expiring_points
from hub.web.app import create_app
from kiosk.domain.loyalty import POINTS, Kind, LoyaltyRules
from kiosk.domain.loyalty.rules import ExpiryRule
from kiosk.store import members
from kiosk.store.sales import Terminal
from tests.hub.members.test_loyalty import CONSENT, KEY, NOW, PHONE, TZ, ingest, on_terminal

EXPIRING = LoyaltyRules(expiry=ExpiryRule(months=12))


@pytest.fixture(autouse=True)
def twelve_months() -> Iterator[None]:
    loyalty.configure(EXPIRING, KEY)
    yield
    loyalty.configure(LoyaltyRules(), None)


def points(terminal: Terminal, member_id: str, amount: int, day: dt.date) -> None:
    at = dt.datetime.combine(day, dt.time(12), TZ)
    entry = members.new_stamp(terminal, at).entry(
        member_id=member_id, account=POINTS, kind=Kind.ADJUST, amount=amount
    )
    members.adjust(terminal, at, [entry], "points")


def year_of_points(terminal: Terminal) -> None:
    """m-1: +500 on 2025-12-10, +300 on 2026-01-20; m-2: +200 on 2025-12-01 all spent since."""
    members.register_member(KEY, terminal, NOW, PHONE, CONSENT, name="张三", member_id="m-1")
    members.register_member(KEY, terminal, NOW, "13900000002", CONSENT, member_id="m-2")
    points(terminal, "m-2", 200, dt.date(2025, 12, 1))
    points(terminal, "m-1", 500, dt.date(2025, 12, 10))
    points(terminal, "m-1", 300, dt.date(2026, 1, 20))
    points(terminal, "m-2", -200, dt.date(2026, 6, 1))


def test_reminders_list_points_expiring_within_the_window(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", year_of_points))
    today = dt.date(2026, 11, 24)
    assert expiring_points(today, 30) == [Reminder("m-1", dt.date(2026, 12, 10), 500)]
    assert expiring_points(today, 60) == [
        Reminder("m-1", dt.date(2026, 12, 10), 500),
        Reminder("m-1", dt.date(2027, 1, 20), 300),
    ]
    assert expiring_points(dt.date(2026, 12, 10), 30) == []  # expired that morning, next lot is 41 days out
    loyalty.configure(LoyaltyRules(), KEY)  # points never expire
    assert expiring_points(today, 365) == []


def test_reminder_api_and_page(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", year_of_points))
    client = signed_in(create_app(TZ))
    assert client.get("/api/v1/points/expiring?days=60&on=2026-11-24").json() == [
        {"member_id": "m-1", "expires_on": "2026-12-10", "points": 500},
        {"member_id": "m-1", "expires_on": "2027-01-20", "points": 300},
    ]
    assert client.get("/api/v1/points/expiring?days=30&on=2026-12-11").json() == []
    assert client.get("/api/v1/points/expiring?on=tomorrow").status_code == 422
    page = client.get("/members/expiring?days=abc&lang=en").text
    assert "Days: a whole number 1–366; showing 30." in page
    assert '<input name="days" value="30"' in page
    pinned = signed_in(create_app(TZ, today=lambda: dt.date(2026, 11, 24)))
    html = pinned.get("/members/expiring?days=60").text
    row = r'<tr id="expiring-([^"]+)"><td><a href="/members/m-1">([^<]+)</a></td>\s*<td>([^<]+)</td>'
    rows = re.findall(row + r'<td>([^<]+)</td><td class="num">(\d+)</td>', html)
    assert rows == [
        ("m-1-2026-12-10", "张*", "138****1234", "2026-12-10", "500"),
        ("m-1-2027-01-20", "张*", "138****1234", "2027-01-20", "300"),
    ]
    assert '<td class="num" id="expiring-total"><strong>800</strong></td>' in html
    assert "以下会员的积分将在 60 天内过期" in html
    assert (
        '<a href="/members/expiring" class="more" id="expiring-link">积分即将过期 →</a>'
        in pinned.get("/members").text
    )
