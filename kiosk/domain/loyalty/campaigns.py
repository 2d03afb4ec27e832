"""Campaigns (营销活动): which members a campaign targets, and the coupon each of them gets.

A campaign is a coupon template plus a target. Running it gives every targeted
member one coupon whose id is derived from the campaign and the member
(:func:`coupon_id`), so running it again finds the same ids and issues nothing
new. Pure: the day, the time of issue and the member facts come in as arguments.
"""

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kiosk.domain.loyalty.coupons import Coupon, CouponKind

# uuid5 namespace of campaign coupons; fixed forever so ids stay stable across hubs and runs.
COUPON_NAMESPACE = uuid.UUID("6f1d3a52-8c9e-4b7a-9d2e-1c4f5a6b7c8d")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CouponTemplate(_Model):
    """The terms every coupon of a campaign carries (券模板).

    The validity window is either fixed (``valid_from``/``valid_until``) or
    ``valid_days`` from the moment the coupon is issued (e.g. a welcome coupon).
    """

    kind: CouponKind = Field(description="threshold (满减), percent, item_discount, free_item, buy_n_get_m")
    name_zh: str = Field(min_length=1, max_length=40, description="shown at the kiosk and on receipts")
    name_en: str = Field(default="", max_length=60)
    min_spend_fen: int = Field(default=0, ge=0, description="threshold the covered lines must reach")
    off_fen: int = Field(default=0, ge=0, description="满减 amount, or per-unit item discount")
    percent_off: int = Field(default=0, ge=0, le=100, description="10 means 10% off (九折)")
    max_off_fen: int = Field(default=0, ge=0, description="cap of a percent coupon; 0: no cap")
    skus: frozenset[str] = Field(default_factory=frozenset, description="products it acts on (empty: all)")
    categories: frozenset[str] = Field(default_factory=frozenset, description="categories it acts on")
    free_quantity: int = Field(default=1, ge=1, description="free units of a 赠品券")
    buy: int = Field(default=0, ge=0, description="N of 买N送M")
    get: int = Field(default=0, ge=0, description="M of 买N送M")
    exclusive: bool = Field(default=False, description="may not be combined with any other coupon")
    valid_from: dt.datetime | None = Field(default=None, description="fixed window start (inclusive)")
    valid_until: dt.datetime | None = Field(default=None, description="fixed window end (exclusive)")
    valid_days: int = Field(default=0, ge=0, le=3660, description="or: valid this many days from issue")

    @model_validator(mode="after")
    def _consistent(self) -> "CouponTemplate":
        fixed = self.valid_from is not None and self.valid_until is not None
        if fixed == bool(self.valid_days) or (self.valid_from is None) != (self.valid_until is None):
            raise ValueError("give valid_from and valid_until, or valid_days (not both) / 请设置有效期")
        if fixed and self.valid_until <= self.valid_from:  # type: ignore[operator]
            raise ValueError("valid_until must be after valid_from / 结束时间须晚于开始时间")
        needs = {
            CouponKind.THRESHOLD: self.off_fen > 0,
            CouponKind.PERCENT: self.percent_off > 0,
            CouponKind.ITEM_DISCOUNT: self.off_fen > 0 or self.percent_off > 0,
            CouponKind.FREE_ITEM: bool(self.skus or self.categories),
            CouponKind.BUY_N_GET_M: self.buy > 0 and self.get > 0,
        }
        if not needs[self.kind]:
            raise ValueError(f"a {self.kind} coupon needs {_NEEDS[self.kind]}")
        return self


_NEEDS = {
    CouponKind.THRESHOLD: "off_fen > 0 / 满减金额",
    CouponKind.PERCENT: "percent_off > 0 / 折扣",
    CouponKind.ITEM_DISCOUNT: "off_fen or percent_off / 单品优惠",
    CouponKind.FREE_ITEM: "skus or categories / 赠品",
    CouponKind.BUY_N_GET_M: "buy > 0 and get > 0 / 买N送M",
}

TargetKind = Literal["all", "tier", "tag", "birthday_month", "registered_within", "at_registration"]


class Target(_Model):
    """Who gets the coupon (目标会员).

    ``at_registration`` campaigns are not run by hand: the hub issues their
    coupon when a member registers while the campaign is active.
    """

    kind: TargetKind = Field(description="all, tier, tag, birthday_month, registered_within, at_registration")
    tier: str = Field(default="", description="tier code, for kind=tier")
    tag: str = Field(default="", description="tag, for kind=tag")
    month: int = Field(default=0, ge=0, le=12, description="1-12, for kind=birthday_month")
    days: int = Field(default=0, ge=0, description="registered within this many days, for registered_within")

    @model_validator(mode="after")
    def _complete(self) -> "Target":
        missing = {
            "tier": not self.tier,
            "tag": not self.tag,
            "birthday_month": not self.month,
            "registered_within": not self.days,
        }.get(self.kind, False)
        if missing:
            raise ValueError(f"target {self.kind} needs its value / 请填写目标条件")
        return self


TriggerKind = Literal["manual", "birthday", "anniversary", "holiday", "winback", "near_tier", "thank_you"]


class CampaignSpec(_Model):
    """A campaign as the owner defines it.

    ``trigger`` says when: ``manual`` campaigns are run by the owner; the others run by
    themselves every day (``hub.jobs``) for the members the day concerns, within ``target``:
    ``birthday`` and ``anniversary`` (入会纪念日) ``days_before`` the date, once a year;
    ``holiday`` ``days_before`` the holiday (``holiday_calendar``/``holiday_month``/``holiday_day``,
    lunar dates through the holiday calendar), once a year; ``winback`` when a member is dormant
    by their own visit rhythm and the owner's thresholds (:mod:`kiosk.domain.loyalty.rhythm`, the
    members page's rule), once per absence; ``near_tier``
    when the member is within ``near_percent`` % of the next tier's threshold, once per tier and
    year; ``thank_you`` the day after a visit, once per visit day.
    ``holdout_percent`` of the members (chosen at random, the same ones on every run) get nothing,
    so the results page can compare.
    """

    name_zh: str = Field(min_length=1, max_length=40)
    name_en: str = Field(default="", max_length=60)
    coupon: CouponTemplate
    target: Target
    trigger: TriggerKind = Field(default="manual", description="when the campaign issues by itself")
    holdout_percent: int = Field(default=10, ge=0, le=50, description="share kept as a control group")
    days_before: int = Field(default=0, ge=0, le=60, description="issue this many days before the date")
    holiday_calendar: Literal["solar", "lunar"] = Field(default="solar")
    holiday_month: int = Field(default=0, ge=0, le=12)
    holiday_day: int = Field(default=0, ge=0, le=31)
    # kept so campaigns saved before the owner's stored thresholds still load; not read any more
    dormant_factor: int = Field(
        default=3, ge=2, le=10, description="unused: the hub's rhythm thresholds decide"
    )
    near_percent: int = Field(default=10, ge=1, le=50, description="within this % of the next tier")
    greeting_zh: str = Field(default="", max_length=200, description="message sent with the coupon")
    greeting_en: str = Field(default="", max_length=300)

    @model_validator(mode="after")
    def _holiday_date(self) -> "CampaignSpec":
        if self.trigger == "holiday" and not (self.holiday_month and self.holiday_day):
            raise ValueError("a holiday campaign needs holiday_month and holiday_day / 请填写节日日期")
        if self.trigger != "manual" and self.target.kind == "at_registration":
            raise ValueError("a welcome campaign is issued at registration / 注册礼券无需定时发放")
        return self


def in_holdout(campaign_id: str, member_id: str, percent: int) -> bool:
    """True when ``member_id`` is in the campaign's holdout group (a fixed random share ``percent``).

    The draw is a hash of campaign and member, so it is random across members yet the same on
    every run and every hub: a held-out member never receives this campaign.
    """
    digest = hashlib.sha256(f"holdout/{campaign_id}/{member_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10000 < percent * 100


@dataclass(frozen=True)
class MemberFacts:
    """What targeting needs to know about one member."""

    member_id: str
    tier_code: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)
    birth_month: int | None = None
    registered_on: dt.date | None = None


def is_targeted(target: Target, member: MemberFacts, today: dt.date) -> bool:
    """True when ``member`` is one the ``target`` means on ``today``.

    ``registered_within`` days counts today as day 0: with 7, members who
    registered from ``today - 7 days`` through today are in.
    """
    if target.kind in ("all", "at_registration"):
        return True
    if target.kind == "tier":
        return member.tier_code == target.tier
    if target.kind == "tag":
        return target.tag in member.tags
    if target.kind == "birthday_month":
        return member.birth_month == target.month
    return member.registered_on is not None and (today - member.registered_on).days <= target.days


def coupon_id(campaign_id: str, member_id: str) -> str:
    """The id of the coupon ``campaign_id`` gives ``member_id``: the same on every run."""
    return str(uuid.uuid5(COUPON_NAMESPACE, f"{campaign_id}/{member_id}"))


def issue_coupon(campaign_id: str, template: CouponTemplate, member_id: str, now: dt.datetime) -> Coupon:
    """The coupon ``member_id`` gets from the campaign, issued at ``now``."""
    if template.valid_days:
        start, end = now, now + dt.timedelta(days=template.valid_days)
    else:
        start, end = template.valid_from, template.valid_until  # type: ignore[assignment]
    return Coupon(
        id=coupon_id(campaign_id, member_id),
        kind=template.kind,
        name_zh=template.name_zh,
        valid_from=start,
        valid_until=end,
        min_spend_fen=template.min_spend_fen,
        off_fen=template.off_fen,
        percent_off=template.percent_off,
        max_off_fen=template.max_off_fen,
        skus=template.skus,
        categories=template.categories,
        free_quantity=template.free_quantity,
        buy=template.buy,
        get=template.get,
        single_use=True,
        exclusive=template.exclusive,
        member_id=member_id,
    )
