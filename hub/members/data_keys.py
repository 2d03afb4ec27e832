"""Giving members registered before data keys a data key of their own, in batches, while sales go on.

A member from before data keys has their phone, name and birthday (and e-mail) under the business
key: an erasure blanks them in the live database, but a backup taken earlier still holds them
under a key the owner keeps. :func:`give_batch` moves the next members to a fresh data key each
(kept in the key store first, :mod:`hub.members.key_store`), with a compare-and-set on the old
ciphertext so an erasure committed meanwhile wins, and a new member version so terminals get the
member with the key. The ``data_keys`` job runs it nightly until no member is left; backups taken
from then on are crypto-shredded like any other.
"""

import logging

from hub.db import transaction
from hub.members.feed import touch_many
from hub.members.key_store import MemberKeyStore
from hub.members.models import HubMember
from hub.members.rotation import BATCH, ENCRYPTED, Progress
from hub.messaging.models import MarketingConsent
from kiosk.store.pii import DATA_KEY_PREFIX, PiiError, PiiKey, new_data_key

__all__ = ["give_all", "give_batch", "without_data_key"]

log = logging.getLogger(__name__)


def _legacy():  # type: ignore[no-untyped-def]
    return HubMember.select().where(
        HubMember.erased_at.is_null(),
        HubMember.phone_enc != "",
        ~HubMember.phone_enc.startswith(DATA_KEY_PREFIX),
    )


def without_data_key() -> int:
    """How many members (not erased) still have their personal data under the business key."""
    return _legacy().count()


def give_batch(key: PiiKey, store: MemberKeyStore, progress: Progress, limit: int = BATCH) -> int:
    """Give the next ``limit`` members after ``progress.after`` a data key and their fields under it,
    in one transaction; return how many rows were looked at (0: done)."""
    with transaction():
        rows = list(_legacy().where(HubMember.id > progress.after).order_by(HubMember.id).limit(limit))
        emails = {
            c.member_id: c.email_enc
            for c in MarketingConsent.select().where(
                MarketingConsent.member_id.in_([r.id for r in rows]), MarketingConsent.email_enc != ""
            )
        }
        readable = [
            (row, plain) for row in rows if (plain := _opened(key, row, emails, progress)) is not None
        ]
        # the keys are kept (one disk sync) before any field is written under them; a key kept by an
        # earlier, interrupted run is reused
        held = store.put_many({row.id: key.wrap_data_key(new_data_key(), row.id) for row, _ in readable})
        done = [row.id for row, plain in readable if _seal(key, row, plain, held[row.id], emails)]
        touch_many(done)  # terminals get each member again, with the data key
        progress.moved += len(done)
    if rows:
        progress.after = rows[-1].id
    return len(rows)


def _opened(key: PiiKey, row: HubMember, emails: dict[str, str], progress: Progress) -> dict[str, str] | None:
    fields = {name: getattr(row, name) for name in ENCRYPTED if getattr(row, name)}
    if row.id in emails:
        fields["email_enc"] = emails[row.id]
    try:
        return {name: key.decrypt(token, _context(row.id, name)) for name, token in fields.items()}
    except PiiError as exc:
        log.warning("member %s: personal data under a key the hub does not hold (%s)", row.id, exc)
        progress.unreadable.append(row.id)
        return None


def _seal(key: PiiKey, row: HubMember, plain: dict[str, str], wrapped: str, emails: dict[str, str]) -> bool:
    data_key = key.unwrap_data_key(wrapped, row.id)
    sealed = {name: key.encrypt_for(data_key, text, _context(row.id, name)) for name, text in plain.items()}
    email = sealed.pop("email_enc", None)
    changed = (
        HubMember.update(**sealed)
        .where(HubMember.id == row.id, HubMember.phone_enc == row.phone_enc, HubMember.erased_at.is_null())
        .execute()
    )
    if changed and email is not None:
        MarketingConsent.update(email_enc=email).where(
            MarketingConsent.member_id == row.id, MarketingConsent.email_enc == emails[row.id]
        ).execute()
    return bool(changed)


def _context(member_id: str, name: str) -> str:
    return f"{member_id}:{name.removesuffix('_enc')}"


def give_all(key: PiiKey, store: MemberKeyStore, limit: int = BATCH) -> Progress:
    """:func:`give_batch` until every member that can be read has a data key."""
    progress = Progress()
    while give_batch(key, store, progress, limit):
        pass
    return progress
