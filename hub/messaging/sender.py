"""Delivering the message queue: consent checked again at send time, an SMS cap per member and
day, retries with back-off, every attempt recorded, nothing sent twice.

Each message is claimed (``queued`` → ``sending``, one conditional update) and committed before
the network call, so two senders never take the same message, and the database is not locked
while a mail server answers. A ``sending`` row older than :data:`STALE_SENDING` was left by a
sender that died mid-send: it is sent again with the same id, which the provider recognises
(the e-mail's Message-ID, the gateway's ``ref``).
"""

import datetime as dt
import os
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from hub.db import transaction
from hub.jobs import settings as job_settings
from hub.members.models import HubMember
from hub.members.settings import settings as loyalty_settings
from hub.messaging import queue
from hub.messaging.channels import Channel, EmailChannel, Outgoing, SendError, SmsGateway
from hub.messaging.models import MarketingConsent, MemberMessage, SendLog
from kiosk.store.pii import PiiError

BACKOFF_MINUTES = (5, 30, 120, 720)  # after the 1st, 2nd, 3rd, 4th failed attempt
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1
STALE_SENDING = dt.timedelta(minutes=10)
BATCH = 200


@dataclass
class SendResult:
    """One pass over the queue: sent, to retry later, failed for good, skipped, postponed (cap)."""

    sent: int = 0
    retry: int = 0
    failed: int = 0
    skipped: int = 0
    postponed: int = 0
    lines: list[str] = field(default_factory=list)


def channels_from_settings() -> dict[str, Channel]:
    """The channels the owner configured (``hub jobs set smtp_host ...``); none until then."""
    found: dict[str, Channel] = {}
    if job_settings.get("smtp_host"):
        found["email"] = EmailChannel(
            job_settings.get("smtp_host"), job_settings.get_int("smtp_port"), job_settings.get("smtp_from")
        )
    if job_settings.get("sms_url"):
        found["sms"] = SmsGateway(
            job_settings.get("sms_url"), os.environ.get("HUB_SMS_TOKEN", ""), job_settings.get("shop_name")
        )
    return found


def _contact(row: MemberMessage) -> str:
    """Where the message goes: the member's phone (E.164) or the e-mail they gave; "" if none."""
    key = loyalty_settings.key
    if key is None:
        return ""
    try:
        if row.channel == "sms":
            member = HubMember.get_by_id(row.member_id)
            return key.decrypt(member.phone_enc, f"{member.id}:phone") if member.phone_enc else ""
        consent = MarketingConsent.get_or_none(MarketingConsent.member_id == row.member_id)
        if consent is None or not consent.email_enc:
            return ""
        return key.decrypt(consent.email_enc, f"{row.member_id}:email")
    except (PiiError, HubMember.DoesNotExist):
        return ""


def _outgoing(row: MemberMessage, to: str) -> Outgoing:
    """The message in the member's language (English when they chose it and the text has one)."""
    consent = queue.consent_state(row.member_id)
    english = consent is not None and consent.lang == "en" and bool(row.body_en)
    body = row.body_en if english else row.body_zh
    subject = (row.subject_en or row.subject) if english else row.subject
    return Outgoing(row.id, to, subject or body[:30], body)


def _local_day(when: dt.datetime, tz: ZoneInfo) -> dt.date:
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(tz).date()


def _sms_today(member_id: str, now: dt.datetime, tz: ZoneInfo) -> int:
    since = dt.datetime.combine(_local_day(now, tz), dt.time(), tz)
    query = MemberMessage.select().where(
        MemberMessage.member_id == member_id,
        MemberMessage.channel == "sms",
        MemberMessage.status == "sent",
        MemberMessage.sent_at >= since,
    )
    return query.count()


def _finish(row_id: str, now: dt.datetime, values: dict[str, object], ok: bool, detail: str) -> None:
    with transaction():
        MemberMessage.update(**values).where(MemberMessage.id == row_id).execute()
        SendLog.create(message_id=row_id, at=now, ok=ok, detail=detail[:2000])


def send_due(
    now: dt.datetime, tz: ZoneInfo, channels: dict[str, Channel], dry_run: bool = False
) -> SendResult:
    """Send the queued messages due at ``now`` through ``channels``; each in its own transactions."""
    result = SendResult()
    stale = now - STALE_SENDING
    due = (
        MemberMessage.select()
        .where(
            ((MemberMessage.status == "queued") & (MemberMessage.next_try_at <= now))
            | ((MemberMessage.status == "sending") & (MemberMessage.next_try_at <= stale))
        )
        .order_by(MemberMessage.queued_at, MemberMessage.id)
        .limit(BATCH)
    )
    cap = job_settings.get_int("sms_daily_cap")
    for row in list(due):
        if dry_run:
            result.lines.append(f"{row.channel} {row.member_id} {row.kind}")
            continue
        with transaction():
            claimed = (
                MemberMessage.update(status="sending", next_try_at=now)
                .where(MemberMessage.id == row.id, MemberMessage.status == row.status)
                .execute()
            )
        if claimed != 1:
            continue  # another sender took it
        if not queue.has_consent(row.member_id):
            _finish(
                row.id, now, {"status": "skipped", "last_error": "no marketing consent"}, False, "no consent"
            )
            result.skipped += 1
            continue
        channel = channels.get(row.channel)
        to = _contact(row)
        if channel is None or not to:
            why = f"no {row.channel} channel configured" if channel is None else f"no {row.channel} contact"
            _finish(row.id, now, {"status": "skipped", "last_error": why}, False, why)
            result.skipped += 1
            continue
        if row.channel == "sms" and _sms_today(row.member_id, now, tz) >= cap:
            tomorrow = dt.datetime.combine(_local_day(now, tz) + dt.timedelta(days=1), dt.time(9), tz)
            _finish(
                row.id, now, {"status": "queued", "next_try_at": tomorrow}, False, "daily SMS cap: tomorrow"
            )
            result.postponed += 1
            continue
        try:
            provider_id = channel.send(_outgoing(row, to))
        except SendError as exc:
            attempts = row.attempts + 1
            if exc.temporary and attempts < MAX_ATTEMPTS:
                later = now + dt.timedelta(minutes=BACKOFF_MINUTES[attempts - 1])
                values = {
                    "status": "queued",
                    "attempts": attempts,
                    "next_try_at": later,
                    "last_error": str(exc),
                }
                result.retry += 1
            else:
                values = {"status": "failed", "attempts": attempts, "last_error": str(exc)}
                result.failed += 1
            _finish(row.id, now, values, False, str(exc))
            continue
        values = {"status": "sent", "attempts": row.attempts + 1, "sent_at": now, "provider_id": provider_id}
        _finish(row.id, now, values, True, provider_id)
        result.sent += 1
    return result
