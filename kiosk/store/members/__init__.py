"""Members on the terminal: registration, cards, ledger writes, coupons, member sales.

Every change writes its outbox event in the same transaction as the change
(``member.registered``, ``member.updated`` (a new PIN hash, or details changed for the
member by staff), ``member.erasure_requested``,
``card.linked``, ``ledger.adjusted``; a member sale's
entries ride in its ``sale.completed``). Rules come from
:mod:`kiosk.domain.loyalty`; this package only stores and reads.
"""

from kiosk.store.members.account import (
    HeldCountCard,
    WrongPin,
    change_pin,
    count_cards,
    is_erased,
    points_history,
    request_erasure,
)
from kiosk.store.members.coupons import add_coupon, member_coupons
from kiosk.store.members.details import change_details
from kiosk.store.members.ledger import (
    adjust,
    check_member_spend,
    ledger_entries,
    member_balances,
    new_stamp,
    offline_spent,
    sale_entries,
    write_ledger,
)
from kiosk.store.members.panel import MemberPanel, member_panel
from kiosk.store.members.registry import (
    CardTaken,
    Consent,
    Registration,
    find_by_card,
    find_by_id,
    find_by_phone,
    find_by_phone_and_pin,
    link_card,
    member_by_id,
    pin_holder,
    profile,
    register_member,
    set_pin,
    set_pin_hash,
)
from kiosk.store.members.sale import MemberSale, refund_member_sale, write_member_refund
from kiosk.store.members.wallets import (
    count_card,
    count_card_product,
    expire_points,
    issue_count_card,
    redeem_for_reward,
    sale_with_cards,
    sell_count_card_sale,
    top_up_stored_value,
    use_count_card,
)

__all__ = [
    "CardTaken",
    "Consent",
    "HeldCountCard",
    "MemberPanel",
    "MemberSale",
    "Registration",
    "WrongPin",
    "add_coupon",
    "adjust",
    "change_details",
    "change_pin",
    "check_member_spend",
    "count_card",
    "count_card_product",
    "count_cards",
    "expire_points",
    "find_by_card",
    "find_by_id",
    "find_by_phone",
    "find_by_phone_and_pin",
    "is_erased",
    "issue_count_card",
    "ledger_entries",
    "link_card",
    "member_balances",
    "member_by_id",
    "member_coupons",
    "member_panel",
    "new_stamp",
    "offline_spent",
    "pin_holder",
    "points_history",
    "profile",
    "redeem_for_reward",
    "refund_member_sale",
    "register_member",
    "request_erasure",
    "sale_entries",
    "sale_with_cards",
    "sell_count_card_sale",
    "set_pin",
    "set_pin_hash",
    "top_up_stored_value",
    "use_count_card",
    "write_ledger",
    "write_member_refund",
]
