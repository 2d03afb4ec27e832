"""Stored value (储值): top-up bonuses, which money a purchase spends, and cash refunds.

Principal (本金) is money the member paid in; bonus (赠送金) is what the shop
added. Bonus money is not real payment, so the part of a sale it pays earns
no points.
"""

from dataclasses import dataclass

from kiosk.domain.loyalty.errors import InsufficientBalance, LoyaltyError
from kiosk.domain.loyalty.rules import StoredValueRule


@dataclass(frozen=True)
class Split:
    """An amount of stored value in its principal and bonus parts (fen)."""

    principal: int
    bonus: int

    @property
    def total(self) -> int:
        """Principal plus bonus."""
        return self.principal + self.bonus


def top_up(amount_fen: int, rule: StoredValueRule) -> Split:
    """What a top-up of ``amount_fen`` puts on the card: the amount plus the best bonus tier."""
    if amount_fen <= 0:
        raise LoyaltyError(f"a top-up must be positive, got {amount_fen} fen")
    reached = [t.bonus_fen for t in rule.bonus_tiers if t.min_fen <= amount_fen]
    return Split(amount_fen, max(reached, default=0))


def spend(amount_fen: int, held: Split, rule: StoredValueRule) -> Split:
    """Which principal and bonus money pays ``amount_fen``, in the configured order.

    ``proportional`` takes bonus in the ratio the card holds it, rounded down,
    so the member never spends more bonus than the ratio says.
    """
    if amount_fen < 0:
        raise LoyaltyError(f"cannot spend a negative amount: {amount_fen} fen")
    if amount_fen > held.total:
        raise InsufficientBalance(
            f"stored value {held.total} fen is less than {amount_fen} fen / 储值余额不足"
        )
    if rule.spend_order == "principal_first":
        principal = min(amount_fen, held.principal)
        return Split(principal, amount_fen - principal)
    if rule.spend_order == "bonus_first":
        bonus = min(amount_fen, held.bonus)
        return Split(amount_fen - bonus, bonus)
    bonus = amount_fen * held.bonus // held.total if held.total else 0
    principal = amount_fen - bonus
    if principal > held.principal:  # rounding left too little principal: take bonus instead
        bonus += principal - held.principal
        principal = held.principal
    return Split(principal, bonus)


def cash_out(held: Split, bonus_granted_fen: int, rule: StoredValueRule) -> int:
    """Cash returned when a member closes their stored value (退卡); the bonus is forfeited.

    With ``refund_deducts_used_bonus`` the bonus already spent is taken off the
    refundable principal: 充100送20, then ¥50 spent bonus-first (20 bonus, 30
    principal) leaves principal ¥70; cash-out returns ¥70 - ¥20 = ¥50, never below 0.
    """
    used_bonus = max(0, bonus_granted_fen - held.bonus)
    if not rule.refund_deducts_used_bonus:
        return held.principal
    return max(0, held.principal - used_bonus)
