"""The hub's side of loyalty: apply member and ledger events, re-check, reconcile, merge.

The hub keeps every terminal's ledger entries as they were written and never
edits them. It re-applies the earn rule to each member sale, checks each
device's ledger hash chain, watches single-use coupons and balances, and
records every disagreement as a :class:`Reconciliation` item for the owner.
Duplicate members (one phone registered offline in two stores) are merged
with paired ledger entries, and the merge is audited.

Called from :mod:`hub.ingest` inside the event's own transaction, so an
event's loyalty effects commit or roll back with the event itself.
"""

import datetime as dt
import functools
import itertools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from peewee import fn

from hub.loyalty_models import (
    CouponUse,
    HubCard,
    HubLedgerEntry,
    HubLedgerHead,
    HubMember,
    MemberSale,
    MergeAudit,
    Reconciliation,
)
from kiosk.domain.loyalty import (
    BONUS,
    POINTS,
    EarnContext,
    EarnLine,
    Kind,
    LedgerEntry,
    LoyaltyRules,
    Stamp,
    chain,
    earn_points,
    merge_entries,
)
from kiosk.domain.loyalty.dates import add_months
from kiosk.domain.loyalty.expiry import remaining_lots
from kiosk.domain.loyalty.ledger import GENESIS, entry_hash
from kiosk.domain.loyalty.points import points_value_fen
from kiosk.domain.loyalty.tiers import TierState, evaluate, qualifying_amount, tier_by_code, upgrade
from kiosk.store.pii import PiiError, PiiKey

HUB_DEVICE = "hub"


@dataclass
class LoyaltySettings:
    """The rules the hub checks sales against, and the key to read birthdays."""

    rules: LoyaltyRules = field(default_factory=LoyaltyRules)
    key: PiiKey | None = None


settings = LoyaltySettings()


def configure(rules: LoyaltyRules, key: PiiKey | None) -> None:
    """Set the rules and key at hub start (and when the owner publishes new rules)."""
    settings.rules = rules
    settings.key = key


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _reconcile(kind: str, **fields: Any) -> None:
    Reconciliation.create(kind=kind, found_at=_now(), **fields)


def _rejected(reason: str) -> Exception:
    from hub.ingest import Rejected  # ingest imports this module; import at call time

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


def resolve(member_id: str) -> str:
    """The member an id stands for now, following merges."""
    seen = set()
    while member_id not in seen:
        seen.add(member_id)
        member = HubMember.get_or_none(HubMember.id == member_id)
        if member is None or not member.merged_into:
            return member_id
        member_id = member.merged_into
    return member_id


@_rejecting
def on_member_registered(event: dict[str, Any], tz: ZoneInfo) -> None:
    """Book a terminal's registration; merge it into an earlier member with the same phone."""
    try:
        fields = dict(event["data"]["member"])
        member_id = fields["id"]
    except (KeyError, TypeError) as exc:
        raise _rejected(f"member.registered data is incomplete: {exc!r}") from exc
    if HubMember.get_or_none(HubMember.id == member_id) is not None:
        return
    known = {f.name for f in HubMember._meta.sorted_fields}
    HubMember.create(**{k: v for k, v in fields.items() if k in known})
    earlier = (
        HubMember.select()
        .where(
            HubMember.phone_index == fields["phone_index"],
            HubMember.id != member_id,
            HubMember.merged_into.is_null(),
        )
        .order_by(HubMember.created_at, HubMember.id)
        .first()
    )
    if earlier is not None:
        merge_members(earlier.id, member_id, _now(), by="auto: same phone")


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
    elif resolve(card.member_id) != resolve(data["member_id"]):
        _reconcile(
            "card_conflict",
            member_id=data["member_id"],
            device=event["device"],
            detail=f"card {data['uid']} already belongs to {card.member_id}",
        )


@_rejecting
def on_ledger_adjusted(event: dict[str, Any], tz: ZoneInfo) -> None:
    """Book top-ups, adjustments, refunds and expiries sent by a terminal."""
    record_entries(event, event["data"].get("entries", []))


@_rejecting
def on_sale_completed(event: dict[str, Any], tz: ZoneInfo) -> None:
    """For a member sale: book its entries, re-check the points earned, watch its coupons."""
    data = event["data"]
    member_id = data.get("member_id")
    if not member_id:
        return
    entries = record_entries(event, data.get("ledger", []))
    got = sum(e.amount for e in entries if e.kind == Kind.EARN)
    expected = expected_earn(event, entries, tz)
    if expected != got:
        _reconcile(
            "earn_mismatch",
            member_id=member_id,
            sale_id=data["sale_id"],
            device=event["device"],
            expected=expected,
            got=got,
            detail="points earned differ from the hub's rules",
        )
    redeemed = -sum(e.amount for e in entries if e.kind == Kind.REDEEM and e.account == POINTS)
    points_paid = sum(int(p["amount_fen"]) for p in data["payments"] if p["method"] == "points")
    if points_value_fen(redeemed, settings.rules.redeem) != points_paid:
        _reconcile(
            "redeem_mismatch",
            member_id=member_id,
            sale_id=data["sale_id"],
            device=event["device"],
            expected=points_value_fen(redeemed, settings.rules.redeem),
            got=points_paid,
            detail=f"{redeemed} points paid {points_paid} fen",
        )
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


def _qualifying(member_id: str, on: dt.date) -> int:
    rule = settings.rules.tiers
    column = MemberSale.paid_fen if rule.basis == "spend" else MemberSale.points
    start = add_months(on, -rule.window_months)
    rows = (
        MemberSale.select(MemberSale.day, column)
        .where(MemberSale.member_id == member_id, MemberSale.day > start.isoformat())
        .tuples()
    )
    return qualifying_amount(((dt.date.fromisoformat(d), int(v)) for d, v in rows), on, rule)


def _tier_state(member: HubMember) -> TierState:
    code = tier_by_code(member.tier_code, settings.rules.tiers).code
    grace = dt.date.fromisoformat(member.tier_grace_until) if member.tier_grace_until else None
    return TierState(code, grace)


def _save_tier(member: HubMember, state: TierState) -> None:
    grace = state.grace_until.isoformat() if state.grace_until else None
    HubMember.update(tier_code=state.code, tier_grace_until=grace).where(HubMember.id == member.id).execute()


def confirm_tier(member_id: str, on: dt.date) -> str:
    """Upgrade the member if their window now reaches a higher tier; return their tier code."""
    member = HubMember.get_or_none(HubMember.id == member_id)
    if member is None:
        return ""
    state = upgrade(_tier_state(member), _qualifying(member_id, on), settings.rules.tiers)
    _save_tier(member, state)
    return state.code


def evaluate_tiers(on: dt.date) -> dict[str, str]:
    """Run the tier evaluation of ``on`` for every member; return {member: new tier} for changes."""
    changed = {}
    for member in HubMember.select().where(HubMember.merged_into.is_null()):
        before = _tier_state(member)
        after = evaluate(before, _qualifying(member.id, on), on, settings.rules.tiers)
        if after != before:
            _save_tier(member, after)
        if after.code != before.code:
            changed[member.id] = after.code
    return changed


def expected_earn(event: dict[str, Any], entries: list[LedgerEntry], tz: ZoneInfo) -> int:
    """The points the hub's rules give this sale, from its lines, payments and member."""
    data = event["data"]
    lines = [EarnLine(x["sku"], x.get("category", ""), int(x["net_fen"])) for x in data.get("earn_lines", [])]
    points_paid = sum(int(p["amount_fen"]) for p in data["payments"] if p["method"] == "points")
    bonus_paid = -sum(e.amount for e in entries if e.account == BONUS and e.kind == Kind.SPEND)
    member = HubMember.get_or_none(HubMember.id == data["member_id"])
    rules = settings.rules
    tier = tier_by_code(member.tier_code if member else "", rules.tiers)
    ctx = EarnContext(
        day=dt.datetime.fromisoformat(event["ts"]).astimezone(tz).date(),
        birthday=_birthday(member),
        tier_multiplier=tier.points_multiplier,
    )
    return earn_points(lines, points_paid + bonus_paid, rules.earn, ctx, rules.holidays).points


def _birthday(member: HubMember | None) -> dt.date | None:
    if member is None or not member.birthday_enc or settings.key is None:
        return None
    try:
        text = settings.key.decrypt(member.birthday_enc, f"{member.id}:birthday")
    except PiiError:
        return None
    return dt.date.fromisoformat(text)


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
    _store(fresh, event["id"])
    _move_head(device, last_seq, last_hash)
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


def _move_head(device: str, seq: int, hash_: str) -> None:
    HubLedgerHead.insert(device=device, seq=seq, hash=hash_).on_conflict(
        conflict_target=[HubLedgerHead.device],
        update={HubLedgerHead.seq: seq, HubLedgerHead.hash: hash_},
    ).execute()


def _store(entries: list[LedgerEntry], event_id: str) -> None:
    if entries:
        HubLedgerEntry.insert_many([{**e.to_dict(), "event_id": event_id} for e in entries]).execute()


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


def member_entries(member_id: str) -> list[LedgerEntry]:
    """Every entry booked on ``member_id`` (not following merges)."""
    names = set(LedgerEntry.__dataclass_fields__)
    rows = HubLedgerEntry.select().where(HubLedgerEntry.member_id == member_id).dicts()
    return [LedgerEntry.from_dict({k: v for k, v in r.items() if k in names}) for r in rows]


def member_balances(member_id: str) -> dict[str, int]:
    """The member's balance per account: the sum of their entries (summed by the database)."""
    rows = (
        HubLedgerEntry.select(HubLedgerEntry.account, fn.SUM(HubLedgerEntry.amount))
        .where(HubLedgerEntry.member_id == member_id)
        .group_by(HubLedgerEntry.account)
        .order_by(HubLedgerEntry.account)
        .tuples()
    )
    return {account: int(total) for account, total in rows}


def merge_members(survivor_id: str, duplicate_id: str, now: dt.datetime, by: str) -> list[LedgerEntry]:
    """Merge ``duplicate_id`` into ``survivor_id``: balances (lot by lot), cards, and an audit row."""
    history = member_entries(duplicate_id)
    lots = remaining_lots(history, duplicate_id, settings.rules.expiry)
    stamp = Stamp(
        HUB_DEVICE, now.isoformat(timespec="milliseconds"), (str(uuid.uuid4()) for _ in itertools.count())
    )
    moved = merge_entries(survivor_id, duplicate_id, history, stamp, lots)
    head = HubLedgerHead.get_or_none(HubLedgerHead.device == HUB_DEVICE)
    linked = chain(moved, head.seq if head else 0, head.hash if head else GENESIS)
    _store(linked, f"merge:{duplicate_id}")
    if linked:
        _move_head(HUB_DEVICE, linked[-1].seq, linked[-1].hash)
    cards = HubCard.update(member_id=survivor_id).where(HubCard.member_id == duplicate_id).execute()
    HubMember.update(merged_into=survivor_id).where(HubMember.id == duplicate_id).execute()
    MergeAudit.create(
        survivor_id=survivor_id,
        duplicate_id=duplicate_id,
        by=by,
        at=stamp.at,
        entries=len(linked),
        cards=cards,
    )
    return linked


def erase_member(member_id: str, now: dt.datetime) -> None:
    """Erase the member's personal data and cards; keep the anonymised ledger so totals add up.

    The phone's blind index is replaced, so the same phone registering later
    becomes a new member instead of being merged into the erased one.
    """
    HubMember.update(
        phone_index=f"erased:{member_id}",
        phone_enc="",
        name_enc="",
        birthday_enc="",
        gender="",
        erased_at=now.isoformat(timespec="seconds"),
    ).where(HubMember.id == member_id).execute()
    HubCard.delete().where(HubCard.member_id == member_id).execute()


def member_delta(member_id: str, device: str) -> dict[str, Any]:
    """What ``device`` needs to serve a member it may never have seen: profile (still
    encrypted), cards, and balances that already count its entries up to ``through_seq``.

    ``through_seq`` is the device's ledger head at the hub; it assumes the hub has
    every earlier entry of that device (a recorded gap makes it too high).
    """
    member = HubMember.get_by_id(member_id)
    fields = {f.name: getattr(member, f.name) for f in HubMember._meta.sorted_fields if f.name != "erased_at"}
    cards = HubCard.select().where(HubCard.member_id == member_id).order_by(HubCard.uid)
    head = HubLedgerHead.get_or_none(HubLedgerHead.device == device)
    return {
        "member": fields,
        "cards": [
            {"uid": c.uid, "member_id": c.member_id, "kind": c.kind, "linked_at": c.linked_at} for c in cards
        ],
        "balances": member_balances(member_id),
        "through_seq": head.seq if head else 0,
    }


def open_items(kind: str | None = None) -> list[dict[str, Any]]:
    """Unresolved reconciliation items, oldest first, as plain data for the dashboard and API."""
    query = Reconciliation.select().where(Reconciliation.resolved_at.is_null())
    if kind is not None:
        query = query.where(Reconciliation.kind == kind)
    return list(query.order_by(Reconciliation.id).dicts())


@_rejecting
def on_member_updated(event: dict[str, Any], tz: ZoneInfo) -> None:
    """Book a member's change made at a terminal (today: a new PIN hash)."""
    data = event["data"]
    changes = {"pin_hash": data["pin_hash"]} if "pin_hash" in data else {}
    if changes:
        HubMember.update(**changes).where(HubMember.id == resolve(data["member_id"])).execute()


EFFECTS = {
    "member.registered": on_member_registered,
    "member.updated": on_member_updated,
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
    "member_delta",
    "member_entries",
    "merge_members",
    "open_items",
    "record_entries",
    "resolve",
]
