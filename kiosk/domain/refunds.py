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
"""

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
