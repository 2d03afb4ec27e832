"""Moving members' personal data to the current business key, in batches, while sales go on.

A member row's ``key_id`` names the key its phone, name and birthday are under and
its ``phone_index`` was made with. :func:`move_batch` takes the next members under
another key (ordered by id, a cursor the caller keeps), decrypts them with the hub's
keys, writes them under the current key with a fresh blind index, and ``touch``es
each so the member downlink sends the new copy to every terminal. Each batch is one
short transaction: the ingest keeps booking between them.

The same step runs on every ``member.registered`` a terminal sends
(:func:`to_current_key`): a terminal that has not yet got the new key registers under
the old one; the hub stores the member under the current key and merges by the phone
under either key, so no duplicate is made and nothing is rejected.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from peewee import fn

from hub.db import transaction
from hub.fleet.presence import DeviceStatus
from hub.members.book import merge_members
from hub.members.feed import touch
from hub.members.models import HubMember
from hub.messaging.models import MarketingConsent
from kiosk.store.pii import PiiError, PiiKey

log = logging.getLogger(__name__)

ENCRYPTED = ("phone_enc", "name_enc", "birthday_enc")
BATCH = 200  # members per transaction: a few milliseconds of writing, then the ingest's turn


def to_current_key(member: dict[str, Any], key: PiiKey | None) -> tuple[dict[str, Any], list[str]]:
    """A registered member's fields under the current key, and the blind indexes their phone has
    under every key held (what a duplicate may carry). Unchanged when no key opens them."""
    if key is None or not member.get("phone_enc"):
        return member, [member.get("phone_index", "")]
    member_id = member["id"]
    try:
        e164 = key.decrypt(member["phone_enc"], f"{member_id}:phone")
        moved = {
            name: key.reencrypt(member[name], f"{member_id}:{name.removesuffix('_enc')}")
            for name in ENCRYPTED
            if member.get(name)
        }
    except PiiError as exc:
        log.warning("member %s: personal data under a key the hub does not hold (%s)", member_id, exc)
        return member, [member.get("phone_index", "")]
    return {**member, **moved, "phone_index": key.blind_index(e164), "key_id": key.key_id}, key.blind_indexes(
        e164
    )


@dataclass
class Progress:
    """How far a re-encryption got: members moved, merged as duplicates, not readable, the cursor."""

    moved: int = 0
    merged: int = 0
    unreadable: list[str] = field(default_factory=list)
    after: str = ""


def move_batch(key: PiiKey, progress: Progress, now: dt.datetime, limit: int = BATCH) -> int:
    """Re-encrypt the next ``limit`` members after ``progress.after`` not under the current key, in
    one transaction; return how many rows were looked at (0: done)."""
    with transaction():
        rows = list(
            HubMember.select()
            .where(
                HubMember.id > progress.after,
                HubMember.key_id != key.key_id,
                HubMember.erased_at.is_null(),
                HubMember.phone_enc != "",
            )
            .order_by(HubMember.id)
            .limit(limit)
        )
        for row in rows:
            _move(row, key, progress, now)
        _move_emails(key, [r.id for r in rows])
    if rows:
        progress.after = rows[-1].id
    return len(rows)


def _move(row: HubMember, key: PiiKey, progress: Progress, now: dt.datetime) -> None:
    fields = {name: getattr(row, name) for name in ("id", "phone_index", *ENCRYPTED)}
    moved, indexes = to_current_key(fields, key)
    if moved is fields:
        progress.unreadable.append(row.id)
        return
    # compare-and-set: an erasure committed meanwhile (PostgreSQL) wins, nothing comes back
    changed = (
        HubMember.update(
            {HubMember.key_id: key.key_id, **{name: moved[name] for name in ("phone_index", *ENCRYPTED)}}
        )
        .where(
            HubMember.id == row.id,
            HubMember.phone_enc == row.phone_enc,
            HubMember.erased_at.is_null(),
        )
        .execute()
    )
    if not changed:
        return
    progress.moved += 1
    touch(row.id)
    if row.merged_into:
        return
    # a registration under the old key booked by a hub process that had no key yet: the same phone
    # as an earlier member, found only now that both are under one key
    earlier = (
        HubMember.select()
        .where(
            HubMember.phone_index.in_(indexes),
            HubMember.id != row.id,
            HubMember.merged_into.is_null(),
            HubMember.erased_at.is_null(),
        )
        .order_by(HubMember.created_at, HubMember.id)
        .first()
    )
    if earlier is not None and (earlier.created_at, earlier.id) < (row.created_at, row.id):
        merge_members(earlier.id, row.id, now, by="auto: same phone (key rotation)")
        progress.merged += 1


def _move_emails(key: PiiKey, member_ids: list[str]) -> None:
    """The members' e-mail addresses (given with marketing consent) under the current key too."""
    for consent in MarketingConsent.select().where(
        MarketingConsent.member_id.in_(member_ids), MarketingConsent.email_enc != ""
    ):
        try:
            email = key.reencrypt(consent.email_enc, f"{consent.member_id}:email")
        except PiiError:
            continue
        MarketingConsent.update(email_enc=email).where(
            MarketingConsent.member_id == consent.member_id,
            MarketingConsent.email_enc == consent.email_enc,
        ).execute()


def members_by_key() -> dict[str, int]:
    """Members with personal data per key id ("": from before key ids), erased members left out."""
    rows = (
        HubMember.select(HubMember.key_id, fn.COUNT(HubMember.id))
        .where(HubMember.erased_at.is_null(), HubMember.phone_enc != "")
        .group_by(HubMember.key_id)
        .tuples()
    )
    return {key_id: int(count) for key_id, count in rows}


def terminals_by_key() -> dict[str, str]:
    """The key id each terminal last reported it writes with ("": not reported, e.g. an older app)."""
    return {row.device: row.key_id for row in DeviceStatus.select().order_by(DeviceStatus.device)}
