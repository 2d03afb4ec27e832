"""The member side of a sale (written inside commit_sale) and of its refunds."""

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.domain.loyalty import (
    CouponNotApplicable,
    GivenBack,
    LedgerEntry,
    PricedCart,
    refund_reversals,
)
from kiosk.domain.loyalty.coupons import coupons_to_restore
from kiosk.store.connection import database
from kiosk.store.member_models import CouponRow
from kiosk.store.members.ledger import (
    adjust,
    new_stamp,
    sale_entries,
    write_ledger,
    write_ledger_rows,
)
from kiosk.store.sales import Terminal

# Plain SQL on the member sale's hot path (see write_ledger_rows); an unknown coupon id is
# left alone as before (a coupon the terminal never stored, e.g. a campaign code).
_USE_COUPON = "UPDATE coupon_row SET used_sale_id = ?, used_at = ? WHERE id = ? AND used_sale_id IS NULL"
_COUPON_EXISTS = "SELECT 1 FROM coupon_row WHERE id = ?"
_SET_TIER = "UPDATE member SET tier_code = ?, tier_grace_until = NULL WHERE id = ?"


@dataclass(frozen=True)
class MemberSale:
    """The loyalty side of a sale, built before the commit and written inside it.

    Pass it to :func:`kiosk.store.sales.commit_sale` as ``member=``; the sale's
    payments must then add up to ``priced.total_fen``.
    """

    member_id: str
    sale_id: str
    priced: PricedCart
    entries: tuple[LedgerEntry, ...]
    earned_points: int
    tier_code: str | None = None
    rules_version: int | None = None  # the config's rules.version that priced it; 0: built-in defaults
    phone_masked: str = ""  # printed on the receipt (138****8000), with the points balance after the sale
    points_after: int | None = None

    @property
    def discount_fen(self) -> int:
        """Member discount and coupons together."""
        return self.priced.discount_fen

    def write(self, sale_id: str, event_id: str, ts: str) -> dict[str, Any]:
        """Store entries and coupon use; return what the ``sale.completed`` event adds."""
        if sale_id != self.sale_id or any(e.sale_id != sale_id for e in self.entries):
            raise ValueError(f"member sale was built for {self.sale_id}, committed as {sale_id}")
        for coupon_id in self.priced.coupon_ids:
            used = database.execute_sql(_USE_COUPON, (sale_id, ts, coupon_id)).rowcount
            if not used and database.execute_sql(_COUPON_EXISTS, (coupon_id,)).fetchone():
                raise CouponNotApplicable(f"coupon {coupon_id} was already used / 优惠券已使用")
        linked = write_ledger_rows(self.entries, event_id)
        if self.tier_code:
            database.execute_sql(_SET_TIER, (self.tier_code, self.member_id))
        data: dict[str, Any] = {
            "member_id": self.member_id,
            "ledger": [d for _, d in linked],
            "coupons": list(self.priced.coupon_ids),
            "discounts": [dataclasses.asdict(d) for d in self.priced.discounts],
            "net_lines": [line.net_fen for line in self.priced.lines],
            "earn_lines": [
                {"sku": x.sku, "category": x.category, "net_fen": x.net_fen} for x in self.priced.earn_lines()
            ],
            "earned_points": self.earned_points,
            "tier": self.tier_code,
        }
        if self.rules_version is not None:  # the hub re-checks with exactly this version
            data["rules_version"] = self.rules_version
        if self.phone_masked:  # the receipt's member section: every reprint prints the same
            data["receipt"] = {"member": self.phone_masked, "points_balance": self.points_after}
        return data


def refund_member_sale(
    terminal: Terminal,
    now: dt.datetime,
    sale_id: str,
    sale_total_fen: int,
    refunded_before_fen: int,
    refund_fen: int,
    refund_id: str,
) -> list[LedgerEntry]:
    """Reverse earned points and restore spent points and stored value for a (partial) refund,
    as a ``ledger.adjusted`` event of its own (a refund agreed off the terminal).

    ``refunded_before_fen`` is what earlier refunds of the sale returned. The
    refund that completes a full refund also gives the sale's coupons back. A refund
    made at the terminal goes through :func:`kiosk.store.refunds.refund_sale`, which
    writes the same entries into its ``sale.refunded`` event instead.
    """
    entries = _reversals(terminal, now, sale_id, sale_total_fen, refunded_before_fen, refund_fen, refund_id)
    with database.atomic("IMMEDIATE"):
        linked = adjust(terminal, now, entries, f"refund:{refund_id}")
        restore_coupons(sale_id, sale_total_fen, refunded_before_fen + refund_fen)
    return linked


def write_member_refund(
    terminal: Terminal,
    now: dt.datetime,
    sale_id: str,
    sale_total_fen: int,
    refunded_before_fen: int,
    refund_fen: int,
    refund_id: str,
    event_id: str,
    given_back: Mapping[str, GivenBack] | None = None,
) -> tuple[list[LedgerEntry], list[str]]:
    """The member side of a refund inside its transaction: reversal entries chained under
    ``event_id`` and, when it completes the sale's refund, the coupons given back.

    ``given_back`` (by payment method) is what the refund books against the points and
    stored-value payments: the member gets back exactly that (docs/loyalty.md, "Refunds").
    """
    entries = _reversals(
        terminal, now, sale_id, sale_total_fen, refunded_before_fen, refund_fen, refund_id, given_back
    )
    linked = write_ledger(entries, event_id)
    return linked, restore_coupons(sale_id, sale_total_fen, refunded_before_fen + refund_fen)


def _reversals(
    terminal: Terminal,
    now: dt.datetime,
    sale_id: str,
    sale_total_fen: int,
    refunded_before_fen: int,
    refund_fen: int,
    refund_id: str,
    given_back: Mapping[str, GivenBack] | None = None,
) -> list[LedgerEntry]:
    return refund_reversals(
        sale_entries(sale_id),
        sale_total_fen,
        refunded_before_fen,
        refund_fen,
        new_stamp(terminal, now),
        f"refund:{refund_id}",
        given_back,
    )


def restore_coupons(sale_id: str, sale_total_fen: int, refunded_fen: int) -> list[str]:
    """Give the sale's coupons back once ``refunded_fen`` covers the whole sale; return their ids."""
    used = [r.id for r in CouponRow.select().where(CouponRow.used_sale_id == sale_id).order_by(CouponRow.id)]
    restored = list(coupons_to_restore(tuple(used), sale_total_fen, refunded_fen))
    if restored:
        CouponRow.update(used_sale_id=None, used_at=None).where(CouponRow.id.in_(restored)).execute()
    return restored
