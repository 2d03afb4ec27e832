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
import itertools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from hub.loyalty_models import (
    CouponUse,
    HubCard,
    HubLedgerEntry,
    HubLedgerHead,
    HubMember,
    MergeAudit,
    Reconciliation,
)
from kiosk.domain.loyalty import (
    BONUS,
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
from kiosk.domain.loyalty.expiry import remaining_lots
from kiosk.domain.loyalty.ledger import GENESIS, entry_hash
from kiosk.domain.loyalty.tiers import tier_by_code
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


def on_ledger_adjusted(event: dict[str, Any], tz: ZoneInfo) -> None:
    """Book top-ups, adjustments, refunds and expiries sent by a terminal."""
    record_entries(event, event["data"].get("entries", []))


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
    for coupon_id in data.get("coupons", []):
        _use_coupon(coupon_id, data["sale_id"], event, member_id)


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
    """Check and store a terminal's entries; report edits, gaps and replays; sweep merges."""
    try:
        entries = [LedgerEntry.from_dict(dict(item)) for item in raw]
    except (KeyError, TypeError, ValueError) as exc:
        raise _rejected(f"ledger entries are malformed: {exc!r}") from exc
    stored = []
    for entry in entries:
        if _check_and_store(entry, event):
            stored.append(entry)
    for member_id in sorted({e.member_id for e in stored}):
        _after_change(member_id)
    return entries


def _check_and_store(entry: LedgerEntry, event: dict[str, Any]) -> bool:
    problems = []
    if entry.device != event["device"]:
        problems.append(f"entry device {entry.device} differs from event device {event['device']}")
    if entry_hash(entry) != entry.hash:
        problems.append("hash does not match the entry (edited?)")
    head = HubLedgerHead.get_or_none(HubLedgerHead.device == entry.device)
    last_seq, last_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if entry.seq != last_seq + 1 or entry.prev != last_hash:
        problems.append(f"seq {entry.seq} after {last_seq}, or prev does not link")
    if HubLedgerEntry.get_or_none(HubLedgerEntry.id == entry.id) is not None:
        _reconcile(
            "ledger_replay",
            member_id=entry.member_id,
            device=entry.device,
            detail=f"entry {entry.id} sent again in event {event['id']}",
        )
        return False
    for problem in problems:
        _reconcile(
            "ledger_chain",
            member_id=entry.member_id,
            device=entry.device,
            detail=f"entry {entry.id}: {problem}",
        )
    _store(entry, event["id"])
    if entry.seq > last_seq:
        HubLedgerHead.insert(device=entry.device, seq=entry.seq, hash=entry.hash).on_conflict(
            conflict_target=[HubLedgerHead.device],
            update={HubLedgerHead.seq: entry.seq, HubLedgerHead.hash: entry.hash},
        ).execute()
    return True


def _store(entry: LedgerEntry, event_id: str) -> None:
    HubLedgerEntry.insert(**entry.to_dict(), event_id=event_id).execute()


def _after_change(member_id: str) -> None:
    survivor = resolve(member_id)
    if survivor != member_id:
        merge_members(survivor, member_id, _now(), by="auto: late entries of a merged member")
        member_id = survivor
    for account, amount in member_balances(member_id).items():
        if amount < 0:
            _reconcile(
                "negative_balance", member_id=member_id, got=amount, detail=f"{account} balance is {amount}"
            )


def member_entries(member_id: str) -> list[LedgerEntry]:
    """Every entry booked on ``member_id`` (not following merges)."""
    names = set(LedgerEntry.__dataclass_fields__)
    rows = HubLedgerEntry.select().where(HubLedgerEntry.member_id == member_id).dicts()
    return [LedgerEntry.from_dict({k: v for k, v in r.items() if k in names}) for r in rows]


def member_balances(member_id: str) -> dict[str, int]:
    """The member's balance per account: the sum of their entries."""
    totals: dict[str, int] = {}
    for entry in member_entries(member_id):
        totals[entry.account] = totals.get(entry.account, 0) + entry.amount
    return totals


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
    for entry in linked:
        _store(entry, f"merge:{duplicate_id}")
    if linked:
        HubLedgerHead.insert(device=HUB_DEVICE, seq=linked[-1].seq, hash=linked[-1].hash).on_conflict(
            conflict_target=[HubLedgerHead.device],
            update={HubLedgerHead.seq: linked[-1].seq, HubLedgerHead.hash: linked[-1].hash},
        ).execute()
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


def open_items(kind: str | None = None) -> list[dict[str, Any]]:
    """Unresolved reconciliation items, oldest first, as plain data for the dashboard and API."""
    query = Reconciliation.select().where(Reconciliation.resolved_at.is_null())
    if kind is not None:
        query = query.where(Reconciliation.kind == kind)
    return list(query.order_by(Reconciliation.id).dicts())


EFFECTS = {
    "member.registered": on_member_registered,
    "card.linked": on_card_linked,
    "ledger.adjusted": on_ledger_adjusted,
}

__all__ = [
    "EFFECTS",
    "configure",
    "expected_earn",
    "member_balances",
    "merge_members",
    "open_items",
    "record_entries",
    "resolve",
]
