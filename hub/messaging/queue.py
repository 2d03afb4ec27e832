"""Queueing messages to members: consent checked, never twice for the same thing.

Jobs and campaigns call :func:`queue` inside their own transaction; the ``send_messages`` job
delivers the queue through the channels (:mod:`hub.messaging.channels`).
"""

import datetime as dt
import uuid

from hub.accounts import audit as owner_audit
from hub.members.feed import touch
from hub.members.models import HubMember
from hub.members.settings import settings
from hub.messaging.channels import is_stop
from hub.messaging.models import MarketingConsent, MemberMessage, SendLog
from hub.messaging.templates import Rendered
from kiosk.domain.loyalty import InvalidPhone, mask_name, normalize_phone
from kiosk.store.pii import PiiError

MESSAGE_NAMESPACE = uuid.UUID("2b7e51c4-6a0d-4f3e-9c1a-8d5e3f7a9b20")
CHANNELS = ("email", "sms")


def has_consent(member_id: str) -> bool:
    """True when the member agreed to marketing messages and has not withdrawn."""
    row = MarketingConsent.get_or_none(MarketingConsent.member_id == member_id)
    return row is not None and bool(row.granted)


def set_consent(
    member_id: str,
    granted: bool,
    version: str,
    where: str,
    by: str,
    now: dt.datetime,
    email: str | None = None,
    lang: str | None = None,
) -> None:
    """Record the member's marketing consent (or its withdrawal); audited; terminals get the member again.

    ``email`` (when given) is where e-mails go, stored encrypted with the member's data key (the
    business key for a member from before data keys); ``""``
    removes it. Withdrawing keeps the address but nothing is sent (:func:`has_consent`).
    ``lang`` (``zh``/``en``, when given) is the language messages go out in.
    """
    values: dict[str, object] = {"granted": granted, "version": version, "where": where, "at": now}
    if lang is not None:
        values["lang"] = "en" if lang == "en" else "zh"
    if email is not None:
        key = settings.key
        if email and key is None:
            raise PiiError("the hub has no business data key / 总部未配置数据密钥")
        values["email_enc"] = key.encrypt_member(email, f"{member_id}:email") if email and key else ""
    MarketingConsent.insert(member_id=member_id, **values).on_conflict(
        conflict_target=[MarketingConsent.member_id], update=values
    ).execute()
    owner_audit.record(by, "member.marketing_consent", member_id, now, granted=granted, where=where)
    touch(member_id)


def consent_state(member_id: str) -> MarketingConsent | None:
    """The member's marketing consent row (None: never asked)."""
    return MarketingConsent.get_or_none(MarketingConsent.member_id == member_id)


def message_id(kind: str, occasion: str, member_id: str, channel: str) -> str:
    """The id of the message about ``kind``/``occasion`` to ``member_id`` on ``channel``: stable."""
    return str(uuid.uuid5(MESSAGE_NAMESPACE, f"{kind}/{occasion}/{member_id}/{channel}"))


def queue(
    member_id: str,
    kind: str,
    occasion: str,
    body: tuple[str, str],
    now: dt.datetime,
    subject: str = "",
    channels: tuple[str, ...] = CHANNELS,
) -> int:
    """Queue ``body`` (zh, en) to the member on each channel, once; return how many were new."""
    texts = {channel: Rendered(subject, subject, body[0], body[1], 0) for channel in channels}
    return queue_rendered(member_id, kind, occasion, texts, now)


def queue_rendered(
    member_id: str, kind: str, occasion: str, texts: dict[str, Rendered], now: dt.datetime
) -> int:
    """Queue each channel's message (a template filled in) to the member, once; return how many were new.

    Nothing is queued without marketing consent: a member who said no is never written to.
    """
    if not has_consent(member_id):
        return 0
    rows = [
        {
            "id": message_id(kind, occasion, member_id, channel),
            "member_id": member_id,
            "channel": channel,
            "kind": kind,
            "subject": text.subject_zh,
            "subject_en": text.subject_en,
            "body_zh": text.body_zh,
            "body_en": text.body_en,
            "template_version": text.version,
            "queued_at": now,
            "next_try_at": now,
        }
        for channel, text in texts.items()
    ]
    have = {
        m
        for (m,) in MemberMessage.select(MemberMessage.id)
        .where(MemberMessage.id.in_([r["id"] for r in rows]))
        .tuples()
    }
    new = [r for r in rows if r["id"] not in have]
    if new:
        MemberMessage.insert_many(new).on_conflict_ignore().execute()
    return len(new)


def home_store(member_id: str) -> str:
    """The member's home store ("" unknown): whose message texts they receive."""
    member = HubMember.get_or_none(HubMember.id == member_id)
    return str(member.home_store) if member is not None else ""


def masked_name(member_id: str) -> str:
    """The member's name as messages show it (张**); "" without a name or the business key."""
    member = HubMember.get_or_none(HubMember.id == member_id)
    key = settings.key
    if member is None or not member.name_enc or key is None:
        return ""
    try:
        return mask_name(key.decrypt(member.name_enc, f"{member_id}:name"))
    except PiiError:
        return ""


def stop_by_reply(phone: str, text: str, now: dt.datetime) -> str | None:
    """A member's SMS reply: T / TD / STOP / 退订 withdraws their marketing consent (audited).

    Returns the member whose consent was withdrawn, None when the text is not a stop word or the
    phone is no member. Call it inside a transaction (the gateway's inbound hook).
    """
    key = settings.key
    if key is None or not is_stop(text):
        return None
    try:
        indexes = key.blind_indexes(normalize_phone(phone))
    except InvalidPhone:
        return None
    member = (
        HubMember.select()
        .where(HubMember.phone_index.in_(indexes), HubMember.merged_into.is_null())
        .order_by(HubMember.created_at)
        .first()
    )
    if member is None:
        return None
    row = consent_state(member.id)
    set_consent(member.id, False, row.version if row else "", "sms-reply", "member", now)
    return str(member.id)


def record_delivery(message_id: str, status: str, error: str, now: dt.datetime) -> bool:
    """Record the gateway's delivery receipt for an SMS the hub sent (``delivered``/``undelivered``);
    False when no SMS was sent with that id. The first receipt counts; a repeat is ignored."""
    row = MemberMessage.get_or_none(
        (MemberMessage.id == message_id) & (MemberMessage.channel == "sms") & (MemberMessage.status == "sent")
    )
    if row is None:
        return False
    if row.delivery:
        return True
    MemberMessage.update(delivery=status, delivered_at=now).where(MemberMessage.id == message_id).execute()
    detail = f"delivery receipt: {status}" + (f" ({error})" if error else "")
    SendLog.create(message_id=message_id, at=now, ok=status == "delivered", detail=detail)
    return True
