"""What the hub checks member sales with: the owner's rules and the business key (birthdays).

Set once at start (``hub serve``) and again when the owner changes the rules; read by the member
book, the ledger checks and the campaigns.
"""

import datetime as dt
from dataclasses import dataclass, field

from hub.members.models import HubMember
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.store.pii import PiiError, PiiKey

__all__ = ["LoyaltySettings", "configure", "member_birthday", "settings"]


@dataclass
class LoyaltySettings:
    """The rules the hub checks sales against, and the key to read birthdays."""

    rules: LoyaltyRules = field(default_factory=LoyaltyRules)
    key: PiiKey | None = None
    rules_version: int = 0  # the stored version ``rules`` came from (0: defaults); see hub.rules.store


settings = LoyaltySettings()


def configure(rules: LoyaltyRules, key: PiiKey | None, version: int = 0) -> None:
    """Set the rules (stored ``version``) and key at hub start (and when the owner changes the rules)."""
    settings.rules = rules
    settings.key = key
    settings.rules_version = version


def member_birthday(member: HubMember | None) -> dt.date | None:
    """The member's birthday, decrypted with the business key (None without key or birthday)."""
    if member is None or not member.birthday_enc or settings.key is None:
        return None
    try:
        text = settings.key.decrypt(member.birthday_enc, f"{member.id}:birthday")
    except PiiError:
        return None
    return dt.date.fromisoformat(text)
