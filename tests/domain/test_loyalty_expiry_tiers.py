"""Points expiry (oldest first) and tiers (upgrade at once, downgrade after grace)."""

import datetime as dt

import pytest
from pydantic import ValidationError

from kiosk.domain.loyalty import POINTS, Kind, LedgerEntry, TierState, balance
from kiosk.domain.loyalty.expiry import due_expiries, expire_entries, expiring_soon, remaining_lots
from kiosk.domain.loyalty.rules import EarnRule, ExpiryRule, Tier, TierRule
from kiosk.domain.loyalty.tiers import (
    birthday_gift,
    evaluate,
    is_evaluation_date,
    progress,
    qualifying_amount,
    tier_for,
    upgrade,
)
from tests.domain.loyalty_support import stamp

YEAR = ExpiryRule(months=12, remind_days=30)


def pts(eid: str, amount: int, day: str, kind: Kind = Kind.EARN, reverses: str = "") -> LedgerEntry:
    return LedgerEntry(
        id=eid,
        member_id="m1",
        account=POINTS,
        kind=kind,
        amount=amount,
        at=f"{day}T12:00:00+08:00",
        device="d1",
        reverses=reverses,
    )


def history() -> list[LedgerEntry]:
    return [
        pts("a", 100, "2025-01-10"),
        pts("b", 200, "2025-03-01"),
        pts("r", -150, "2025-06-01", Kind.REDEEM),
    ]


def test_redeem_spends_oldest_points_first() -> None:
    assert remaining_lots(history(), "m1", YEAR) == [("2025-03-01", 150)]
    assert due_expiries(history(), "m1", YEAR, dt.date(2026, 1, 10)) == []
    due = due_expiries(history(), "m1", YEAR, dt.date(2026, 3, 1))
    assert [(lot.entry_id, lot.left) for lot in due] == [("b", 150)]


def test_reminder_lists_points_expiring_within_the_window() -> None:
    assert expiring_soon(history(), "m1", YEAR, dt.date(2026, 1, 29)) == []
    assert expiring_soon(history(), "m1", YEAR, dt.date(2026, 1, 30)) == [(dt.date(2026, 3, 1), 150)]


def test_expire_entries_are_written_once() -> None:
    entries = history()
    expired = expire_entries(entries, "m1", YEAR, stamp("2026-03-01T00:00:00+08:00"))
    assert [(e.kind, e.amount, e.reverses) for e in expired] == [(Kind.EXPIRE, -150, "b")]
    assert balance(entries + expired, "m1") == 0
    assert expire_entries(entries + expired, "m1", YEAR, stamp("2026-03-02T00:00:00+08:00")) == []


def test_debit_skips_expired_lots_and_debt_is_paid_by_the_next_lot() -> None:
    entries = [
        pts("a", 100, "2024-01-01"),
        pts("r", -30, "2025-02-01", Kind.REDEEM),
        pts("b", 50, "2025-06-01"),
    ]
    assert remaining_lots(entries, "m1", YEAR) == [("2024-01-01", 100), ("2025-06-01", 20)]
    expired = expire_entries(entries, "m1", YEAR, stamp("2025-07-01T00:00:00+08:00"))
    assert [e.amount for e in expired] == [-100]
    assert balance(entries + expired, "m1") == 20


def test_refund_reversal_takes_from_its_own_lot() -> None:
    entries = [*history(), pts("x", -150, "2025-07-01", Kind.REFUND_REVERSAL, reverses="b")]
    assert remaining_lots(entries, "m1", YEAR) == []


def test_no_expiry_when_months_is_zero() -> None:
    assert due_expiries(history(), "m1", ExpiryRule(), dt.date(2099, 1, 1)) == []


TIERS = TierRule(
    basis="spend",
    window_months=12,
    grace_days=30,
    tiers=(
        Tier(code="normal", name_zh="普通会员", threshold=0),
        Tier(code="silver", name_zh="银卡", threshold=100000, discount_percent=5, points_multiplier=120),
        Tier(code="gold", name_zh="金卡", threshold=500000, discount_percent=10, points_multiplier=150),
    ),
)


def test_qualifying_amount_uses_the_rolling_window() -> None:
    spend = [(dt.date(2025, 1, 15), 30000), (dt.date(2025, 6, 1), 50000), (dt.date(2026, 1, 14), 40000)]
    assert qualifying_amount(spend, dt.date(2026, 1, 15), TIERS) == 90000
    assert qualifying_amount(spend, dt.date(2026, 1, 14), TIERS) == 120000


def test_tier_for_thresholds() -> None:
    assert tier_for(99999, TIERS).code == "normal"
    assert tier_for(100000, TIERS).code == "silver"
    assert tier_for(600000, TIERS).code == "gold"


def test_upgrade_is_immediate_and_never_downgrades() -> None:
    assert upgrade(TierState("normal"), 120000, TIERS) == TierState("silver")
    assert upgrade(TierState("gold"), 0, TIERS) == TierState("gold")


def test_downgrade_only_after_grace_at_an_evaluation() -> None:
    on = dt.date(2026, 1, 1)
    graced = evaluate(TierState("gold"), 200000, on, TIERS)
    assert graced == TierState("gold", dt.date(2026, 1, 31))
    assert evaluate(graced, 200000, dt.date(2026, 1, 15), TIERS) == graced
    assert evaluate(graced, 200000, dt.date(2027, 1, 1), TIERS) == TierState("silver")
    assert evaluate(graced, 600000, dt.date(2027, 1, 1), TIERS) == TierState("gold")


def test_regaining_the_threshold_ends_the_grace() -> None:
    graced = TierState("gold", dt.date(2026, 1, 31))
    assert upgrade(graced, 500000, TIERS) == TierState("gold")
    assert upgrade(graced, 400000, TIERS) == graced


def test_evaluation_dates_and_progress() -> None:
    assert is_evaluation_date(dt.date(2026, 1, 1), TIERS)
    assert not is_evaluation_date(dt.date(2026, 2, 1), TIERS)
    following = progress(120000, TIERS)
    assert following is not None
    assert (following[0].code, following[1]) == ("gold", 380000)
    assert progress(500000, TIERS) is None


def test_tier_rule_rejects_unordered_tiers_and_typos() -> None:
    with pytest.raises(ValidationError, match="ascend"):
        TierRule(tiers=(Tier(code="a", name_zh="甲", threshold=10),))
    with pytest.raises(ValidationError, match="points_per_yaun"):
        EarnRule(points_per_yaun=1)  # type: ignore[call-arg]


def test_birthday_gift_once_in_the_birthday_month() -> None:
    gold = Tier(code="gold", name_zh="金卡", threshold=0, birthday_gift_points=500)
    born = dt.date(1990, 3, 22)
    assert birthday_gift(gold, born, dt.date(2026, 3, 1), None) == 500
    assert birthday_gift(gold, born, dt.date(2026, 3, 30), 2026) == 0
    assert birthday_gift(gold, born, dt.date(2026, 4, 1), None) == 0
    assert birthday_gift(gold, None, dt.date(2026, 3, 1), None) == 0
