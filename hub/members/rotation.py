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

from hub.db import database, transaction
from hub.fleet.presence import DeviceStatus
from hub.members.book import merge_members
from hub.members.feed import touch_many
from hub.members.key_store import MemberKeyStore
from hub.members.models import HubMember
from hub.messaging.models import MarketingConsent
from kiosk.store.pii import DATA_KEY_PREFIX, PiiError, PiiKey

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


def under_business_key(member: dict[str, Any], key: PiiKey) -> dict[str, Any]:
    """A terminal's registration with the fields under the member's data key moved under the business
    key: what a hub without a key store (no data directory) keeps. Unchanged when they do not open."""
    member_id = member["id"]
    try:
        moved = {
            name: key.encrypt(key.decrypt(member[name], f"{member_id}:{name.removesuffix('_enc')}"),
                              f"{member_id}:{name.removesuffix('_enc')}")
            for name in ENCRYPTED
            if str(member.get(name) or "").startswith(DATA_KEY_PREFIX)
        }  # fmt: skip
    except PiiError as exc:
        log.warning("member %s: personal data under a data key that does not open (%s)", member_id, exc)
        return member
    return {**member, **moved}


@dataclass
class Progress:
    """How far a re-encryption got: members moved, merged as duplicates, not readable, the cursor."""

    moved: int = 0
    merged: int = 0
    unreadable: list[str] = field(default_factory=list)
    after: str = ""


def move_batch(key: PiiKey, progress: Progress, now: dt.datetime, limit: int = BATCH) -> int:
    """Re-encrypt the next ``limit`` members after ``progress.after`` not under the current key, in
    one transaction; return how many rows were looked at (0: done).

    Written with fixed SQL and one member-version update per batch: building a peewee query per
    member cost 20 ms of CPU each (10,000 members took minutes).
    """
    with transaction():
        rows = list(
            HubMember.select(
                HubMember.id, HubMember.phone_index, HubMember.merged_into, HubMember.created_at, *_COLUMNS
            )
            .where(
                HubMember.id > progress.after,
                HubMember.key_id != key.key_id,
                HubMember.erased_at.is_null(),
                HubMember.phone_enc != "",
            )
            .order_by(HubMember.id)
            .limit(limit)
        )
        moved = [m for m in (_moved(row, key, progress) for row in rows) if m is not None]
        sql = _UPDATE.replace("?", database.param)
        done = [m for m in moved if database.execute_sql(sql, _update_values(m, key)).rowcount]
        progress.moved += len(done)
        touch_many([m.row.id for m in done])  # the member downlink sends each moved member
        _merge_duplicates([m for m in done if not m.row.merged_into], now, progress)
        _move_emails(key, [r.id for r in rows])
    if rows:
        progress.after = rows[-1].id
    return len(rows)


_COLUMNS = tuple(getattr(HubMember, name) for name in ENCRYPTED)
# compare-and-set on the old ciphertext: an erasure committed meanwhile (PostgreSQL) wins, nothing comes back
_UPDATE = (
    "UPDATE hub_member SET phone_index = ?, phone_enc = ?, name_enc = ?, birthday_enc = ?, key_id = ?"
    " WHERE id = ? AND phone_enc = ? AND erased_at IS NULL"
)


@dataclass(frozen=True)
class _Moved:
    row: HubMember
    fields: dict[str, Any]
    indexes: list[str]


def _moved(row: HubMember, key: PiiKey, progress: Progress) -> _Moved | None:
    fields = {name: getattr(row, name) for name in ("id", "phone_index", *ENCRYPTED)}
    moved, indexes = to_current_key(fields, key)
    if moved is fields:
        progress.unreadable.append(row.id)
        return None
    return _Moved(row, moved, indexes)


def _update_values(moved: _Moved, key: PiiKey) -> tuple[str, ...]:
    fields = moved.fields
    return (
        fields["phone_index"],
        *(fields.get(name) or "" for name in ENCRYPTED),
        key.key_id,
        moved.row.id,
        moved.row.phone_enc,
    )


def _merge_duplicates(moved: list[_Moved], now: dt.datetime, progress: Progress) -> None:
    """Merge each moved member into an earlier one with the same phone under either key: a
    registration under the old key booked by a hub process that had no key yet, found only now."""
    if not moved:
        return
    every = sorted({index for m in moved for index in m.indexes})
    holders = list(
        HubMember.select(HubMember.id, HubMember.phone_index, HubMember.created_at)
        .where(
            HubMember.phone_index.in_(every),
            HubMember.merged_into.is_null(),
            HubMember.erased_at.is_null(),
        )
        .tuples()
    )
    for member in moved:
        mine = (member.row.created_at, member.row.id)
        earlier = sorted(
            (created, other)
            for other, index, created in holders
            if index in member.indexes and (created, other) < mine
        )
        if earlier:
            merge_members(earlier[0][1], member.row.id, now, by="auto: same phone (key rotation)")
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


def rewrap_batch(key: PiiKey, store: MemberKeyStore, progress: Progress, limit: int = BATCH) -> int:
    """Re-wrap the next ``limit`` members' data keys (after ``progress.after``) under the current
    business key: one small row each, their personal data untouched; each member gets a new member
    version so terminals receive the re-wrapped key. Returns how many rows were looked at (0: done)."""
    rows = store.not_under(key.key_id, progress.after, limit)
    changes = []
    for member_id, wrapped in rows:
        try:
            changes.append((member_id, wrapped, key.rewrap_data_key(wrapped, member_id)))
        except PiiError:
            progress.unreadable.append(member_id)
    done = store.replace_many(changes)  # one transaction: an erasure meanwhile deletes, nothing comes back
    with transaction():
        known = [m for (m,) in HubMember.select(HubMember.id).where(HubMember.id.in_(done)).tuples()]
        touch_many(sorted(known))
    progress.moved += len(done)
    if rows:
        progress.after = rows[-1][0]
    return len(rows)


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
