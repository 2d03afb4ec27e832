"""What the member panel shows, read in one query: balances, coupons, history, ledger entries.

A card tap or a member QR used to run six peewee queries for the panel (balances from the
snapshot and the ledger, coupons, two "has history" checks, the entries for the expiry
reminder); most of their time was peewee building SQL (docs/perf.md). :func:`member_panel`
reads the same rows with one fixed statement through the store's connection.
"""

import json
from dataclasses import dataclass
from typing import Any

from kiosk.domain.loyalty import Coupon, LedgerEntry
from kiosk.domain.loyalty.coupons import coupon_from_dict
from kiosk.store.connection import database
from kiosk.store.members.ledger import ENTRY_FIELDS_ORDERED

_ENTRY_JSON = ", ".join(f'"{name}"' for name in ENTRY_FIELDS_ORDERED)
# One row per snapshot account ('s'), per account of this device's entries after the
# snapshot ('l', with how many entries), per coupon ('c'), and, only when ?2 is true, per
# ledger entry of the member ('e', as a JSON array in LedgerEntry's field order).
_PANEL = f"""
SELECT 's', account, amount, through_seq, NULL FROM member_snapshot WHERE member_id = ?1
UNION ALL
SELECT 'l', account, SUM(amount), COUNT(*), NULL FROM ledger_row
 WHERE member_id = ?1
   AND seq > (SELECT COALESCE(MAX(through_seq), 0) FROM member_snapshot WHERE member_id = ?1)
 GROUP BY account
UNION ALL
SELECT 'c', id, used_sale_id IS NOT NULL, NULL, body FROM coupon_row WHERE member_id = ?1
UNION ALL
SELECT 'e', NULL, NULL, seq, json_array({_ENTRY_JSON}) FROM ledger_row
 WHERE ?2 AND member_id = ?1
"""


@dataclass(frozen=True)
class MemberPanel:
    """One member's balances, coupons and history as this terminal knows them."""

    balances: dict[str, int]
    """Per account: the hub's snapshot plus this device's later entries (as ``member_balances``)."""
    coupons: tuple[Coupon, ...]
    """Every coupon of the member, used ones flagged (as ``member_coupons``)."""
    has_history: bool
    """Anything on the ledger here or a balance from the hub (not a first purchase)."""
    entries: tuple[LedgerEntry, ...] | None
    """The member's ledger entries in sequence order, when asked for (the expiry reminder)."""


def member_panel(member_id: str, with_entries: bool = False) -> MemberPanel:
    """The member's panel data in one query; ``with_entries`` adds their ledger entries."""
    balances: dict[str, int] = {}
    coupons: list[Coupon] = []
    entries: list[tuple[int, list[Any]]] = []
    has_history = False
    for part, key, amount, number, body in database.execute_sql(_PANEL, (member_id, with_entries)):
        if part == "s" or part == "l":
            balances[key] = balances.get(key, 0) + amount
            has_history = True
        elif part == "c":
            coupons.append(coupon_from_dict({**json.loads(body), "used": bool(amount)}))
        else:
            entries.append((number, json.loads(body)))
    entries.sort(key=lambda pair: pair[0])
    return MemberPanel(
        balances=balances,
        coupons=tuple(coupons),
        has_history=has_history,
        entries=tuple(_entry(values) for _, values in entries) if with_entries else None,
    )


def _entry(values: list[Any]) -> LedgerEntry:
    return LedgerEntry.from_dict(dict(zip(ENTRY_FIELDS_ORDERED, values, strict=True)))
