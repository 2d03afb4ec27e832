"""Refunding a count card's sale (退次卡): only a card not used yet, its visits voided with the refund.

A card's sale is found through the card's ``+visits`` entry, which carries the sale id. Giving the
money back for a card line needs as many unused cards of that sale and sku as units returned; the
refund's transaction then writes a ``−visits`` entry on each (action ``refund``) with its
``ledger.adjusted`` event, so the card holds nothing more at the terminal and at the hub.
"""

import datetime as dt
from collections.abc import Sequence

from kiosk.domain.loyalty import Kind, LedgerEntry
from kiosk.domain.loyalty.ledger import count_account
from kiosk.domain.refunds import RefundRefused
from kiosk.store.member_models import CountCardRow, LedgerRow
from kiosk.store.members.ledger import adjust, member_balances, new_stamp
from kiosk.store.sales import Terminal

__all__ = ["check_cards_refundable", "void_refunded_cards"]


def _unused_cards(sale_id: str, sku: str) -> tuple[list[CountCardRow], int]:
    """The cards ``sale_id`` sold as ``sku`` that still hold all their visits, and how many it sold."""
    sold = LedgerRow.select().where(
        LedgerRow.sale_id == sale_id, LedgerRow.action == "count_card", LedgerRow.rule == sku
    )
    cards = [
        CountCardRow.get_by_id(row.account.removeprefix("count:")) for row in sold.order_by(LedgerRow.seq)
    ]
    unused = [c for c in cards if member_balances(c.member_id).get(count_account(c.id), 0) == c.visits]
    return unused, len(cards)


def check_cards_refundable(sale_id: str, lines: Sequence[tuple[str, int]]) -> None:
    """Raise :class:`RefundRefused` unless each card line of ``lines`` (sku, units returned) of sale
    ``sale_id`` has that many unused cards; lines that sold no card pass."""
    for sku, quantity in lines:
        unused, sold = _unused_cards(sale_id, sku)
        if sold and len(unused) < quantity:
            raise RefundRefused(
                "这张次卡已经使用过（或已退过），不能退款；未使用的次卡才能整张退。",
                "This count card has been used (or refunded already) and cannot be refunded; "
                "only an unused card can be refunded, whole.",
            )


def void_refunded_cards(
    terminal: Terminal, now: dt.datetime, sale_id: str, lines: Sequence[tuple[str, int]], refund_id: str
) -> list[LedgerEntry]:
    """Void the visits of the cards the refund of ``lines`` gives back (call inside its transaction,
    after :func:`check_cards_refundable`); returns the entries written."""
    stamp = new_stamp(terminal, now)
    entries = []
    for sku, quantity in lines:
        unused, _sold = _unused_cards(sale_id, sku)
        for card in unused[:quantity]:
            fields = {"sale_id": sale_id, "action": "refund", "rule": sku}
            account, member_id = count_account(card.id), card.member_id
            entries.append(
                stamp.entry(
                    member_id=member_id, account=account, kind=Kind.ADJUST, amount=-card.visits, **fields
                )
            )
    return adjust(terminal, now, entries, f"refund:{refund_id}") if entries else []
