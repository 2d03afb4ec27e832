"""What the member panel shows, and where it comes from.

The screens only ever see a :class:`MemberView`: masked name and phone, tier,
balances, coupons and what this cart saves. A :class:`MemberSource` turns a card
tap or member QR into one; :class:`kiosk.flows.members_source.StoreMemberSource`
implements it on the store (``kiosk.store.members``). No Kivy here.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kiosk.domain.cart import Cart
from kiosk.store.sales import PaymentIntent

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
    expiry_notice: Text = field(default_factory=dict)
    """Points expiring soon (积分到期提醒), one line; empty when nothing expires in the reminder window."""
    welcome_back: Text = field(default_factory=dict)
    """A dormant member's greeting with their win-back offer (回归礼) for this sale; empty otherwise."""

    def text(self, value: Text, lang: str) -> str:
        """``value`` in ``lang``, Chinese when the language is missing."""
        return value.get(lang) or value.get("zh", "")


class MemberSource(Protocol):
    """Finds members, prices a cart for them and pays from their balances.

    Required: every method below. ``member_tender`` raises
    :class:`kiosk.domain.loyalty.LoyaltyError` when the member has nothing to
    pay with, and its subclass ``NeedsAttendant`` above the offline cap.
    """

    def find_by_card(self, uid: str) -> MemberView | None:
        """The member whose card has ``uid``."""
        ...

    def find_by_qr(self, payload: str) -> MemberView | None:
        """The member whose member QR is ``payload`` (``member:<id>``)."""
        ...

    def savings_fen(self, member: MemberView, cart: Cart, declined: frozenset[str] = frozenset()) -> int:
        """Fen the member saves on ``cart`` (tier price, coupons but the ``declined`` ones)."""
        ...

    def coupon_choices(self, member: MemberView, cart: Cart, declined: frozenset[str] = frozenset()) -> Any:
        """Each usable coupon on ``cart`` (``member_choices.CouponChoice``): used, kept or not usable."""
        ...

    def points_for(self, member: MemberView, paid_fen: int) -> int:
        """Points the member earns for paying ``paid_fen`` in money."""
        ...

    def member_options(
        self, member: MemberView, remaining_fen: int, due_fen: int, taken: Sequence[PaymentIntent]
    ) -> Any:
        """What 储值支付 and 积分抵扣 would pay now, or why not.

        The answer is a :class:`kiosk.domain.member_choices.MemberOptions`.
        """
        ...

    def member_tender(
        self,
        member: MemberView,
        remaining_fen: int,
        due_fen: int,
        taken: Sequence[PaymentIntent],
        draw: str,
        override_by: str = "",
    ) -> Any:
        """Stored value or points (``draw``) paying up to ``remaining_fen`` (``.payments()``, ``.points``)."""
        ...

    def sale_addon(
        self,
        member: MemberView,
        cart: Cart,
        tenders: Sequence[PaymentIntent],
        sale_id: str,
        declined: frozenset[str] = frozenset(),
    ) -> Any:
        """What the sale commit writes for the member, in the sale's transaction (``.earned_points``)."""
        ...
