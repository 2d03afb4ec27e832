"""Points expiry (积分过期): oldest points are spent and expire first.

Every positive points entry is a lot dated by the day it was earned. Debits
without a target (redeem, negative adjustments, merge-outs) consume the oldest
lots that are still valid at the debit's time; entries that name a lot in
``reverses`` (refund reversals, expiries) reduce that lot. Debits that find no
lot become a debt that the next lots pay first, so an overdrawn member is not
credited with phantom expiries.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from kiosk.domain.loyalty.dates import add_months
from kiosk.domain.loyalty.ledger import POINTS, Kind, LedgerEntry, Stamp
from kiosk.domain.loyalty.rules import ExpiryRule


@dataclass
class Lot:
    """Points earned on one day by one entry, and how many are left."""

    entry_id: str
    earned_on: dt.date
    expires_on: dt.date | None
    left: int


def _earned_on(entry: LedgerEntry) -> dt.date:
    return dt.date.fromisoformat(entry.earned_on) if entry.earned_on else entry.day


def lots(entries: Iterable[LedgerEntry], member_id: str, rule: ExpiryRule) -> list[Lot]:
    """The member's points lots with what is left of each, oldest first."""
    mine = [e for e in entries if e.member_id == member_id and e.account == POINTS]
    mine.sort(key=lambda e: (e.at, e.seq))
    found: list[Lot] = []
    debt = 0
    for entry in mine:
        if entry.amount > 0:
            earned = _earned_on(entry)
            expires = add_months(earned, rule.months) if rule.months else None
            paid = min(debt, entry.amount)
            debt -= paid
            found.append(Lot(entry.id, earned, expires, entry.amount - paid))
        elif target := next((lot for lot in found if lot.entry_id == entry.reverses), None):
            taken = min(target.left, -entry.amount)
            target.left -= taken
            debt += _consume_fifo(found, -entry.amount - taken, entry.day)
        else:
            debt += _consume_fifo(found, -entry.amount, entry.day)
    return found


def _consume_fifo(found: list[Lot], amount: int, day: dt.date | None) -> int:
    """Take ``amount`` from the oldest lots valid on ``day``; return what no lot covered."""
    for lot in found:
        if amount == 0:
            break
        if day is not None and lot.expires_on is not None and lot.expires_on <= day:
            continue
        taken = min(lot.left, amount)
        lot.left -= taken
        amount -= taken
    return amount


def due_expiries(entries: Iterable[LedgerEntry], member_id: str, rule: ExpiryRule, on: dt.date) -> list[Lot]:
    """Lots with points left whose expiry date is on or before ``on``."""
    return [
        lot
        for lot in lots(entries, member_id, rule)
        if lot.left > 0 and lot.expires_on is not None and lot.expires_on <= on
    ]


def expire_entries(
    entries: Iterable[LedgerEntry], member_id: str, rule: ExpiryRule, stamp: Stamp
) -> list[LedgerEntry]:
    """The expire entries to write now (on ``stamp``'s day), one per due lot."""
    on = dt.datetime.fromisoformat(stamp.at).date()
    return [
        stamp.entry(
            member_id=member_id,
            account=POINTS,
            kind=Kind.EXPIRE,
            amount=-lot.left,
            action="expiry",
            rule=f"expire after {rule.months} months",
            reverses=lot.entry_id,
        )
        for lot in due_expiries(entries, member_id, rule, on)
    ]


def expiring_soon(
    entries: Iterable[LedgerEntry], member_id: str, rule: ExpiryRule, on: dt.date
) -> list[tuple[dt.date, int]]:
    """(expiry date, points) due after ``on`` and within ``rule.remind_days``, per date."""
    horizon = on + dt.timedelta(days=rule.remind_days)
    totals: dict[dt.date, int] = {}
    for lot in lots(entries, member_id, rule):
        if lot.left > 0 and lot.expires_on is not None and on < lot.expires_on <= horizon:
            totals[lot.expires_on] = totals.get(lot.expires_on, 0) + lot.left
    return sorted(totals.items())


def remaining_lots(entries: Iterable[LedgerEntry], member_id: str, rule: ExpiryRule) -> list[tuple[str, int]]:
    """(earned_on ISO date, points) of lots with points left, for :func:`merge_entries`."""
    return [(lot.earned_on.isoformat(), lot.left) for lot in lots(entries, member_id, rule) if lot.left]
