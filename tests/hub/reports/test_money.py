"""Liability and cross-store settlement (通存通兑) against figures worked out by hand.

Three stores, one terminal each: S01 and S02 are direct-run (直营), S03 a franchise (加盟) at 95 %.
The ledger rows are the hub's own table, written as the ingest writes them; the terminals' stores
come from the sales they booked.
"""

import datetime as dt
import io
import itertools
from pathlib import Path

import openpyxl
import pytest
from peewee import fn

from hub.devtools.report_story import NOW, TZ, seed
from hub.members import ledger as loyalty
from hub.members.models import HubLedgerEntry
from hub.reports import money
from hub.reports.summary import SalesHour
from hub.web.app import create_app
from kiosk.domain.loyalty import BONUS, POINTS, PRINCIPAL, Kind, LoyaltyRules

NOV = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
_seq = itertools.count(1)

# (member, account, kind, amount, day, device)
ENTRIES = [
    ("m1", PRINCIPAL, Kind.TOP_UP, 10000, "2026-11-01", "K01"),
    ("m1", BONUS, Kind.TOP_UP, 2000, "2026-11-01", "K01"),
    ("m2", POINTS, Kind.EARN, 5000, "2026-11-02", "K02"),
    ("m2", POINTS, Kind.EARN, 3000, "2026-11-03", "K03"),
    ("m3", PRINCIPAL, Kind.TOP_UP, 20000, "2026-11-05", "K03"),
    ("m1", PRINCIPAL, Kind.SPEND, -6000, "2026-11-10", "K02"),  # S01's money spent at S02
    ("m1", BONUS, Kind.SPEND, -1000, "2026-11-10", "K02"),
    ("m1", PRINCIPAL, Kind.SPEND, -3000, "2026-11-12", "K01"),  # at home: no flow
    ("m2", POINTS, Kind.REDEEM, -6000, "2026-11-15", "K03"),  # 5000 of S02's points, 1000 of S03's
    ("m3", PRINCIPAL, Kind.SPEND, -8000, "2026-11-20", "K01"),  # S03's money spent at S01
    ("m2", POINTS, Kind.EXPIRE, -500, "2026-11-25", "K03"),
    ("m3", PRINCIPAL, Kind.SPEND, -1000, "2026-12-02", "K02"),  # after the period
]


@pytest.fixture
def chain(hub_db):  # type: ignore[no-untyped-def]
    for device, store in (("K01", "S01"), ("K02", "S02"), ("K03", "S03")):
        SalesHour.create(day="2026-11-01", hour=9, store=store, device=device, member=False, sales=1)
    for member, account, kind, amount, day, device in ENTRIES:
        n = next(_seq)
        HubLedgerEntry.create(
            id=f"e{n}", member_id=member, account=account, kind=kind, amount=amount,
            at=f"{day}T10:00:00+08:00", device=device, seq=n, prev="", hash=f"h{n}", event_id=f"ev{n}",
        )  # fmt: skip
    money.set_store_rule("S03", money.FRANCHISE, "95")


def test_settlement_between_three_stores_by_hand(chain) -> None:  # type: ignore[no-untyped-def]
    rows, net = money.settlement(*NOV)
    got = [
        (r.owes, r.to, r.points, r.principal_fen, r.bonus_fen, r.rule, r.face_fen, r.settled_fen)
        for r in rows
    ]
    assert got == [
        ("S01", "S02", 0, 6000, 1000, "internal", 7000, 0),  # direct-run stores net to zero
        ("S02", "S03", 5000, 0, 0, "franchise", 5000, 4750),  # 5000 points = ¥50.00, at 95 %
        ("S03", "S01", 0, 8000, 0, "franchise", 8000, 7600),
    ]
    assert [(n.payer, n.payee, n.amount_fen) for n in net] == [("S03", "S01", 7600), ("S02", "S03", 4750)]
    assert money.settlement(dt.date(2026, 11, 16), dt.date(2026, 11, 30))[0][0].principal_fen == 8000


def test_liability_is_the_sum_of_the_ledger_and_moves_by_kind(chain) -> None:  # type: ignore[no-untyped-def]
    rows = money.liability(NOV[1])
    assert [(r.store, r.points, r.principal_fen, r.bonus_fen) for r in rows] == [
        ("S01", 0, 1000, 1000),
        ("S02", 0, 0, 0),
        ("S03", 1500, 12000, 0),
        ("", 1500, 13000, 1000),
    ]
    total = rows[-1]
    for account, value in (
        (POINTS, total.points),
        (PRINCIPAL, total.principal_fen),
        (BONUS, total.bonus_fen),
    ):
        ledger = sum(a for _m, acc, _k, a, day, _d in ENTRIES if acc == account and day <= "2026-11-30")
        assert value == ledger
    assert (total.points_value_fen, total.total_fen) == (1500, 1500 + 13000 + 1000)
    moved = {m.account: m for m in money.movement(*NOV)}
    assert moved[POINTS] == money.Movement(POINTS, 0, 8000, -6000, -500, 0, 0, 1500)
    assert moved[PRINCIPAL] == money.Movement(PRINCIPAL, 0, 30000, -17000, 0, 0, 0, 13000)
    december = {m.account: m for m in money.movement(dt.date(2026, 12, 1), dt.date(2026, 12, 31))}
    assert (december[PRINCIPAL].opening, december[PRINCIPAL].closing) == (13000, 12000)


def test_overdrawn_points_are_a_negative_lot_never_hidden(chain) -> None:  # type: ignore[no-untyped-def]
    HubLedgerEntry.create(
        id="x1", member_id="m4", account=POINTS, kind=Kind.REDEEM, amount=-300,
        at="2026-11-28T10:00:00+08:00", device="K02", seq=900, prev="", hash="x", event_id="x",
    )  # fmt: skip
    rows = {r.store: r for r in money.liability(NOV[1])}
    assert (rows["S02"].points, rows[""].points) == (-300, 1500 - 300)


def test_rules_are_checked_and_explained_in_both_languages(hub_db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(money.RuleError) as bad:
        money.set_store_rule("S09", money.FRANCHISE, "95.555")
    assert "最多两位小数" in bad.value.zh and "two decimals" in bad.value.en
    with pytest.raises(money.RuleError):
        money.set_store_rule("S09", money.FRANCHISE, "101")
    assert money.set_store_rule("S09", money.FRANCHISE, "97.5").rate_bp == 9750


def test_finance_page_and_exports(chain, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(create_app(TZ, today=lambda: dt.date(2026, 11, 30)))
    html = client.get("/finance?from=2026-11-01&to=2026-11-30").text
    assert 'id="liability-total">¥155.00<' in html  # ¥15.00 of points + ¥130.00 + ¥10.00
    assert "S03 → S01" in html and "¥76.00" in html
    workbook = client.get("/finance/settlement.xlsx?from=2026-11-01&to=2026-11-30").content
    sheet = openpyxl.load_workbook(io.BytesIO(workbook)).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][:3] == ["owes", "to", "points"] and len(values) == 4
    csv = client.get("/finance/liability.csv?to=2026-11-30").content.decode("utf-8-sig").splitlines()
    assert csv[-1].startswith("*,1500,15.00,130.00,10.00,155.00")
    posted = client.post(
        "/finance/rules", data={"store": "S02", "kind": "franchise", "rate": "90"}, follow_redirects=False
    )
    assert posted.status_code == 303 and money.store_rules()["S02"].rate_bp == 9000
    bad = client.post("/finance/rules?lang=en", data={"store": "S02", "kind": "franchise", "rate": "abc"})
    assert bad.status_code == 400 and "percentage" in bad.text


def test_the_real_story_liability_equals_its_ledger(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed(tmp_path)
    try:
        total = money.liability(NOW.date())[-1]
        e = HubLedgerEntry
        sums = {a: int(v) for a, v in e.select(e.account, fn.SUM(e.amount)).group_by(e.account).tuples()}
        assert (total.points, total.principal_fen, total.bonus_fen) == (
            sums.get(POINTS, 0),
            sums.get(PRINCIPAL, 0),
            sums.get(BONUS, 0),
        )
    finally:
        loyalty.configure(LoyaltyRules(), None)
