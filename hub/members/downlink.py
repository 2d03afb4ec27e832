"""Member deltas on ``pos/{d}/down/members``: publish every member version to every subscribed terminal.

The publisher reads the feed (:mod:`hub.members.feed`) after commits, never inside
them: a web request (erasure, merge), the CLI (import) or an ingest worker may
have made the change; whichever process runs the publisher sends it. It reads
the versions first and the subscribers second, so a terminal that subscribed
(took a snapshot) before a version committed is never skipped for it.

Delivery is at least once: the position (``member_feed.published``) moves only
after the messages went out, with a compare-and-set so two publishers do not
both move it. A terminal ignores a delta it already has.
"""

import json
import logging
from collections.abc import Callable
from typing import Any

from hub.db import database
from hub.members.business_keys import downlink_keys
from hub.members.feed import (
    FEED_VERSION,
    MemberFeed,
    MemberSubscriber,
    MemberVersion,
    member_states,
    read_consistently,
)
from hub.members.models import HubMember
from hub.members.settings import settings
from kiosk.sync.topics import members_topic

log = logging.getLogger(__name__)

DELTA_MEMBERS_MAX = 200  # members per message: about 1 KiB each, far below the 1 MiB limit

Publish = Callable[[str, bytes], None]


def delta_message(
    first: int, last: int, states: list[dict[str, Any]], keys: dict[str, Any] | None = None
) -> bytes:
    """The payload of one delta: the members whose latest change is in ``first``..``last``, and
    during a key rotation the two business keys, each sealed under the other
    (:func:`hub.members.business_keys.downlink_keys`)."""
    body: dict[str, Any] = {"v": FEED_VERSION, "from": first - 1, "to": last, "members": states}
    if keys is not None:
        body["keys"] = keys
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def publish_due(publish: Publish, limit: int = DELTA_MEMBERS_MAX) -> int:
    """Send the versions after the published position to every subscriber; return the new position.

    One message per subscriber covers versions ``published + 1 .. to``; ``to``
    stops early when more than ``limit`` members changed, and the rest goes in
    the next round.
    """
    feed = MemberFeed.get_by_id(1)
    published = int(feed.published)
    if feed.version <= published:
        return published
    with database.atomic():
        read_consistently()
        rows = list(
            MemberVersion.select()
            .where(MemberVersion.version > published)
            .order_by(MemberVersion.version)
            .limit(limit)
        )
        if not rows:
            return published
        to = int(rows[-1].version) if len(rows) == limit else int(MemberFeed.get_by_id(1).version)
        members = list(HubMember.select().where(HubMember.id.in_([r.member_id for r in rows])))
        order = {r.member_id: r.version for r in rows}
        members.sort(key=lambda m: order[m.id])
        subscribers = MemberSubscriber.select().where(MemberSubscriber.snapshot_at.is_null(False))
        devices = [s.device for s in subscribers.order_by(MemberSubscriber.device)]
        keys = downlink_keys(settings.key)
        messages = [(d, delta_message(published + 1, to, member_states(members, d), keys)) for d in devices]
    for device, payload in messages:
        publish(members_topic(device), payload)
    moved = (
        MemberFeed.update(published=to).where(MemberFeed.id == 1, MemberFeed.published == published).execute()
    )
    if moved:
        log.info("member versions %d..%d sent to %d terminals", published + 1, to, len(devices))
    return to
