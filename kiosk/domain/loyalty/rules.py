"""The owner's loyalty configuration as typed models that reject typos.

Every multiplier and share is an integer percent (``150`` means ×1.5), so no
float ever enters a points or money computation. The hub sends these models to
each terminal inside the config; the terminal and the hub compute with the
same values.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EarnRule(_Rule):
    """How purchases turn into points (积分规则)."""

    mode: Literal["per_yuan", "percent"] = Field(
        default="per_yuan",
        description="per_yuan: points_per_yuan points for each yuan; "
        "percent: percent% of the amount in yuan, as points",
    )
    points_per_yuan: int = Field(default=1, ge=0, description="points per yuan paid (per_yuan mode)")
    percent: int = Field(default=0, ge=0, le=1000, description="points as a percent of yuan paid")
    category_multipliers: dict[str, int] = Field(
        default_factory=dict, description="category -> multiplier percent (200 = double)"
    )
    product_multipliers: dict[str, int] = Field(
        default_factory=dict, description="sku -> multiplier percent; wins over the category"
    )
    excluded_categories: frozenset[str] = Field(
        default_factory=frozenset, description="categories that never earn (e.g. tobacco)"
    )
    excluded_skus: frozenset[str] = Field(default_factory=frozenset, description="products that never earn")
    birthday_multiplier: int = Field(default=100, ge=0, description="percent in the birthday month")
    bonus_stacking: Literal["highest", "multiply"] = Field(
        default="highest",
        description="birthday and holiday multipliers: take the highest, or multiply them",
    )


class HolidayRule(_Rule):
    """A day (or run of days) with a points multiplier (节日多倍积分)."""

    name_zh: str = Field(description="shown on the receipt, e.g. 春节")
    calendar: Literal["solar", "lunar"] = Field(description="month/day in which calendar")
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    days: int = Field(default=1, ge=1, le=31, description="how many days from the start date")
    multiplier: int = Field(default=200, ge=0, description="percent, 200 = double points")


class RedeemRule(_Rule):
    """Paying with points (积分抵现)."""

    points_per_yuan: int = Field(default=100, ge=1, description="points worth one yuan")
    max_share_percent: int = Field(default=50, ge=0, le=100, description="most of a sale payable")
    min_points: int = Field(default=0, ge=0, description="smallest redemption allowed")


class Reward(_Rule):
    """An item in the reward catalogue (积分商城)."""

    id: str = Field(min_length=1, max_length=40, description="stable id; the ledger names it (reward:<id>)")
    name_zh: str = Field(min_length=1, max_length=40, description="shown at the terminal, e.g. 保温杯")
    name_en: str = Field(default="", max_length=60, description="English name; the Chinese name when empty")
    points: int = Field(ge=1, description="points one of it costs")
    sku: str = Field(default="", description="the product handed over, if any")


class CountCardKind(_Rule):
    """A count card (次卡) the terminal sells: ``visits`` of the ``services`` for ``price_fen``."""

    sku: str = Field(min_length=1, max_length=40, description="the card's sale line sku, e.g. wash10")
    name_zh: str = Field(min_length=1, max_length=40, description="shown at the terminal, e.g. 洗车10次卡")
    name_en: str = Field(default="", max_length=60, description="English name; the Chinese name when empty")
    visits: int = Field(ge=1, le=1000, description="visits the card holds")
    price_fen: int = Field(ge=1, description="what the card costs, in fen")
    valid_months: int = Field(default=12, ge=1, le=120, description="valid this many months from the sale")
    valid_days: int = Field(
        default=0, ge=0, le=3660, description="valid this many days from the sale; 0: valid_months decides"
    )
    services: tuple[str, ...] = Field(
        default=(), description="service skus one visit covers; empty: the card's own sku"
    )
    stores: tuple[str, ...] = Field(default=(), description="the stores that sell it; empty: every store")

    def sold_at(self, store: str) -> bool:
        """Whether a terminal of ``store`` offers this card."""
        return not self.stores or store in self.stores


class ExpiryRule(_Rule):
    """When earned points expire (积分有效期)."""

    months: int = Field(default=0, ge=0, description="months after earning; 0 = never")
    remind_days: int = Field(default=30, ge=0, description="remind this many days before")


class Tier(_Rule):
    """One member tier (会员等级) and its benefits."""

    code: str
    name_zh: str
    name_en: str = Field(default="", description="English name; the Chinese name when empty")
    threshold: int = Field(ge=0, description="points, or fen of spend, in the window")
    discount_percent: int = Field(default=0, ge=0, le=100, description="member price: percent off")
    points_multiplier: int = Field(default=100, ge=0, description="percent, 150 = ×1.5")
    birthday_gift_points: int = Field(default=0, ge=0)


class TierRule(_Rule):
    """How tiers are earned and kept (升降级规则)."""

    basis: Literal["points", "spend"] = "spend"
    window_months: int = Field(default=12, ge=1, description="rolling window that counts")
    tiers: tuple[Tier, ...] = Field(min_length=1, description="lowest first; first is 0")
    evaluation_months: frozenset[int] = Field(
        default=frozenset({1}), description="months whose first day is an evaluation date"
    )
    grace_days: int = Field(default=30, ge=0, description="保级期 before a downgrade takes effect")

    @model_validator(mode="after")
    def _ascending(self) -> "TierRule":
        thresholds = [t.threshold for t in self.tiers]
        if thresholds != sorted(set(thresholds)) or thresholds[0] != 0:
            raise ValueError("tiers must start at threshold 0 and strictly ascend")
        return self


class BonusTier(_Rule):
    """Top up at least ``min_fen`` and get ``bonus_fen`` (充100送20)."""

    min_fen: int = Field(ge=1)
    bonus_fen: int = Field(ge=0)


class StoredValueRule(_Rule):
    """Stored value (储值) top-up bonuses, spending order and refunds."""

    bonus_tiers: tuple[BonusTier, ...] = ()
    spend_order: Literal["principal_first", "bonus_first", "proportional"] = "principal_first"
    refund_deducts_used_bonus: bool = Field(
        default=True, description="cashing out deducts bonus money already spent"
    )


class RiskCap(_Rule):
    """What one member may spend on one terminal while the hub is unreachable."""

    offline_points: int = Field(default=2000, ge=0)
    offline_stored_value_fen: int = Field(default=20000, ge=0)


class RegistrationCoupon(_Rule):
    """The coupon a new member gets on joining (满减): e.g. 新会员满20减3, valid 30 days."""

    name_zh: str = Field(description="shown on the screen and receipt, e.g. 新会员满20减3")
    min_spend_fen: int = Field(default=0, ge=0, description="threshold in fen (0: any sale)")
    off_fen: int = Field(ge=1, description="fen off")
    valid_days: int = Field(default=30, ge=1, description="days from joining")


class LoyaltyRules(_Rule):
    """Everything the owner configures for loyalty, as one versioned block."""

    @model_validator(mode="after")
    def _unique_rewards(self) -> "LoyaltyRules":
        ids = [reward.id for reward in self.rewards]
        if len(ids) != len(set(ids)):
            raise ValueError("reward ids must be unique")
        skus = [kind.sku for kind in self.count_cards]
        if len(skus) != len(set(skus)):
            raise ValueError("count card skus must be unique")
        return self

    earn: EarnRule = EarnRule()
    holidays: tuple[HolidayRule, ...] = ()
    redeem: RedeemRule = RedeemRule()
    rewards: tuple[Reward, ...] = Field(default=(), description="the reward list (积分商城), ids unique")
    count_cards: tuple[CountCardKind, ...] = Field(
        default=(), description="the count cards (次卡) an attendant sells, skus unique"
    )
    expiry: ExpiryRule = ExpiryRule()
    tiers: TierRule = TierRule(tiers=(Tier(code="normal", name_zh="普通会员", threshold=0),))
    stored_value: StoredValueRule = StoredValueRule()
    risk: RiskCap = RiskCap()
    registration_coupon: RegistrationCoupon | None = Field(
        default=None, description="the coupon a member gets on joining; none when unset"
    )
