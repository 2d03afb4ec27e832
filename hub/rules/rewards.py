"""The owner's reward list (积分商城): kept inside the loyalty rules, so every change is a new,
audited rules version and reaches the terminals with the next config release.

The terminals redeem from the list they were sent; the hub re-checks each redemption against
the list of the version the terminal ran (``hub.members.ledger``).
"""

import datetime as dt
from typing import Any

from hub.rules import store as rules_store
from kiosk.domain.loyalty.rules import Reward


def reward_list() -> tuple[int, tuple[Reward, ...]]:
    """The current rules version and its rewards, in the owner's order."""
    version, rules = rules_store.current()
    return version, rules.rewards


def replace_rewards(items: Any, by: str, now: dt.datetime) -> int:
    """Save ``items`` (a list of reward objects) as the whole list; return the new rules version.

    Validated with the rest of the rules: a bad item raises :class:`hub.rules.store.RulesRefused`
    naming ``rewards.N.field`` in zh-CN and English, and nothing is saved. Call inside a transaction.
    """
    _, rules = rules_store.current()
    body = rules.model_dump(mode="json") | {"rewards": items}
    return rules_store.save_rules(body, by, now)


def put_reward(item: dict[str, Any], by: str, now: dt.datetime) -> int:
    """Add ``item`` at the end of the list, or replace the reward with its id in place."""
    _, rewards = reward_list()
    kept = [r.model_dump(mode="json") for r in rewards]
    ids = [r["id"] for r in kept]
    if item.get("id") in ids:
        kept[ids.index(item["id"])] = item
    else:
        kept.append(item)
    return replace_rewards(kept, by, now)


def remove_reward(reward_id: str, by: str, now: dt.datetime) -> int:
    """Take the reward ``reward_id`` off the list (terminals stop offering it with the next release)."""
    _, rewards = reward_list()
    return replace_rewards([r.model_dump(mode="json") for r in rewards if r.id != reward_id], by, now)
