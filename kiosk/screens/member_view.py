"""What the member panel shows, and where it comes from.

The screens only ever see a :class:`MemberView`: masked name and phone, tier,
balances, coupons and what this cart saves. A :class:`MemberSource` turns a card
tap or member QR into one. :class:`DemoMemberSource` serves one demo member
until the loyalty package's store (``kiosk.store.members``) is wired in behind
the same protocol. No Kivy here.
"""

from dataclasses import dataclass, field
from typing import Any, Protocol

from kiosk.domain.cart import Cart
from kiosk.store.sales import SaleAddOn

Text = dict[str, str]  # {"zh": ..., "en": ...}


@dataclass(frozen=True)
class MemberView:
    """A member as the screen shows them: nothing here is unmasked personal data."""

    member_id: str
    name_masked: str  # 张*
    phone_masked: str  # 138****1234
    tier: Text
    points: int
    stored_value_fen: int
    coupons: tuple[Text, ...] = ()
    next_tier: Text | None = None
    points_to_next_tier: int = 0
    greeting: Text = field(default_factory=dict)

    def text(self, value: Text, lang: str) -> str:
        """``value`` in ``lang``, Chinese when the language is missing."""
        return value.get(lang) or value.get("zh", "")


class MemberSource(Protocol):
    """Finds members and prices a cart for them. Implemented by loyalty; demo below."""

    def find_by_card(self, uid: str) -> MemberView | None:
        """The member whose card has ``uid``."""
        ...

    def find_by_qr(self, payload: str) -> MemberView | None:
        """The member whose member QR is ``payload`` (``member:<id>``)."""
        ...

    def savings_fen(self, member: MemberView, cart: Cart) -> int:
        """Fen the member saves on ``cart`` (tier price, coupons)."""
        ...

    def points_for(self, member: MemberView, paid_fen: int) -> int:
        """Points the member earns for paying ``paid_fen`` in money."""
        ...

    def sale_addon(self, member: MemberView, cart: Cart) -> SaleAddOn | None:
        """What the sale commit writes for the member, in the sale's transaction."""
        ...


@dataclass(frozen=True)
class DemoMemberSale:
    """The demo member's part of a sale: the coupon discount and the member id on the event."""

    member_id: str
    discount: int

    @property
    def discount_fen(self) -> int:
        """Fen taken off the cart total."""
        return self.discount

    def write(self, sale_id: str, event_id: str, ts: str) -> dict[str, Any]:
        """No ledger rows for the demo member; only the id on the sale event."""
        return {"member_id": self.member_id, "discount_fen": self.discount}


DEMO_CARD_UID = "0012345678"
DEMO_MEMBER = MemberView(
    member_id="demo-member-0001",
    name_masked="张*",
    phone_masked="138****1234",
    tier={"zh": "金卡会员", "en": "Gold member"},
    points=1280,
    stored_value_fen=8800,
    coupons=({"zh": "满30减5", "en": "¥5 off ¥30+"},),
    next_tier={"zh": "铂金卡", "en": "Platinum"},
    points_to_next_tier=720,
    greeting={"zh": "张*，欢迎回来！", "en": "Welcome back, 张*!"},
)
COUPON_THRESHOLD_FEN, COUPON_FEN = 3000, 500


class DemoMemberSource:
    """One demo member (card ``0012345678``, QR ``member:demo-member-0001``) with a ¥5-off-¥30 coupon."""

    def find_by_card(self, uid: str) -> MemberView | None:
        """The demo member for the demo card."""
        return DEMO_MEMBER if uid.upper() == DEMO_CARD_UID else None

    def find_by_qr(self, payload: str) -> MemberView | None:
        """The demo member for its QR."""
        return DEMO_MEMBER if payload == f"member:{DEMO_MEMBER.member_id}" else None

    def savings_fen(self, member: MemberView, cart: Cart) -> int:
        """The coupon applies from ¥30 upwards."""
        return COUPON_FEN if member.coupons and cart.total_fen >= COUPON_THRESHOLD_FEN else 0

    def points_for(self, member: MemberView, paid_fen: int) -> int:
        """One point per whole yuan paid."""
        return max(paid_fen, 0) // 100

    def sale_addon(self, member: MemberView, cart: Cart) -> SaleAddOn | None:
        """The coupon discount and the member id."""
        return DemoMemberSale(member.member_id, self.savings_fen(member, cart))
