"""Registering members, finding them by phone or card, and linking cards."""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from kiosk.domain.loyalty import (
    Coupon,
    LoyaltyError,
    normalize_phone,
)
from kiosk.domain.loyalty.coupons import coupon_to_dict
from kiosk.domain.loyalty.registration import MARKETING_VERSION
from kiosk.store.connection import database
from kiosk.store.member_models import (
    Member,
    MemberCard,
)
from kiosk.store.members.coupons import add_coupon
from kiosk.store.members.ledger import timestamp
from kiosk.store.outbox import record_event
from kiosk.store.pii import PiiKey, hash_pin, new_data_key, verify_pin
from kiosk.store.sales import Terminal


class CardTaken(LoyaltyError):
    """The card is already linked to another member."""


@dataclass(frozen=True)
class Consent:
    """The privacy consent the member accepted: text version, when, where (store/device).

    ``marketing`` is the separate answer to marketing messages (None: not asked); the hub keeps it,
    with ``lang``, the language the member used the screen in (zh, en): their messages' language.
    """

    version: str
    where: str
    marketing: bool | None = None
    lang: str = "zh"


@dataclass(frozen=True)
class Registration:
    """The member a phone belongs to, and whether this call created them."""

    member: Member
    created: bool


def find_by_phone(key: PiiKey, phone: str) -> Member | None:
    """The member with this phone (any format; normalised first), or None.

    Matched under every key the terminal holds: during a key rotation a member's copy can
    still be under the older key (docs/security.md, "Key rotation").
    """
    indexes = key.blind_indexes(normalize_phone(phone))
    return Member.select().where(Member.phone_index.in_(indexes)).order_by(Member.created_at).first()


def pin_holder(key: PiiKey, phone: str) -> str:
    """Whose wrong PINs a phone's PIN counts toward (:mod:`kiosk.store.pin_tries`): the member's id,
    which a business-key rotation leaves alone, or the phone's blind index when it is no member here."""
    member = find_by_phone(key, phone)
    return member.id if member is not None else key.blind_index(normalize_phone(phone))


def find_by_card(uid: str) -> Member | None:
    """The member a card belongs to (following a hub merge), or None."""
    return _follow_merges(_member_row(_MEMBER_BY_CARD, uid))


def member_by_id(member_id: str) -> Member | None:
    """The member row with this id as stored (a merged-away member included), or None."""
    return _member_row(_MEMBER_BY_ID, member_id)


def find_by_id(member_id: str) -> Member | None:
    """The member with this id (following a hub merge), or None: a member QR's lookup."""
    return _follow_merges(_member_row(_MEMBER_BY_ID, member_id))


# A tap is on the shopper's critical path: one fixed statement instead of peewee building
# two queries per card (docs/perf.md, member tap).
_MEMBER_COLUMNS = ", ".join(f'm."{f.column_name}"' for f in Member._meta.sorted_fields)
_MEMBER_BY_CARD = (
    f"SELECT {_MEMBER_COLUMNS} FROM member_card c JOIN member m ON m.id = c.member_id WHERE c.uid = ?"
)
_MEMBER_BY_ID = f"SELECT {_MEMBER_COLUMNS} FROM member m WHERE m.id = ?"
_MEMBER_NAMES = tuple(f.name for f in Member._meta.sorted_fields)


def _member_row(sql: str, key: str) -> Member | None:
    row = database.execute_sql(sql, (key,)).fetchone()
    return Member(**dict(zip(_MEMBER_NAMES, row, strict=True))) if row else None


def _follow_merges(member: Member | None) -> Member | None:
    while member is not None and member.merged_into:
        member = _member_row(_MEMBER_BY_ID, member.merged_into)
    return member


def register_member(
    key: PiiKey,
    terminal: Terminal,
    now: dt.datetime,
    phone: str,
    consent: Consent,
    *,
    name: str = "",
    birthday: dt.date | None = None,
    gender: str = "",
    member_id: str | None = None,
    pin_hash: str = "",
    coupon: Coupon | None = None,
) -> Registration:
    """Register a member, or return the one who already has this phone (no new event then).

    A ``pin_hash`` (:func:`kiosk.store.pii.hash_pin`, slow: callers on the UI
    thread compute it on a worker) and a welcome ``coupon`` (made for this
    member id) is stored in the same transaction, and both ride in the
    ``member.registered`` event, so the hub learns them with the member.
    """
    e164 = normalize_phone(phone)
    index = key.blind_index(e164)
    member_id = member_id or str(uuid.uuid4())
    ts = timestamp(now)
    with database.atomic("IMMEDIATE"):
        existing = find_by_phone(key, e164)
        if existing is not None:
            return Registration(existing, False)
        # the member's own data key: erasing it at the hub makes every copy of these fields unreadable
        data_key = new_data_key()
        fields = {
            "id": member_id,
            "phone_index": index,
            "phone_enc": key.encrypt_for(data_key, e164, f"{member_id}:phone"),
            "name_enc": key.encrypt_for(data_key, name, f"{member_id}:name") if name else "",
            "birthday_enc": (
                key.encrypt_for(data_key, birthday.isoformat(), f"{member_id}:birthday") if birthday else ""
            ),
            "data_key": key.wrap_data_key(data_key, member_id),
            "gender": gender,
            "home_store": terminal.store,
            "source": "kiosk",
            "consent_version": consent.version,
            "consent_at": ts,
            "consent_where": consent.where,
            "created_at": ts,
        }
        if pin_hash:
            fields["pin_hash"] = pin_hash
        member = Member.create(**fields)
        data: dict[str, Any] = {"member": fields}
        if coupon is not None:
            add_coupon(coupon)
            data["coupon"] = coupon_to_dict(coupon)
        if consent.marketing is not None:
            data["marketing_consent"] = {
                "granted": consent.marketing,
                "version": MARKETING_VERSION,
                "at": ts,
                "where": consent.where,
                "lang": consent.lang,
            }
        record_event(terminal, ts, "member.registered", data)
    return Registration(member, True)


def profile(key: PiiKey, member: Member) -> dict[str, str]:
    """The member's personal data in clear, for their own screen: phone, name, birthday (opened with
    the member's own data key when they have one)."""
    key = key.with_data_keys({member.id: member.data_key}.get)
    return {
        "phone": key.decrypt(member.phone_enc, f"{member.id}:phone"),
        "name": key.decrypt(member.name_enc, f"{member.id}:name") if member.name_enc else "",
        "birthday": key.decrypt(member.birthday_enc, f"{member.id}:birthday") if member.birthday_enc else "",
    }


def link_card(
    terminal: Terminal, now: dt.datetime, member_id: str, uid: str, kind: str = "nfc"
) -> MemberCard:
    """Link card ``uid`` to the member; linking it again to the same member changes nothing."""
    ts = timestamp(now)
    with database.atomic("IMMEDIATE"):
        card = MemberCard.get_or_none(MemberCard.uid == uid)
        if card is not None:
            if card.member_id != member_id:
                raise CardTaken(f"card {uid} belongs to another member / 该卡已绑定其他会员")
            return card
        card = MemberCard.create(uid=uid, member_id=member_id, kind=kind, linked_at=ts)
        data = {"uid": uid, "member_id": member_id, "kind": kind, "linked_at": ts}
        record_event(terminal, ts, "card.linked", data)
    return card


MEMBER_FIELDS = frozenset(f.name for f in Member._meta.sorted_fields)


def set_pin(terminal: Terminal, now: dt.datetime, member_id: str, pin: str) -> None:
    """Set (or change) the member's PIN; the hub gets the hash in ``member.updated``."""
    set_pin_hash(terminal, now, member_id, hash_pin(pin))


def set_pin_hash(terminal: Terminal, now: dt.datetime, member_id: str, pin_hash: str) -> None:
    """Store a PIN hash made earlier (off the UI thread) and send it in ``member.updated``."""
    with database.atomic("IMMEDIATE"):
        Member.update(pin_hash=pin_hash).where(Member.id == member_id).execute()
        record_event(
            terminal, timestamp(now), "member.updated", {"member_id": member_id, "pin_hash": pin_hash}
        )


def find_by_phone_and_pin(key: PiiKey, phone: str, pin: str) -> Member | None:
    """The member with this phone if ``pin`` is theirs; None for an unknown phone or a wrong PIN."""
    member = find_by_phone(key, phone)
    if member is None or not member.pin_hash or not verify_pin(pin, member.pin_hash):
        return None
    return member
