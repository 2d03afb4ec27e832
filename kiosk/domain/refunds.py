"""How much a refund returns and which payment it goes back to: pure, integer fen.

Rounding rules (docs/checkout.md, "Refunds"):

- A line's refund is its *net* amount (after the member discount and coupons)
  times the share of its quantity returned, on the cumulative quantity:
  ``floor(net * (before + qty) / sold) - floor(net * before / sold)``. Each
  partial refund rounds down (the fraction stays with the shop until the last
  unit is returned), and returning every unit gives back exactly the net amount.
- The refund amount goes back over the sale's payments in proportion to what
  each payment still has to give back (largest remainder; ties to the earlier
  payment), so no payment ever returns more than it took, and the refund that
  completes the sale returns every payment exactly.
- A member payment (points, stored value) gives back what the member gets back,
  never a fen more or less (docs/loyalty.md, "Refunds"): its share is its part of
  the sale times the *cumulative* refunded share, rounded down to a whole points
  step (at 100 points per yuan one point is one fen; at 10 per yuan a step is one
  point worth 10 fen), and the cash and mobile payments take the rest. When the
  rest does not fit them (little cash or mobile money in the sale), the member
  payments give back more steps, within what they took.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from kiosk.domain.errors import DomainError
from kiosk.domain.loyalty.coupons import allocate

EXTERNAL_METHODS = frozenset({"cash", "wechat", "alipay", "mobile"})  # money that leaves the shop
MOBILE_METHODS = frozenset({"wechat", "alipay", "mobile"})  # refunded through the PaymentProvider
MEMBER_METHODS = frozenset({"points", "stored_value"})  # back to the member's accounts by ledger entries


class RefundRefused(DomainError):
    """A refund the rules do not allow; ``zh`` and ``en`` say why and what to do."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{en} / {zh}")
        self.zh = zh
        self.en = en

    def text(self, lang: str) -> str:
        """The reason in ``lang`` (``zh`` or ``en``)."""
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class SoldLine:
    """A sale line as a refund sees it: sold quantity, net fen, and what earlier refunds returned."""

    position: int
    quantity: int
    net_fen: int
    refunded_quantity: int = 0

    @property
    def returnable(self) -> int:
        """Units that can still be returned."""
        return self.quantity - self.refunded_quantity


@dataclass(frozen=True)
class Pick:
    """The attendant's choice: return ``quantity`` units of the line at ``position``."""

    position: int
    quantity: int


def line_refund_fen(line: SoldLine, quantity: int) -> int:
    """Fen returned for ``quantity`` more units of ``line`` (rounded down, exact on the last unit)."""
    before = line.refunded_quantity
    return line.net_fen * (before + quantity) // line.quantity - line.net_fen * before // line.quantity


def refund_lines(sold: Sequence[SoldLine], picks: Sequence[Pick]) -> list[tuple[SoldLine, int, int]]:
    """(line, quantity, fen) for each pick with a quantity; RefundRefused when a pick does not fit."""
    by_position = {line.position: line for line in sold}
    out = []
    for pick in sorted(picks, key=lambda p: p.position):
        if pick.quantity == 0:
            continue
        line = by_position.get(pick.position)
        if line is None:
            raise RefundRefused(
                f"小票上没有第 {pick.position} 行。", f"The receipt has no line {pick.position}."
            )
        if pick.quantity < 0 or pick.quantity > line.returnable:
            raise RefundRefused(
                f"第 {line.position} 行最多还能退 {line.returnable} 件（已售 {line.quantity} 件，"
                f"已退 {line.refunded_quantity} 件），不能退 {pick.quantity} 件。请减少数量。",
                f"Line {line.position} can return at most {line.returnable} more "
                f"(sold {line.quantity}, refunded {line.refunded_quantity}), not {pick.quantity}. "
                "Lower the quantity.",
            )
        out.append((line, pick.quantity, line_refund_fen(line, pick.quantity)))
    if not out:
        raise RefundRefused("请至少选择一件要退的商品。", "Choose at least one item to refund.")
    return out


def split_refund(paid: Sequence[int], returned_before: Sequence[int], refund_fen: int) -> list[int]:
    """Split ``refund_fen`` over payments that took ``paid`` and gave back ``returned_before``."""
    left = [p - r for p, r in zip(paid, returned_before, strict=True)]
    if not 0 < refund_fen <= sum(left):
        raise RefundRefused(
            f"退款 {refund_fen} 分超出了这笔交易还可退的 {sum(left)} 分。",
            f"A refund of {refund_fen} fen is more than the {sum(left)} fen this sale has left to refund.",
        )
    return allocate(refund_fen, left)


@dataclass(frozen=True)
class PaidBy:
    """One payment of a sale as a refund sees it: what it took, what refunds gave back,
    and for points the points it spent (its whole steps are the smallest it can give back)."""

    method: str
    paid_fen: int
    returned_fen: int = 0
    points: int = 0

    @property
    def left_fen(self) -> int:
        """What this payment can still give back."""
        return self.paid_fen - self.returned_fen

    @property
    def member(self) -> bool:
        """True for points and stored value: given back to the member's accounts."""
        return self.method in MEMBER_METHODS

    @property
    def step_fen(self) -> int:
        """The fen of one whole step this payment gives back in (1 but for coarse points)."""
        if self.method != "points" or not self.points or not self.paid_fen:
            return 1
        return self.paid_fen // math.gcd(self.points, self.paid_fen)


def split_payments(
    payments: Sequence[PaidBy], sale_total_fen: int, refunded_before_fen: int, refund_fen: int
) -> list[int]:
    """The fen ``refund_fen`` gives back by each of ``payments`` (same order).

    Member payments first, on the cumulative share (rounded down to whole steps),
    then the rest over the cash and mobile payments by :func:`split_refund`.
    RefundRefused when the refund is more than is left, or when whole points
    steps cannot make the member payments' part fit (say so in both languages).
    """
    left = sum(p.left_fen for p in payments)
    if not 0 < refund_fen <= left:
        raise RefundRefused(
            f"退款 {refund_fen} 分超出了这笔交易还可退的 {left} 分。",
            f"A refund of {refund_fen} fen is more than the {left} fen this sale has left to refund.",
        )
    after = refunded_before_fen + refund_fen
    shares = [0] * len(payments)
    for i, p in enumerate(payments):
        if p.member:
            due = p.paid_fen * after // sale_total_fen // p.step_fen * p.step_fen
            shares[i] = min(max(0, due - p.returned_fen), p.left_fen)
    others_left = sum(p.left_fen for p in payments if not p.member)
    _fit(payments, shares, low=refund_fen - others_left, high=refund_fen)
    rest = refund_fen - sum(shares)
    outside = [i for i, p in enumerate(payments) if not p.member]
    if rest:
        split = split_refund(
            [payments[i].paid_fen for i in outside], [payments[i].returned_fen for i in outside], rest
        )
        for i, fen in zip(outside, split, strict=True):
            shares[i] = fen
    return shares


def _fit(payments: Sequence[PaidBy], shares: list[int], low: int, high: int) -> None:
    """Move the member shares by whole steps until their sum is within ``low..high``."""
    members = [i for i, p in enumerate(payments) if p.member]
    for i in reversed(members):  # too much: the later member payment gives back a step less
        while sum(shares) > high and shares[i] >= payments[i].step_fen:
            shares[i] -= payments[i].step_fen
    for i in members:  # too little for the cash and mobile payments to cover: a step more
        while sum(shares) < low and shares[i] + payments[i].step_fen <= payments[i].left_fen:
            shares[i] += payments[i].step_fen
    if not low <= sum(shares) <= high:
        raise RefundRefused(
            "这笔交易主要用积分支付，这次退款无法按整积分退回。请一起多退几件商品，或整单退款。",
            "This sale was paid mostly with points, and this refund cannot go back as whole points. "
            "Refund more items together, or the whole sale.",
        )
