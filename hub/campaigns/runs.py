"""Campaigns on the hub: define, run (one coupon per targeted member, idempotent), audit.

The targeting and the coupon terms are pure rules in
:mod:`kiosk.domain.loyalty.campaigns`; this module reads the members, stores
the coupons and the runs, and writes the audit trail. Callers hold the
transaction (:func:`hub.db.transaction`), so a run issues all its coupons or none.
"""

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from peewee import Field, ModelSelect, fn
from pydantic import ValidationError

from hub.accounts import audit as owner_audit
from hub.members.feed import touch
from hub.members.models import Campaign, CampaignMember, CampaignRun, HubCoupon, HubMember, MemberTag
from hub.members.settings import member_birthday, settings
from kiosk.domain.loyalty import Coupon
from kiosk.domain.loyalty.campaigns import CampaignSpec, MemberFacts, in_holdout, is_targeted, issue_coupon
from kiosk.domain.loyalty.coupons import coupon_from_dict, coupon_to_dict


class CampaignError(Exception):
    """A campaign that cannot be run as asked; the message is bilingual."""


class CampaignOutOfReach(CampaignError):
    """A campaign that reaches members beyond the caller's stores: not theirs to see, edit or run."""


#: Every store: the owner's campaigns (and tokens') reach every member.
EVERY_STORE = None


def store_list(stores: frozenset[str] | None) -> str:
    """The ``Campaign.stores`` column for ``stores``: ``"S01,S02"``, or ``""`` for every store."""
    return "" if stores is None else ",".join(sorted(stores))


def campaign_stores(row: Campaign) -> frozenset[str] | None:
    """The stores whose members ``row`` may reach; None for every store."""
    return frozenset(row.stores.split(",")) if row.stores else EVERY_STORE


def within(campaign: frozenset[str] | None, caller: frozenset[str] | None) -> bool:
    """True when a caller seeing ``caller``'s stores (None: all) may see a campaign reaching ``campaign``."""
    return caller is None or (campaign is not None and campaign <= caller)


def check_reach(campaign_id: str, caller: frozenset[str] | None) -> None:
    """Raise CampaignError (no such campaign) or CampaignOutOfReach (beyond ``caller``'s stores)."""
    row = Campaign.get_or_none(Campaign.id == campaign_id)
    if row is None:
        raise CampaignError(f"no campaign {campaign_id} / 活动不存在")
    if not within(campaign_stores(row), caller):
        raise CampaignOutOfReach(
            f"campaign {campaign_id} reaches members beyond your stores / 该活动不属于您管理的门店"
        )


@dataclass(frozen=True)
class RunResult:
    """What one run did: members targeted, coupons newly issued (0 on a repeat run), held out.

    ``targeted`` counts the holdout group too: ``held_out`` of them got nothing, on purpose.
    """

    campaign_id: str
    targeted: int
    issued: int
    held_out: int = 0


def explain(exc: ValidationError, what: str = "campaign") -> str:
    """A validation error as one line per problem: ``where: what`` (messages are bilingual where ours)."""
    return "\n".join(
        f"{'.'.join(str(p) for p in e['loc']) or what}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    )


def create_campaign(
    spec: CampaignSpec,
    by: str,
    now: dt.datetime,
    campaign_id: str | None = None,
    stores: frozenset[str] | None = EVERY_STORE,
) -> str:
    """Store a new campaign reaching the members of ``stores`` (None: every store), audited; its id."""
    new_id = campaign_id or str(uuid.uuid4())
    if Campaign.get_or_none(Campaign.id == new_id) is not None:
        raise CampaignError(f"campaign {new_id} already exists / 活动编号已存在")
    Campaign.create(
        id=new_id,
        name_zh=spec.name_zh,
        name_en=spec.name_en,
        target_kind=spec.target.kind,
        spec=spec.model_dump_json(),
        created_at=now,
        created_by=by,
        stores=store_list(stores),
    )
    reach = {"stores": store_list(stores)} if stores is not None else {}  # a manager's: which stores
    owner_audit.record(
        by, "campaign.create", new_id, now, name_zh=spec.name_zh, target=spec.target.kind, **reach
    )
    return new_id


def campaign_spec(campaign_id: str) -> CampaignSpec:
    """The stored spec of ``campaign_id``; CampaignError when there is none."""
    row = Campaign.get_or_none(Campaign.id == campaign_id)
    if row is None:
        raise CampaignError(f"no campaign {campaign_id} / 活动不存在")
    return CampaignSpec.model_validate_json(row.spec)


def member_facts(tz: ZoneInfo, stores: frozenset[str] | None = EVERY_STORE) -> Iterator[MemberFacts]:
    """Every member of ``stores`` (None: all) a campaign may target (not merged away, not erased)."""
    tags: dict[str, set[str]] = {}
    for member_id, tag in MemberTag.select(MemberTag.member_id, MemberTag.tag).tuples():
        tags.setdefault(member_id, set()).add(tag)
    query = HubMember.select().where(HubMember.merged_into.is_null(), HubMember.erased_at.is_null())
    if stores is not None:
        query = query.where(HubMember.home_store.in_(sorted(stores)))
    for member in query.order_by(HubMember.id):
        birthday = member_birthday(member)
        yield MemberFacts(
            member_id=member.id,
            tier_code=member.tier_code,
            tags=frozenset(tags.get(member.id, ())),
            birth_month=birthday.month if birthday else None,
            registered_on=_local_day(member.created_at, tz),
        )


def _local_day(stamp: str, tz: ZoneInfo) -> dt.date | None:
    try:
        when = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(tz).date()


def run_campaign(campaign_id: str, by: str, now: dt.datetime, tz: ZoneInfo) -> RunResult:
    """Issue the campaign's coupon to every targeted member who has none from it yet; audited."""
    spec = campaign_spec(campaign_id)
    if spec.target.kind == "at_registration":
        raise CampaignError(
            "an at-registration campaign issues its coupon when a member registers "
            "/ 注册礼券在会员注册时自动发放，无需手动运行"
        )
    if spec.trigger != "manual":
        raise CampaignError(
            f"a {spec.trigger} campaign runs by itself every day / 该活动每天自动发放，无需手动运行"
        )
    row = Campaign.get_by_id(campaign_id)
    if not row.active:
        raise CampaignError(f"campaign {campaign_id} is paused: resume it first / 活动已暂停，请先启用")
    if spec.target.kind == "birthday_month" and settings.key is None:
        raise CampaignError(
            "birthdays need the business key (run hub device add) / 缺少数据密钥，无法读取生日"
        )
    today = now.astimezone(tz).date()
    reach = member_facts(tz, campaign_stores(row))
    targeted = [m.member_id for m in reach if is_targeted(spec.target, m, today)]
    receiving = assign_groups(campaign_id, spec, targeted, "", now)
    issued = _issue(campaign_id, spec, receiving, now)
    held_out = len(targeted) - len(receiving)
    CampaignRun.create(campaign_id=campaign_id, at=now, by=by, targeted=len(targeted), issued=issued)
    owner_audit.record(
        by, "campaign.run", campaign_id, now, targeted=len(targeted), issued=issued, held_out=held_out
    )
    return RunResult(campaign_id, len(targeted), issued, held_out)


def assign_groups(
    campaign_id: str, spec: CampaignSpec, member_ids: list[str], occasion: str, now: dt.datetime
) -> list[str]:
    """Record each member's group for this occasion (first time only); return those who receive.

    A member's group never changes: it is drawn by :func:`in_holdout` and kept in
    ``CampaignMember``, which the results page reads.
    """
    rows = []
    receiving = []
    for member_id in member_ids:
        held = in_holdout(campaign_id, member_id, spec.holdout_percent)
        rows.append(
            {
                "campaign_id": campaign_id,
                "member_id": member_id,
                "occasion": occasion,
                "group": "holdout" if held else "target",
                "at": now,
            }
        )
        if not held:
            receiving.append(member_id)
    for start in range(0, len(rows), 500):
        CampaignMember.insert_many(rows[start : start + 500]).on_conflict_ignore().execute()
    return receiving


def _issue(campaign_id: str, spec: CampaignSpec, member_ids: list[str], now: dt.datetime) -> int:
    """Insert the coupons not issued yet; return how many were new."""
    have = {
        m
        for (m,) in HubCoupon.select(HubCoupon.member_id).where(HubCoupon.campaign_id == campaign_id).tuples()
    }
    rows = []
    for member_id in member_ids:
        if member_id in have:
            continue
        coupon = issue_coupon(campaign_id, spec.coupon, member_id, now)
        rows.append(
            {
                "id": coupon.id,
                "campaign_id": campaign_id,
                "member_id": member_id,
                "body": json.dumps(coupon_to_dict(coupon), ensure_ascii=False),
                "issued_at": now,
            }
        )
    for start in range(0, len(rows), 500):  # keep each statement small on SQLite
        HubCoupon.insert_many(rows[start : start + 500]).on_conflict_ignore().execute()
    for row in rows:
        touch(row["member_id"])  # terminals get the coupon with the member
    return len(rows)


def issue_at_registration(member_id: str, now: dt.datetime) -> int:
    """Give a newly registered member the coupon of every active at-registration campaign reaching them."""
    issued = 0
    member = HubMember.get_or_none(HubMember.id == member_id)
    home = frozenset({(member.home_store or "") if member is not None else ""})
    query = Campaign.select().where(Campaign.target_kind == "at_registration", Campaign.active == True)  # noqa: E712
    for row in query.order_by(Campaign.created_at, Campaign.id):
        if not within(home, campaign_stores(row)):
            continue  # another store's welcome coupon
        spec = CampaignSpec.model_validate_json(row.spec)
        issued += _issue(row.id, spec, assign_groups(row.id, spec, [member_id], "", now), now)
    return issued


def member_coupons(member_id: str) -> list[Coupon]:
    """Coupons the hub issued to ``member_id`` (used ones flagged ``used``), oldest first."""
    rows = (
        HubCoupon.select().where(HubCoupon.member_id == member_id).order_by(HubCoupon.issued_at, HubCoupon.id)
    )
    return [_coupon(row) for row in rows]


def issued_coupons(coupon_ids: list[str]) -> dict[str, Coupon]:
    """The hub-issued coupons among ``coupon_ids``, by id."""
    if not coupon_ids:
        return {}
    return {row.id: _coupon(row) for row in HubCoupon.select().where(HubCoupon.id.in_(coupon_ids))}


def _coupon(row: HubCoupon) -> Coupon:
    coupon = coupon_from_dict(json.loads(row.body))
    if row.used_sale_id is None:
        return coupon
    return replace(coupon, used=True)


def set_active(campaign_id: str, active: bool, by: str, now: dt.datetime) -> None:
    """Switch a campaign on or off (an at-registration campaign issues only while on); audited."""
    campaign_spec(campaign_id)
    Campaign.update(active=active).where(Campaign.id == campaign_id).execute()
    owner_audit.record(by, "campaign.activate" if active else "campaign.pause", campaign_id, now)


def campaigns(caller: frozenset[str] | None = EVERY_STORE) -> list[dict[str, object]]:
    """The campaigns a caller seeing ``caller``'s stores may see, with their totals, newest first."""
    issued = dict(_count(HubCoupon.campaign_id, HubCoupon.select()))
    used = dict(
        _count(HubCoupon.campaign_id, HubCoupon.select().where(HubCoupon.used_sale_id.is_null(False)))
    )
    runs = dict(_count(CampaignRun.campaign_id, CampaignRun.select()))
    out = []
    for row in Campaign.select().order_by(Campaign.created_at.desc(), Campaign.id):
        if not within(campaign_stores(row), caller):
            continue
        spec = CampaignSpec.model_validate_json(row.spec)
        out.append(
            {
                "id": row.id,
                "name_zh": row.name_zh,
                "name_en": row.name_en,
                "active": row.active,
                "created_at": row.created_at,
                "created_by": row.created_by,
                "stores": sorted(campaign_stores(row) or ()),
                "spec": spec,
                "issued": issued.get(row.id, 0),
                "used": used.get(row.id, 0),
                "runs": runs.get(row.id, 0),
            }
        )
    return out


def _count(column: Field, query: ModelSelect) -> list[tuple[str, int]]:
    """(value of ``column``, rows) for the rows of ``query``."""
    return list(query.select(column, fn.COUNT("*")).group_by(column).tuples())


def runs(campaign_id: str) -> list[CampaignRun]:
    """The runs of one campaign, oldest first."""
    return list(CampaignRun.select().where(CampaignRun.campaign_id == campaign_id).order_by(CampaignRun.id))
