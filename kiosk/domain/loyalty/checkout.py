"""A member's sale as ledger entries: what they redeemed, spent and earned.

The terminal calls this when committing a sale (offline too); the hub calls it
again on the received sale and compares, so both sides use one definition.
"""

from dataclasses import dataclass, field

from kiosk.domain.loyalty.ledger import BONUS, POINTS, PRINCIPAL, Kind, LedgerEntry, Stamp, count_account
from kiosk.domain.loyalty.points import EarnContext, EarnResult, earn_points
from kiosk.domain.loyalty.pricing import PricedCart
from kiosk.domain.loyalty.rules import LoyaltyRules
from kiosk.domain.loyalty.stored_value import Split


@dataclass(frozen=True)
class Visit:
    """One count card visit that paid a sale line (次卡抵扣): the card, the service, the fen it covered."""

    card_id: str
    service_sku: str
    fen: int


@dataclass(frozen=True)
class MemberPayment:
    """The member-funded part of a sale: points redeemed (and their fen), stored value, count card visits."""

    points: int = 0
    points_fen: int = 0
    stored: Split = field(default_factory=lambda: Split(0, 0))
    visits: tuple[Visit, ...] = ()

    @property
    def non_earning_fen(self) -> int:
        """Money that earns no points: paid with points, bonus stored value or a count card visit
        (the card was paid for when it was sold)."""
        return self.points_fen + self.stored.bonus + sum(v.fen for v in self.visits)


def sale_ledger(
    member_id: str,
    sale_id: str,
    priced: PricedCart,
    paid: MemberPayment,
    rules: LoyaltyRules,
    ctx: EarnContext,
    stamp: Stamp,
) -> tuple[EarnResult, list[LedgerEntry]]:
    """The earn result and the entries (redeem, spend, one visit per count card line, earn) one
    member sale writes."""
    earned = earn_points(priced.earn_lines(), paid.non_earning_fen, rules.earn, ctx, rules.holidays)
    moves = [
        (POINTS, Kind.REDEEM, -paid.points, f"redeem {paid.points_fen} fen", "sale"),
        (PRINCIPAL, Kind.SPEND, -paid.stored.principal, "stored value principal", "sale"),
        (BONUS, Kind.SPEND, -paid.stored.bonus, "stored value bonus", "sale"),
        *((count_account(v.card_id), Kind.SPEND, -1, v.service_sku, "visit") for v in paid.visits),
        (POINTS, Kind.EARN, earned.points, earned.rule, "sale"),
    ]
    entries = [
        stamp.entry(
            member_id=member_id,
            account=account,
            kind=kind,
            amount=amount,
            sale_id=sale_id,
            action=action,
            rule=rule,
        )
        for account, kind, amount, rule, action in moves
        if amount
    ]
    return earned, entries
