"""What the hub checks member sales with: the owner's rules and the business key (birthdays).

Set once at start (``hub serve``) and again when the owner changes the rules; read by the member
book, the ledger checks and the campaigns. The business key is read from the hub's key files and
read again when they change (``hub keys rotate`` in another process), so a running hub takes up a
new key without a restart (:mod:`hub.members.business_keys`).
"""

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

from hub.members.business_keys import KEY_FILE, KeyFiles
from hub.members.key_store import KEY_STORE_FILE, MemberKeyStore
from hub.members.models import HubMember
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.store.pii import PiiError, PiiKey

__all__ = ["LoyaltySettings", "configure", "configure_loyalty", "member_birthday", "settings"]

KeySource = Callable[[], PiiKey | None]


class LoyaltySettings:
    """The rules the hub checks sales against, and the keys to read members' personal data."""

    def __init__(self) -> None:
        self.rules = LoyaltyRules()
        self.rules_version = 0  # the stored version ``rules`` came from (0: defaults); see hub.rules.store
        self._key: PiiKey | None = None
        self._key_source: KeySource | None = None
        # members' data keys (crypto-shredding); None: a hub without a data directory (a tool or a
        # test), which keeps members' personal data under the business key as before
        self.key_store: MemberKeyStore | None = None

    @property
    def key(self) -> PiiKey | None:
        """The business keys in force (the current one first), reading members' data keys from the
        key store; None when the hub has none."""
        ring = self._key_source() if self._key_source is not None else self._key
        if ring is None or self.key_store is None:
            return ring
        return ring.with_data_keys(self.key_store.get)

    @key.setter
    def key(self, value: PiiKey | None) -> None:
        self._key, self._key_source = value, None

    def watch_keys(self, source: KeySource) -> None:
        """Read the keys from ``source`` at each use (it caches; it reads the files when they change)."""
        self._key_source = source


settings = LoyaltySettings()


def configure(
    rules: LoyaltyRules,
    key: PiiKey | KeySource | None,
    version: int = 0,
    key_store: MemberKeyStore | None = None,
) -> None:
    """Set the rules (stored ``version``) and key at hub start (and when the owner changes the rules).

    ``key`` is a key, or a source the hub asks for the keys in force at each use; ``key_store``
    holds members' data keys (None: members are kept under the business key alone).
    """
    settings.rules = rules
    settings.key_store = key_store
    if callable(key):
        settings.watch_keys(key)
    else:
        settings.key = key
    settings.rules_version = version


def configure_loyalty(data_dir: Path) -> bool:
    """Give the hub the business keys in ``data_dir``, read again when they change; True if there is one.

    Without a key the hub still books every sale and checks points; it only cannot
    read members' birthdays (for birthday multipliers) and says so in the log.
    The keys are watched (:class:`hub.members.business_keys.KeyFiles`): after
    ``hub keys rotate`` a running hub writes with the new key without a restart. Members' data
    keys are kept in ``member_keys.db`` beside it (:mod:`hub.members.key_store`).
    The owner's rules come from the database: ``hub.rules.store.refresh``.
    """
    path = data_dir / KEY_FILE
    configure(LoyaltyRules(), KeyFiles(data_dir), key_store=MemberKeyStore(data_dir / KEY_STORE_FILE))
    if not path.exists():
        logging.getLogger(__name__).warning(
            "no business key at %s: birthday rules cannot be checked (run `hub device add` first)", path
        )
        return False
    return True


def member_birthday(member: HubMember | None) -> dt.date | None:
    """The member's birthday, decrypted with the business key (None without key or birthday)."""
    key = settings.key
    if member is None or not member.birthday_enc or key is None:
        return None
    try:
        text = key.decrypt(member.birthday_enc, f"{member.id}:birthday")
    except PiiError:
        return None
    return dt.date.fromisoformat(text)
