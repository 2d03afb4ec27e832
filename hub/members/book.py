"""The hub's member book: balances, merges, erasure, tiers and member deltas.

Reads and writes the hub's member tables; :mod:`hub.members.ledger` calls it while
applying terminal events, and the API and CLI call it directly.
"""

import datetime as dt
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from peewee import fn

from hub.campaigns import (
    runs as campaigns,
)
from hub.members import raw_copies
from hub.members.feed import touch
from hub.members.models import (
    HubCard,
    HubLedgerEntry,
    HubLedgerHead,
    HubMember,
    MemberSale,
    MergeAudit,
    Reconciliation,
)
from hub.members.settings import settings
from kiosk.domain.loyalty import (
    LedgerEntry,
    Stamp,
    chain,
    merge_entries,
    normalize_phone,
)
from kiosk.domain.loyalty.dates import add_months
from kiosk.domain.loyalty.expiry import remaining_lots
from kiosk.domain.loyalty.ledger import GENESIS
from kiosk.domain.loyalty.tiers import TierState, evaluate, qualifying_amount, tier_by_code, upgrade
from kiosk.store.pii import PiiError, PiiKey, new_data_key

HUB_DEVICE = "hub"


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
    if (member.tier_code, member.tier_grace_until) == (state.code, grace):
        return
    HubMember.update(tier_code=state.code, tier_grace_until=grace).where(HubMember.id == member.id).execute()
    touch(member.id)


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


def move_ledger_head(device: str, seq: int, hash_: str) -> None:
    """Record ``device``'s last ledger entry seen by the hub."""
    HubLedgerHead.insert(device=device, seq=seq, hash=hash_).on_conflict(
        conflict_target=[HubLedgerHead.device],
        update={HubLedgerHead.seq: seq, HubLedgerHead.hash: hash_},
    ).execute()


def store_entries(entries: list[LedgerEntry], event_id: str) -> None:
    """Insert entries as they were written, tagged with the event that carried them."""
    if entries:
        HubLedgerEntry.insert_many([{**e.to_dict(), "event_id": event_id} for e in entries]).execute()
        for member_id in sorted({e.member_id for e in entries}):
            touch(member_id)  # a balance changed: terminals get the member again


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
    store_entries(linked, f"merge:{duplicate_id}")
    if linked:
        move_ledger_head(HUB_DEVICE, linked[-1].seq, linked[-1].hash)
    cards = HubCard.update(member_id=survivor_id).where(HubCard.member_id == duplicate_id).execute()
    HubMember.update(merged_into=survivor_id).where(HubMember.id == duplicate_id).execute()
    touch(survivor_id)  # cards moved to it
    touch(duplicate_id)
    MergeAudit.create(
        survivor_id=survivor_id,
        duplicate_id=duplicate_id,
        by=by,
        at=stamp.at,
        entries=len(linked),
        cards=cards,
    )
    return linked


@dataclass(frozen=True)
class HubRegistration:
    """A member registered at the hub: the id, and whether it is new (False: the phone was a member)."""

    member_id: str
    created: bool


def register_at_hub(
    phone: str, name: str, birthday: dt.date | None, consent: tuple[str, str], store: str, now: dt.datetime
) -> HubRegistration:
    """Register a member at the hub (front desk, owner); inside the caller's transaction.

    ``consent`` is the consent text's version and where it was given. A phone
    that is already a member links to that member and changes nothing. Raises
    InvalidPhone for a bad number and PiiError when the hub has no business key.
    """

    key = settings.key
    if key is None:
        raise PiiError("the hub has no business data key: start it with --key-file / 总部未配置数据密钥")
    e164 = normalize_phone(phone)
    index = key.blind_index(e164)
    known = (
        HubMember.select()
        .where(HubMember.phone_index.in_(key.blind_indexes(e164)), HubMember.merged_into.is_null())
        .order_by(HubMember.created_at, HubMember.id)
        .first()
    )
    if known is not None:
        return HubRegistration(known.id, False)
    member_id, at = str(uuid.uuid4()), now.isoformat(timespec="seconds")
    seal = member_sealer(key, member_id)
    HubMember.create(
        id=member_id,
        phone_index=index,
        phone_enc=seal(e164, "phone"),
        name_enc=seal(name, "name") if name else "",
        birthday_enc=seal(birthday.isoformat(), "birthday") if birthday else "",
        key_id=key.key_id,
        home_store=store,
        source="hub",
        consent_version=consent[0],
        consent_at=at,
        consent_where=consent[1],
        created_at=at,
    )
    touch(member_id)  # terminals learn the new member with the next downlink
    campaigns.issue_at_registration(member_id, now)
    return HubRegistration(member_id, True)


def member_sealer(key: PiiKey, member_id: str) -> Callable[[str, str], str]:
    """How a new member's fields are encrypted: under a fresh data key of their own, kept (wrapped
    under the business key) in the key store before the member is written; without a key store
    (a hub run without a data directory), under the business key as before."""
    store = settings.key_store
    if store is None:
        return lambda text, field: key.encrypt(text, f"{member_id}:{field}")
    data_key = new_data_key()
    store.put(member_id, key.wrap_data_key(data_key, member_id))
    return lambda text, field: key.encrypt_for(data_key, text, f"{member_id}:{field}")


def consent_record(member: HubMember) -> dict[str, str] | None:
    """What the member agreed to: the consent text's version, when (ISO time) and where
    (``store/device``); None for a member without one (e.g. imported from a CSV)."""
    if not member.consent_version:
        return None
    return {"version": member.consent_version, "at": member.consent_at, "where": member.consent_where}


def erase_member(member_id: str, now: dt.datetime) -> None:
    """Erase the member's personal data, PIN and cards; keep the anonymised ledger so totals add up.

    The phone's blind index is replaced, so the same phone registering later
    becomes a new member instead of being merged into the erased one. The hub's raw
    copies (the events the terminals sent, quarantined messages) lose the same fields,
    for this member and the records merged into it (:mod:`hub.members.raw_copies`), whose own
    rows are erased too. Their data keys are deleted from the key store first (crypto-shredding:
    every copy under them, in backups too, opens for nobody; if the erasure then fails, erasing
    again finishes it).
    """
    merged = {m for (m,) in HubMember.select(HubMember.id).where(HubMember.merged_into == member_id).tuples()}
    if settings.key_store is not None:
        settings.key_store.delete([member_id, *sorted(merged)])
    for each in (member_id, *sorted(merged)):  # a record merged into this one held the same person
        HubMember.update(
            phone_index=f"erased:{each}",
            phone_enc="",
            name_enc="",
            birthday_enc="",
            gender="",
            pin_hash="",
            erased_at=now.isoformat(timespec="seconds"),
        ).where(HubMember.id == each).execute()
    HubCard.delete().where(HubCard.member_id.in_([member_id, *merged])).execute()
    raw_copies.scrub_member({member_id, *merged})
    touch(member_id)  # terminals delete their copy


def open_items(kind: str | None = None) -> list[dict[str, Any]]:
    """Unresolved reconciliation items, oldest first, as plain data for the dashboard and API."""
    query = Reconciliation.select().where(Reconciliation.resolved_at.is_null())
    if kind is not None:
        query = query.where(Reconciliation.kind == kind)
    return list(query.order_by(Reconciliation.id).dicts())
