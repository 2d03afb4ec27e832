"""Membership and loyalty rules: points, tiers, coupons, stored value, count cards, ledger.

Pure and deterministic: dates, times and ids come in as arguments. The
terminal uses these functions offline and the hub re-runs them to check.
"""

from kiosk.domain.loyalty.checkout import MemberPayment, Visit, sale_ledger
from kiosk.domain.loyalty.count_cards import CountCard, CountCardProduct, check_visit, sell_count_card
from kiosk.domain.loyalty.coupons import Coupon, CouponKind, allocate, check_stacking, check_usable
from kiosk.domain.loyalty.errors import (
    CardExpired,
    CouponNotApplicable,
    InsufficientBalance,
    InvalidPhone,
    LoyaltyError,
    OfflineCapExceeded,
)
from kiosk.domain.loyalty.expiry import due_expiries, expire_entries, expiring_soon, lots
from kiosk.domain.loyalty.holidays import dragon_boat, holiday_bonus, mid_autumn, spring_festival
from kiosk.domain.loyalty.ledger import (
    BONUS,
    POINTS,
    PRINCIPAL,
    GivenBack,
    Kind,
    LedgerEntry,
    Stamp,
    balance,
    balances,
    chain,
    count_account,
    merge_entries,
    negative_balances,
    refund_reversals,
    verify_chain,
)
from kiosk.domain.loyalty.member_qr import InvalidMemberQr, read_member_qr, sign_member_qr
from kiosk.domain.loyalty.phone import mask_name, mask_phone, normalize_phone
from kiosk.domain.loyalty.points import (
    EarnContext,
    EarnLine,
    EarnResult,
    earn_points,
    redeem_quote,
    redeem_reward,
)
from kiosk.domain.loyalty.pricing import PricedCart, PricedLine, best_coupons, price_cart
from kiosk.domain.loyalty.risk import OfflineSpend, RiskDecision, Verdict, check_offline_spend
from kiosk.domain.loyalty.rules import LoyaltyRules
from kiosk.domain.loyalty.stored_value import Split, cash_out, spend, top_up
from kiosk.domain.loyalty.tiers import (
    TierState,
    birthday_gift,
    evaluate,
    qualifying_amount,
    tier_for,
    upgrade,
)

__all__ = [
    "BONUS",
    "POINTS",
    "PRINCIPAL",
    "CardExpired",
    "CountCard",
    "CountCardProduct",
    "Coupon",
    "CouponKind",
    "CouponNotApplicable",
    "EarnContext",
    "EarnLine",
    "EarnResult",
    "GivenBack",
    "InsufficientBalance",
    "InvalidMemberQr",
    "InvalidPhone",
    "Kind",
    "LedgerEntry",
    "LoyaltyError",
    "LoyaltyRules",
    "MemberPayment",
    "OfflineCapExceeded",
    "OfflineSpend",
    "PricedCart",
    "PricedLine",
    "RiskDecision",
    "Split",
    "Stamp",
    "TierState",
    "Verdict",
    "Visit",
    "allocate",
    "balance",
    "balances",
    "best_coupons",
    "birthday_gift",
    "cash_out",
    "chain",
    "check_offline_spend",
    "check_stacking",
    "check_usable",
    "check_visit",
    "count_account",
    "dragon_boat",
    "due_expiries",
    "earn_points",
    "evaluate",
    "expire_entries",
    "expiring_soon",
    "holiday_bonus",
    "lots",
    "mask_name",
    "mask_phone",
    "merge_entries",
    "mid_autumn",
    "negative_balances",
    "normalize_phone",
    "price_cart",
    "qualifying_amount",
    "read_member_qr",
    "redeem_quote",
    "redeem_reward",
    "refund_reversals",
    "sale_ledger",
    "sell_count_card",
    "sign_member_qr",
    "spend",
    "spring_festival",
    "tier_for",
    "top_up",
    "upgrade",
    "verify_chain",
]
