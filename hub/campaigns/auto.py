"""Automatic campaigns: every active campaign with a trigger issues, each day, to the members
the day concerns (birthday, 入会纪念日, a holiday, a dormant member, near the next tier, the day
after a visit), once per member and occasion, keeping its holdout group.

The ``campaigns`` job (:mod:`hub.jobs.catalog`) calls :func:`run_automatic` once a day; the
rules of when are pure (:mod:`kiosk.domain.loyalty.triggers`).
"""

import datetime as dt
import json
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from hub.campaigns.runs import assign_groups, campaign_stores, member_facts
from hub.jobs import settings as job_settings
from hub.jobs.settings import thresholds as rhythm_thresholds
from hub.members.book import member_balances
from hub.members.feed import touch_many
from hub.members.models import Campaign, CampaignMember, HubCoupon, HubMember, MemberSale
from hub.members.settings import member_birthday, settings
from hub.messaging import queue as messages
from hub.messaging import templates
from kiosk.domain.loyalty import POINTS, Coupon
from kiosk.domain.loyalty.campaigns import CampaignSpec, is_targeted, issue_coupon
from kiosk.domain.loyalty.coupons import coupon_from_dict, coupon_to_dict
from kiosk.domain.loyalty.tiers import qualifying_amount
from kiosk.domain.loyalty.triggers import MemberHistory, occasion


@dataclass(frozen=True)
class AutoResult:
    """One day's automatic campaigns: campaigns run, members concerned, held out, coupons issued."""

    campaigns: int
    concerned: int
    held_out: int
    issued: int
    messages: int


def histories(today: dt.date, tz: ZoneInfo) -> dict[str, MemberHistory]:
    """Every campaign-eligible member's dates, visit days and tier amount, by member id."""
    rule = settings.rules.tiers
    column = MemberSale.paid_fen if rule.basis == "spend" else MemberSale.points
    sales: dict[str, list[tuple[dt.date, int]]] = {}
    query = MemberSale.select(MemberSale.member_id, MemberSale.day, column).where(
        MemberSale.day <= today.isoformat()
    )
    for member_id, day, amount in query.tuples():
        sales.setdefault(member_id, []).append((dt.date.fromisoformat(day), int(amount)))
    found = {}
    for facts in member_facts(tz):
        mine = sales.get(facts.member_id, [])
        found[facts.member_id] = MemberHistory(
            member_id=facts.member_id,
            birthday=None,  # read below only for birthday campaigns: decrypting costs
            registered_on=facts.registered_on,
            visits=tuple(sorted({day for day, _ in mine})),
            tier_amount=qualifying_amount(mine, today, rule),
        )
    return found


def run_automatic(now: dt.datetime, tz: ZoneInfo) -> AutoResult:
    """Run every active automatic campaign for ``now``'s day; inside the caller's transaction."""
    today = now.astimezone(tz).date()
    rows = Campaign.select().where(Campaign.active == True).order_by(Campaign.created_at, Campaign.id)  # noqa: E712
    automatic = [(row, CampaignSpec.model_validate_json(row.spec)) for row in rows]
    automatic = [(row, spec) for row, spec in automatic if spec.trigger != "manual"]
    if not automatic:
        return AutoResult(0, 0, 0, 0, welcome_messages(now, tz))
    facts = {f.member_id: f for f in member_facts(tz)}
    known = histories(today, tz)
    birthdays: dict[str, dt.date | None] = {}
    rhythm = rhythm_thresholds()  # the members page's thresholds: one rule for "dormant"
    concerned = held_out = issued = sent = 0
    for row, spec in automatic:
        due: dict[str, list[str]] = {}  # occasion -> members
        stores = campaign_stores(row)
        reach = facts if stores is None else {f.member_id for f in member_facts(tz, stores)}
        for member_id, history in known.items():
            if member_id not in reach or not is_targeted(spec.target, facts[member_id], today):
                continue
            if spec.trigger == "birthday":
                if member_id not in birthdays:
                    birthdays[member_id] = member_birthday(HubMember.get_by_id(member_id))
                history = MemberHistory(**{**history.__dict__, "birthday": birthdays[member_id]})
            key = occasion(spec, history, today, settings.rules.tiers, rhythm)
            if key is not None:
                due.setdefault(key, []).append(member_id)
        for key, member_ids in due.items():
            seen = {
                m
                for (m,) in CampaignMember.select(CampaignMember.member_id)
                .where(CampaignMember.campaign_id == row.id, CampaignMember.occasion == key)
                .tuples()
            }
            fresh = [m for m in member_ids if m not in seen]
            receiving = assign_groups(row.id, spec, fresh, key, now)
            concerned += len(fresh)
            held_out += len(fresh) - len(receiving)
            issued += _issue_many(row.id, spec, key, receiving, now)
            for member_id in receiving:
                coupon = issue_coupon(f"{row.id}/{key}", spec.coupon, member_id, now)
                texts = campaign_texts(spec, spec.trigger, member_id, coupon, tz)
                sent += messages.queue_rendered(member_id, f"campaign:{row.id}", key, texts, now)
    sent += welcome_messages(now, tz)
    return AutoResult(len(automatic), concerned, held_out, issued, sent)


WELCOME_DAYS = 2  # a welcome coupon issued since the day before yesterday still gets its message


def campaign_texts(
    spec: CampaignSpec, kind: str, member_id: str, coupon: Coupon, tz: ZoneInfo
) -> dict[str, templates.Rendered]:
    """The message per channel that goes with ``coupon``: the campaign's own greeting when it has
    one (as before templates), else the owner's template of ``kind`` (the built-in default)."""
    if spec.greeting_zh:
        own = templates.Rendered(spec.name_zh, spec.name_en, spec.greeting_zh, spec.greeting_en, 0)
        return dict.fromkeys(messages.CHANNELS, own)
    last_day = (coupon.valid_until - dt.timedelta(microseconds=1)).astimezone(tz).date()
    facts = templates.Facts(
        name=messages.masked_name(member_id),
        offer_zh=spec.coupon.name_zh,
        offer_en=spec.coupon.name_en,
        points=member_balances(member_id).get(POINTS, 0),
        expiry=last_day,
    )
    shop, store = job_settings.get("shop_name"), messages.home_store(member_id)
    return {c: templates.compose(kind, c, facts, shop, store=store) for c in messages.CHANNELS}


def welcome_messages(now: dt.datetime, tz: ZoneInfo) -> int:
    """Queue the welcome message of each welcome coupon (an at-registration campaign's) issued in
    the last :data:`WELCOME_DAYS` days, once: the marketing answer reaches the hub after the
    coupon is issued, so the message waits for the day's run."""
    welcome = {
        row.id: CampaignSpec.model_validate_json(row.spec)
        for row in Campaign.select().where(Campaign.target_kind == "at_registration")
    }
    if not welcome:
        return 0
    rows = (
        HubCoupon.select()
        .where(
            HubCoupon.campaign_id.in_(list(welcome)),
            HubCoupon.issued_at >= now - dt.timedelta(days=WELCOME_DAYS),
        )
        .order_by(HubCoupon.issued_at, HubCoupon.id)
    )
    queued = 0
    for row in rows:
        spec = welcome[row.campaign_id]
        coupon = coupon_from_dict(json.loads(row.body))
        texts = campaign_texts(spec, "welcome", row.member_id, coupon, tz)
        queued += messages.queue_rendered(row.member_id, f"campaign:{row.campaign_id}", "welcome", texts, now)
    return queued


def _issue_many(
    campaign_id: str, spec: CampaignSpec, key: str, member_ids: list[str], now: dt.datetime
) -> int:
    """Issue the occasion's coupon (id from campaign, occasion and member) to each; return how many were new.

    Rows go in 500 at a time and the members' versions move in one counter update (``touch_many``):
    the job holds the write lock for seconds, not minutes, at thousands of members (docs/perf.md).
    """
    # the coupon says which trigger issued it: a terminal greets a dormant member with it at the tap
    coupons = [
        replace(issue_coupon(f"{campaign_id}/{key}", spec.coupon, m, now), occasion=spec.trigger)
        for m in member_ids
    ]
    have: set[str] = set()
    ids = [c.id for c in coupons]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        have.update(i for (i,) in HubCoupon.select(HubCoupon.id).where(HubCoupon.id.in_(chunk)).tuples())
    rows = [
        {
            "id": c.id,
            "campaign_id": campaign_id,
            "member_id": c.member_id,
            "body": json.dumps(coupon_to_dict(c), ensure_ascii=False),
            "issued_at": now,
        }
        for c in coupons
        if c.id not in have
    ]
    for start in range(0, len(rows), 500):
        HubCoupon.insert_many(rows[start : start + 500]).on_conflict_ignore().execute()
    touch_many(sorted({r["member_id"] for r in rows}))  # terminals get the coupon with the member
    return len(rows)
