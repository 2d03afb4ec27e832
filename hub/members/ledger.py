"""The hub's side of loyalty: apply member and ledger events, re-check, reconcile, merge.

The hub keeps every terminal's ledger entries as they were written and never
edits them. It re-applies the earn rule to each member sale, checks each
device's ledger hash chain, watches single-use coupons and balances, and
records every disagreement as a :class:`Reconciliation` item for the owner.
Duplicate members (one phone registered offline in two stores) are merged
with paired ledger entries, and the merge is audited.

Called from :mod:`hub.ingest.batch` inside the event's own transaction, so an
event's loyalty effects commit or roll back with the event itself.
"""

import datetime as dt
import functools
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo

from hub.campaigns import runs as campaigns
from hub.errors import Rejected
from hub.members import coupon_terms, details, rotation
from hub.members.book import (
    confirm_tier,
    erase_member,
    evaluate_tiers,
    member_balances,
    member_entries,
    merge_members,
    move_ledger_head,
    open_items,
    resolve,
    store_entries,
)
from hub.members.feed import touch
from hub.members.models import (
    CouponUse,
    HubCard,
    HubLedgerEntry,
    HubLedgerHead,
    HubMember,
    IssuedCoupon,
    MemberSale,
    Reconciliation,
)
from hub.members.settings import configure, member_birthday, settings
from hub.messaging import queue as messages
from hub.rules import store as rules_store
from kiosk.domain.loyalty import (
    BONUS,
    POINTS,
    EarnContext,
    EarnLine,
    Kind,
    LedgerEntry,
    LoyaltyRules,
    earn_points,
)
from kiosk.domain.loyalty.ledger import GENESIS, entry_hash
from kiosk.domain.loyalty.points import points_value_fen
from kiosk.domain.loyalty.rules import RedeemRule
from kiosk.domain.loyalty.tiers import tier_by_code

log = logging.getLogger(__name__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _reconcile(kind: str, **fields: Any) -> None:
    Reconciliation.create(kind=kind, found_at=_now(), **fields)


def _rejected(reason: str) -> Exception:

    return Rejected(reason)


Effect = Callable[[dict[str, Any], ZoneInfo], None]


def _rejecting(effect: Effect) -> Effect:
    """Turn malformed event data into a rejection (quarantine) instead of an ingest crash."""

    @functools.wraps(effect)
    def run(event: dict[str, Any], tz: ZoneInfo) -> None:
        try:
            effect(event, tz)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _rejected(f"{event.get('type')} data is malformed: {exc!r}") from exc

    return run


@_rejecting
def on_member_registered(event: dict[str, Any], tz: ZoneInfo) -> None:
    """Book a terminal's registration (consent, PIN hash and welcome coupon included); merge it
    into an earlier member with the same phone, who keeps their PIN unless they had none."""
    try:
        fields = dict(event["data"]["member"])
        member_id = fields["id"]
    except (KeyError, TypeError) as exc:
        raise _rejected(f"member.registered data is incomplete: {exc!r}") from exc
    if HubMember.get_or_none(HubMember.id == member_id) is not None:
        return
    wrapped = str(fields.pop("data_key", "") or "")  # already in the key store (raw_copies.keep_data_key)
    key = settings.key
    if wrapped and settings.key_store is None:
        if key is None:  # neither a key store nor a key: nobody will read this member's fields
            log.warning("member %s: no member key store and no business key: data key not kept", member_id)
        else:
            fields = rotation.under_business_key(fields, key.with_data_keys({member_id: wrapped}.get))
    # a terminal not yet on the current business key registers under the older one: stored under
    # the current key, and matched to an earlier member by the phone under either key
    fields, indexes = rotation.to_current_key(fields, key)
    known = {f.name for f in HubMember._meta.sorted_fields}
    HubMember.create(**{k: v for k, v in fields.items() if k in known})
    coupon = event["data"].get("coupon")
    if coupon:
        IssuedCoupon.insert(
            id=coupon["id"],
            member_id=member_id,
            body=json.dumps(coupon, ensure_ascii=False, sort_keys=True),
            device=event["device"],
            issued_at=fields["created_at"],
        ).on_conflict_ignore().execute()
    touch(member_id)
    earlier = (
        HubMember.select()
        .where(
            HubMember.phone_index.in_(indexes),
            HubMember.id != member_id,
            HubMember.merged_into.is_null(),
        )
        .order_by(HubMember.created_at, HubMember.id)
        .first()
    )
    if earlier is not None:
        merge_members(earlier.id, member_id, _now(), by="auto: same phone")
        IssuedCoupon.update(member_id=earlier.id).where(IssuedCoupon.member_id == member_id).execute()
        if not earlier.pin_hash and fields.get("pin_hash"):
            HubMember.update(pin_hash=fields["pin_hash"]).where(HubMember.id == earlier.id).execute()
    else:
        campaigns.issue_at_registration(member_id, dt.datetime.fromisoformat(event["ts"]))
    marketing = event["data"].get("marketing_consent")
    if isinstance(marketing, dict) and isinstance(marketing.get("granted"), bool):
        # the member's separate answer to marketing messages, asked when they joined at the kiosk
        messages.set_consent(
            earlier.id if earlier is not None else member_id,
            marketing["granted"],
            str(marketing.get("version", "")),
            str(marketing.get("where", "")),
            "member",
            dt.datetime.fromisoformat(str(marketing.get("at") or event["ts"])),
            lang=marketing.get("lang") if marketing.get("lang") in ("zh", "en") else None,
        )


@_rejecting
def on_card_linked(event: dict[str, Any], tz: ZoneInfo) -> None:
    """Book a card link; a card already held by someone else is reported, not moved."""
    data = event["data"]
    card = HubCard.get_or_none(HubCard.uid == data["uid"])
    if card is None:
        HubCard.create(
            uid=data["uid"],
            member_id=data["member_id"],
            kind=data.get("kind", "nfc"),
            linked_at=data["linked_at"],
        )
        touch(data["member_id"])
    elif resolve(card.member_id) != resolve(data["member_id"]):
        _reconcile(
            "card_conflict",
            member_id=data["member_id"],
            device=event["device"],
            detail=f"card {data['uid']} already belongs to {card.member_id}",
        )


@_rejecting
def on_ledger_adjusted(event: dict[str, Any], tz: ZoneInfo) -> None:
    """Book top-ups, adjustments, refunds, expiries and rewards sent by a terminal; a reward is
    re-checked against the owner's reward list of the rules version the terminal ran."""
    entries = record_entries(event, event["data"].get("entries", []))
    reward = event["data"].get("reward")
    if reward is not None:
        _check_reward(event, entries, reward)


def _check_reward(event: dict[str, Any], entries: list[LedgerEntry], reward: dict[str, Any]) -> None:
    """A ``reward_mismatch`` item unless the reward is on the list of the stated rules version (the
    current rules for version 0: a terminal on its built-in defaults) and the points spent are its
    price times the quantity."""
    rules_store.refresh()
    version = int(reward["rules_version"])
    rules = rules_store.rules_of_version(version) if version else settings.rules
    listed = {r.id: r for r in rules.rewards} if rules is not None else {}
    spent = -sum(e.amount for e in entries if e.kind == Kind.REDEEM and e.account == POINTS)
    quantity = int(reward["quantity"])
    offered = listed.get(str(reward["id"]))
    expected = offered.points * quantity if offered is not None else 0
    if offered is None or expected != spent or quantity < 1:
        member_id = entries[0].member_id if entries else ""
        why = "not on the reward list" if offered is None else f"costs {offered.points} points each"
        _reconcile(
            "reward_mismatch",
            member_id=member_id,
            device=event["device"],
            expected=expected,
            got=spent,
            detail=f"reward {reward['id']} x {quantity} ({why}, rules version {version}): "
            f"{spent} points spent",
        )


@_rejecting
def on_sale_completed(event: dict[str, Any], tz: ZoneInfo) -> None:
    """For a member sale: book its entries, re-check the points earned, watch its coupons.

    A sale that names its ``rules_version`` is re-checked with exactly that version; one naming
    a version the hub does not have is a ``rules_unknown`` item (booked, points not judged).
    """
    data = event["data"]
    member_id = data.get("member_id")
    if not member_id:
        return
    entries = record_entries(event, data.get("ledger", []))
    got = sum(e.amount for e in entries if e.kind == Kind.EARN)
    rules_store.refresh()
    stated = data.get("rules_version")
    redeem: RedeemRule | None = settings.rules.redeem
    if stated is None:  # an older terminal: the rules it may have run (docs/loyalty.md)
        candidates = rules_store.candidates_for_sale(event["device"], event["ts"])
    else:
        exact = rules_store.rules_of_version(int(stated))
        candidates, redeem = ([exact], exact.redeem) if exact is not None else ([], None)
    if not candidates:
        _reconcile(
            "rules_unknown",
            member_id=member_id,
            sale_id=data["sale_id"],
            device=event["device"],
            detail=f"priced under rules version {stated}, which the hub does not have; points not checked",
        )
    else:
        _check_earn(event, entries, tz, candidates, got)
    if redeem is not None:
        _check_redeem(event, entries, redeem)
    coupon_terms.recheck_sale(event, _now())
    for coupon_id in data.get("coupons", []):
        _use_coupon(coupon_id, data["sale_id"], event, member_id)
    day = dt.datetime.fromisoformat(event["ts"]).astimezone(tz).date()
    MemberSale.create(
        sale_id=data["sale_id"],
        member_id=resolve(member_id),
        day=day.isoformat(),
        paid_fen=int(data["total_fen"]),
        points=got,
    )
    confirmed = confirm_tier(resolve(member_id), day)
    claimed = data.get("tier")
    if claimed and claimed != confirmed:
        _reconcile(
            "tier_mismatch",
            member_id=member_id,
            sale_id=data["sale_id"],
            device=event["device"],
            detail=f"terminal moved the member to {claimed}, the hub has {confirmed}",
        )


def _check_earn(
    event: dict[str, Any], entries: list[LedgerEntry], tz: ZoneInfo, candidates: list[LoyaltyRules], got: int
) -> None:
    """An ``earn_mismatch`` item unless one of ``candidates`` (the likeliest first) gives ``got`` points."""
    data = event["data"]
    expected = expected_earn(event, entries, tz, candidates[0])
    if expected != got and all(expected_earn(event, entries, tz, r) != got for r in candidates[1:]):
        stated = data.get("rules_version")
        _reconcile(
            "earn_mismatch",
            member_id=data["member_id"],
            sale_id=data["sale_id"],
            device=event["device"],
            expected=expected,
            got=got,
            detail="points earned differ from the hub's rules"
            + (f" (rules version {stated})" if stated is not None else ""),
        )


def _check_redeem(event: dict[str, Any], entries: list[LedgerEntry], rule: RedeemRule) -> None:
    """A ``redeem_mismatch`` item when the points redeemed do not pay what ``rule`` says."""
    data = event["data"]
    redeemed = -sum(e.amount for e in entries if e.kind == Kind.REDEEM and e.account == POINTS)
    points_paid = sum(int(p["amount_fen"]) for p in data["payments"] if p["method"] == "points")
    if points_value_fen(redeemed, rule) != points_paid:
        _reconcile(
            "redeem_mismatch",
            member_id=data["member_id"],
            sale_id=data["sale_id"],
            device=event["device"],
            expected=points_value_fen(redeemed, rule),
            got=points_paid,
            detail=f"{redeemed} points paid {points_paid} fen",
        )


@_rejecting
def on_sale_refunded(event: dict[str, Any], tz: ZoneInfo) -> None:
    """For a member's refund (booked by :mod:`hub.ingest.refunds` first): book its reversal entries and
    release the use of the coupons the refund gave back."""
    data = event["data"]
    if not data.get("member_id"):
        return
    record_entries(event, data.get("ledger", []))
    restored = [str(c) for c in data.get("coupons_restored", [])]
    if restored:
        CouponUse.delete().where(
            CouponUse.coupon_id.in_(restored), CouponUse.sale_id == data["sale_id"]
        ).execute()


def expected_earn(
    event: dict[str, Any], entries: list[LedgerEntry], tz: ZoneInfo, rules: LoyaltyRules | None = None
) -> int:
    """The points ``rules`` (default: the hub's current rules) give this sale, from its lines,
    payments and member."""
    data = event["data"]
    lines = [EarnLine(x["sku"], x.get("category", ""), int(x["net_fen"])) for x in data.get("earn_lines", [])]
    # paid with points, bonus stored value or a count card visit (次卡, prepaid): earns nothing
    points_paid = sum(
        int(p["amount_fen"]) for p in data["payments"] if p["method"] in ("points", "count_card")
    )
    bonus_paid = -sum(e.amount for e in entries if e.account == BONUS and e.kind == Kind.SPEND)
    member = HubMember.get_or_none(HubMember.id == data["member_id"])
    rules = rules or settings.rules
    tier = tier_by_code(member.tier_code if member else "", rules.tiers)
    ctx = EarnContext(
        day=dt.datetime.fromisoformat(event["ts"]).astimezone(tz).date(),
        birthday=member_birthday(member),
        tier_multiplier=tier.points_multiplier,
    )
    return earn_points(lines, points_paid + bonus_paid, rules.earn, ctx, rules.holidays).points


def _use_coupon(coupon_id: str, sale_id: str, event: dict[str, Any], member_id: str) -> None:
    earlier = CouponUse.select().where(CouponUse.coupon_id == coupon_id, CouponUse.sale_id != sale_id)
    CouponUse.create(
        coupon_id=coupon_id, sale_id=sale_id, device=event["device"], member_id=member_id, used_at=event["ts"]
    )
    for use in earlier:
        _reconcile(
            "coupon_double_use",
            member_id=member_id,
            sale_id=sale_id,
            device=event["device"],
            detail=f"coupon {coupon_id} also used in sale {use.sale_id} on {use.device}",
        )


def record_entries(event: dict[str, Any], raw: Iterable[dict[str, Any]]) -> list[LedgerEntry]:
    """Check and store a terminal's entries; report edits, gaps and replays; sweep merges.

    One event's entries are checked against the device's ledger head in memory
    and stored with one insert, so a member sale costs a handful of queries.
    """
    try:
        entries = [LedgerEntry.from_dict(dict(item)) for item in raw]
    except (KeyError, TypeError, ValueError) as exc:
        raise _rejected(f"ledger entries are malformed: {exc!r}") from exc
    if not entries:
        return entries
    device = event["device"]
    ids = [e.id for e in entries]
    seen = {i for (i,) in HubLedgerEntry.select(HubLedgerEntry.id).where(HubLedgerEntry.id.in_(ids)).tuples()}
    head = HubLedgerHead.get_or_none(HubLedgerHead.device == device)
    last_seq, last_hash = (head.seq, head.hash) if head else (0, GENESIS)
    fresh = []
    for entry in entries:
        if entry.id in seen:
            _reconcile(
                "ledger_replay",
                member_id=entry.member_id,
                device=device,
                detail=f"entry {entry.id} sent again in event {event['id']}",
            )
            continue
        seen.add(entry.id)
        for problem in _entry_problems(entry, device, last_seq, last_hash):
            _reconcile(
                "ledger_chain",
                member_id=entry.member_id,
                device=device,
                detail=f"entry {entry.id}: {problem}",
            )
        fresh.append(entry)
        if entry.seq > last_seq:
            last_seq, last_hash = entry.seq, entry.hash
    store_entries(fresh, event["id"])
    move_ledger_head(device, last_seq, last_hash)
    for member_id in sorted({e.member_id for e in fresh}):
        _after_change(member_id)
    return entries


def _entry_problems(entry: LedgerEntry, device: str, last_seq: int, last_hash: str) -> list[str]:
    problems = []
    if entry.device != device:
        problems.append(f"entry device {entry.device} differs from event device {device}")
    if entry_hash(entry) != entry.hash:
        problems.append("hash does not match the entry (edited?)")
    if entry.seq != last_seq + 1 or entry.prev != last_hash:
        problems.append(f"seq {entry.seq} after {last_seq}, or prev does not link")
    return problems


def _after_change(member_id: str) -> None:
    survivor = resolve(member_id)
    if survivor != member_id:
        merge_members(survivor, member_id, _now(), by="auto: late entries of a merged member")
        member_id = survivor
    for account, amount in member_balances(member_id).items():
        if amount < 0:
            _flag_negative(member_id, account, amount)


def _flag_negative(member_id: str, account: str, amount: int) -> None:
    """One open item per member and account; a later entry updates its amount."""
    detail = f"{account} balance is {amount}"
    updated = (
        Reconciliation.update(got=amount, detail=detail)
        .where(
            Reconciliation.kind == "negative_balance",
            Reconciliation.member_id == member_id,
            Reconciliation.resolved_at.is_null(),
            Reconciliation.detail.startswith(f"{account} "),
        )
        .execute()
    )
    if not updated:
        _reconcile("negative_balance", member_id=member_id, got=amount, detail=detail)


@_rejecting
def on_member_updated(event: dict[str, Any], tz: ZoneInfo) -> None:
    """Book a member's change made at a terminal: a new PIN hash, or details staff corrected for
    them (name, birthday, marketing answer: :mod:`hub.members.details`, which rejects what it
    cannot accept, so the event is quarantined with the reason)."""
    data = event["data"]
    changes = {"pin_hash": data["pin_hash"]} if "pin_hash" in data else {}
    member_id = resolve(data["member_id"])
    if details.carries_details(data):
        details.apply(event, member_id)
    if changes:
        # a change sent before the terminal learnt of an erasure must not bring personal data back
        updated = (
            HubMember.update(**changes)
            .where(HubMember.id == member_id, HubMember.erased_at.is_null())
            .execute()
        )
        if updated:
            touch(member_id)


@_rejecting
def on_member_erasure_requested(event: dict[str, Any], tz: ZoneInfo) -> None:
    """The member asked at a terminal to be erased: erase them (and the record they were merged
    from) at the hub; the anonymised ledger stays. A repeat changes nothing more."""
    member_id = event["data"]["member_id"]
    when = dt.datetime.fromisoformat(event["data"]["requested_at"])
    for each in {member_id, resolve(member_id)}:
        if HubMember.get_or_none(HubMember.id == each) is not None:
            erase_member(each, when)


EFFECTS = {
    "member.registered": on_member_registered,
    "member.updated": on_member_updated,
    "member.erasure_requested": on_member_erasure_requested,
    "card.linked": on_card_linked,
    "ledger.adjusted": on_ledger_adjusted,
}


__all__ = [
    "EFFECTS",
    "configure",
    "confirm_tier",
    "erase_member",
    "evaluate_tiers",
    "expected_earn",
    "member_balances",
    "member_entries",
    "merge_members",
    "open_items",
    "record_entries",
    "resolve",
    "settings",
]
