"""A member's own account at the terminal: change PIN, points history, count cards, erasure.

Each change writes its outbox event in the same transaction as the change:
``member.updated`` (the new PIN's hash) and ``member.erasure_requested``.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from kiosk.domain.loyalty import POINTS, LedgerEntry, LoyaltyError
from kiosk.domain.loyalty.count_cards import CountCard
from kiosk.domain.loyalty.ledger import count_account
from kiosk.domain.loyalty.registration import check_new_pin
from kiosk.store.connection import database
from kiosk.store.member_models import CountCardRow, LedgerRow, Member
from kiosk.store.members.hub_copy import erase_local
from kiosk.store.members.ledger import ENTRY_FIELDS, member_balances, timestamp
from kiosk.store.members.registry import set_pin
from kiosk.store.members.wallets import count_card
from kiosk.store.outbox import record_event
from kiosk.store.pii import verify_pin
from kiosk.store.sales import Terminal

ERASED_PREFIX = "erased:"


class WrongPin(LoyaltyError):
    """The PIN given is not the member's."""


@dataclass(frozen=True)
class HeldCountCard:
    """A count card and the visits left on it."""

    card: CountCard
    visits_left: int


def is_erased(member: Member) -> bool:
    """True once the member asked for erasure here (or the hub erased them)."""
    return member.phone_index.startswith(ERASED_PREFIX)


def change_pin(terminal: Terminal, now: dt.datetime, member_id: str, old: str, new: str, again: str) -> None:
    """Replace the member's PIN after checking the old one; ``member.updated`` carries the new hash.

    Raises :class:`WrongPin` for a wrong old PIN and
    :class:`kiosk.domain.loyalty.registration.InvalidPin` for a new PIN that
    breaks the rules or was not repeated the same.
    """
    member = Member.get_by_id(member_id)
    if not member.pin_hash or not verify_pin(old, member.pin_hash):
        raise WrongPin("the current PIN is wrong / 原密码不正确")
    check_new_pin(new, again)
    set_pin(terminal, now, member_id, new)


def request_erasure(terminal: Terminal, now: dt.datetime, member_id: str) -> str:
    """The member asks to be erased: personal data and cards go now, the hub erases its copy.

    The ledger stays (anonymous: it names only the member id), and events this
    terminal already delivered lose their personal fields (:func:`erase_local`).
    Returns the ``member.erasure_requested`` event id.
    """
    ts = timestamp(now)
    with database.atomic("IMMEDIATE"):
        erase_local(member_id)  # the same erasure a hub delta brings, delivered events scrubbed too
        data = {"member_id": member_id, "requested_at": ts, "where": f"{terminal.store}/{terminal.device}"}
        return record_event(terminal, ts, "member.erasure_requested", data)


def points_history(member_id: str, limit: int = 20) -> list[LedgerEntry]:
    """The member's latest ``limit`` points entries on this terminal, newest first."""
    rows: Any = (  # .dicts() yields plain dicts; peewee's stubs say models
        LedgerRow.select()
        .where(LedgerRow.member_id == member_id, LedgerRow.account == POINTS)
        .order_by(LedgerRow.seq.desc())
        .limit(limit)
        .dicts()
    )
    return [LedgerEntry.from_dict({k: v for k, v in r.items() if k in ENTRY_FIELDS}) for r in rows]


def count_cards(member_id: str) -> list[HeldCountCard]:
    """The member's count cards with the visits left (the sum of each card's account)."""
    held = member_balances(member_id)
    query = CountCardRow.select().where(CountCardRow.member_id == member_id).order_by(CountCardRow.expires_on)
    return [HeldCountCard(count_card(row.id), held.get(count_account(row.id), 0)) for row in query]
