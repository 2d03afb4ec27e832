"""What became of each message: queued, sent (the mail server accepted it), delivered (the SMS
gateway's receipt said so), failed (refused, given up, or the receipt said undelivered) or stopped
(the member had withdrawn their marketing consent by send time).

Read by the sends page (``/messages``, its CSV), the member page and the campaign results.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from peewee import Expression, fn

from hub.members.models import Campaign, HubMember
from hub.members.settings import settings
from hub.messaging.models import MemberMessage
from kiosk.domain.loyalty import mask_name, mask_phone
from kiosk.store.pii import PiiError

STATUSES = ("queued", "sent", "delivered", "failed", "stopped")
NO_CONSENT = "no marketing consent"  # the sender's reason for a message it skipped (hub.messaging.sender)


def condition(status: str) -> Expression:
    """The rows whose shown status is ``status`` (one of :data:`STATUSES`)."""
    m = MemberMessage
    sent = m.status == "sent"
    return {
        "queued": m.status.in_(("queued", "sending")),
        "sent": sent & (m.delivery == ""),
        "delivered": sent & (m.delivery == "delivered"),
        "failed": (m.status == "failed")
        | (sent & (m.delivery == "undelivered"))
        | ((m.status == "skipped") & (m.last_error != NO_CONSENT)),
        "stopped": (m.status == "skipped") & (m.last_error == NO_CONSENT),
    }[status]


def shown_status(row: MemberMessage) -> str:
    """The status a person reads for ``row``: one of :data:`STATUSES`."""
    if row.status in ("queued", "sending"):
        return "queued"
    if row.status == "sent":
        return {"delivered": "delivered", "undelivered": "failed"}.get(row.delivery, "sent")
    if row.status == "skipped" and row.last_error == NO_CONSENT:
        return "stopped"
    return "failed"


@dataclass(frozen=True)
class Send:
    """One message as the sends page lists it; the member masked."""

    id: str
    member_id: str
    member: str  # 王** 138****0011
    kind: str  # campaign:<id>, expiry_reminder, ...
    campaign_id: str  # "" for a message of no campaign
    channel: str
    status: str
    queued_at: dt.datetime | None
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None
    attempts: int
    reason: str  # the last error or the gateway's receipt ("" when none)


def _masked(member: HubMember | None) -> str:
    key = settings.key
    if member is None or key is None:
        return "–"
    try:
        phone = key.decrypt(member.phone_enc, f"{member.id}:phone") if member.phone_enc else ""
        name = key.decrypt(member.name_enc, f"{member.id}:name") if member.name_enc else ""
    except PiiError:
        return "–"
    return " ".join(
        part for part in (mask_name(name) if name else "", mask_phone(phone) if phone else "") if part
    )


def query(
    campaign: str = "", status: str = "", member_id: str = "", stores: frozenset[str] | None = None
) -> Iterable[MemberMessage]:
    """The messages, newest first, of ``campaign`` (a message kind), ``status``, one member, or
    the members of ``stores`` (a manager's; None: every store)."""
    found = MemberMessage.select()
    if campaign:
        found = found.where(MemberMessage.kind == campaign)
    if status in STATUSES:
        found = found.where(condition(status))
    if member_id:
        found = found.where(MemberMessage.member_id == member_id)
    if stores is not None:
        mine = HubMember.select(HubMember.id).where(HubMember.home_store.in_(sorted(stores)))
        found = found.where(MemberMessage.member_id.in_(mine))
    m = MemberMessage
    return found.order_by(m.queued_at.desc(), m.member_id, m.kind, m.channel, m.id)


def sends(rows: Iterable[MemberMessage]) -> list[Send]:
    """``rows`` as the page shows them (each member decrypted once, then masked)."""
    rows = list(rows)
    ids = sorted({r.member_id for r in rows})
    members = {m.id: m for m in HubMember.select().where(HubMember.id.in_(ids))} if ids else {}
    masked = {member_id: _masked(members.get(member_id)) for member_id in ids}
    return [_send(r, masked[r.member_id]) for r in rows]


def _send(r: MemberMessage, member: str) -> Send:
    campaign_id = r.kind.removeprefix("campaign:") if r.kind.startswith("campaign:") else ""
    reason = r.last_error if r.status != "sent" else ("undelivered" if r.delivery == "undelivered" else "")
    return Send(
        r.id, r.member_id, member, r.kind, campaign_id, r.channel, shown_status(r),
        r.queued_at, r.sent_at, r.delivered_at, r.attempts, reason,
    )  # fmt: skip


def counts(kind: str) -> dict[str, int]:
    """How many messages of ``kind`` (``campaign:<id>``) are in each status: every status, 0 for none."""
    found = dict.fromkeys(STATUSES, 0)
    for status in STATUSES:
        found[status] = MemberMessage.select().where(MemberMessage.kind == kind, condition(status)).count()
    return found


def kinds(stores: frozenset[str] | None = None) -> list[tuple[str, str, str]]:
    """Every message kind there are messages of (to ``stores``' members; None: every store), with
    the campaign's Chinese and English name (``("", "")`` for a kind of no campaign)."""
    names = {f"campaign:{c.id}": (c.name_zh, c.name_en or c.name_zh) for c in Campaign.select()}
    found = MemberMessage.select(fn.DISTINCT(MemberMessage.kind))
    if stores is not None:
        mine = HubMember.select(HubMember.id).where(HubMember.home_store.in_(sorted(stores)))
        found = found.where(MemberMessage.member_id.in_(mine))
    return sorted((k, *names.get(k, ("", ""))) for (k,) in found.tuples())
