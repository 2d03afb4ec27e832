"""Rewards redeemed at a terminal are re-checked at the hub against the owner's list of the
rules version the terminal ran: real terminal databases, real hub database (SQLite and PostgreSQL)."""

import datetime as dt
from pathlib import Path

from hub.db import transaction
from hub.members import ledger as loyalty
from hub.rules import rewards as rewards_store
from kiosk.domain.loyalty import POINTS
from kiosk.domain.loyalty.rules import Reward
from kiosk.store import members
from kiosk.store.sales import Terminal
from tests.hub.members.test_loyalty import CONSENT, KEY, NOW, PHONE, grant, hub_rules, ingest, on_terminal

__all__ = ["hub_rules"]  # the fixture that sets and resets the hub's rules

MUG = {"id": "mug", "name_zh": "保温杯", "name_en": "Travel mug", "points": 1000}


def owner_list() -> int:
    with transaction():
        return rewards_store.replace_rewards([MUG], "owner", dt.datetime(2026, 11, 1, tzinfo=dt.UTC))


def redeem(reward: Reward, version: int, quantity: int = 1):  # type: ignore[no-untyped-def]
    def work(terminal: Terminal) -> None:
        members.register_member(KEY, terminal, NOW, PHONE, CONSENT, member_id="m-1")
        grant(terminal, "m-1", 3000)
        members.redeem_for_reward(terminal, NOW, "m-1", reward, quantity, version)

    return work


def test_a_reward_on_the_list_books_its_points_and_leaves_nothing_to_reconcile(
    hub_db, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    version = owner_list()
    mug = Reward.model_validate(MUG)
    ingest("K01", on_terminal(tmp_path, "K01", redeem(mug, version, quantity=2)))
    assert loyalty.member_balances("m-1")[POINTS] == 1000
    assert loyalty.open_items() == []


def test_a_reward_off_the_list_or_at_another_price_is_a_reconciliation_item(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    version = owner_list()
    cheap = Reward(id="mug", name_zh="保温杯", points=400)
    vip = Reward(id="vip", name_zh="贵宾礼", points=700)
    ingest("K01", on_terminal(tmp_path, "K01", redeem(cheap, version)))
    ingest("K02", on_terminal(tmp_path, "K02", redeem(vip, version)))
    items = sorted(
        ((i["kind"], i["device"], i["expected"], i["got"]) for i in loyalty.open_items()), key=lambda i: i[1]
    )
    assert items == [("reward_mismatch", "K01", 1000, 400), ("reward_mismatch", "K02", 0, 700)]
    # booked as the terminals wrote them: 3000 + 3000 granted (one member, two terminals) − 400 − 700
    assert loyalty.member_balances("m-1")[POINTS] == 4900
