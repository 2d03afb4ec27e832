"""Locking a phone's PIN after repeated wrong PINs.

Pure: the caller passes the time in seconds on its own clock. Attempts are
counted per phone (its blind index), so guessing one member's PIN cannot lock
out others. :class:`PinTries` is one phone's state as a value, so the terminal
can keep it in its database (:mod:`kiosk.store.pin_tries`) and the hub in
memory (:class:`PinLockout`).
"""

from dataclasses import dataclass, field

MAX_WRONG = 5  # wrong PINs in a row before the phone is locked
LOCK_S = 300.0  # how long the lock lasts


@dataclass(frozen=True)
class PinTries:
    """One phone's wrong PINs in a row and, once locked, until when (0: not locked)."""

    wrong: int = 0
    locked_until: float = 0.0

    def seconds_locked(self, now: float, lock_s: float = LOCK_S) -> int:
        """Whole seconds (rounded up) until the phone may try again; 0 when not locked.

        Never more than ``lock_s``: a clock set back after the lock began does not
        stretch it.
        """
        left = min(self.locked_until - now, lock_s)
        return int(-(-left // 1)) if left > 0 else 0

    def after_wrong(self, now: float, max_wrong: int = MAX_WRONG, lock_s: float = LOCK_S) -> "PinTries":
        """The state after one more wrong PIN: locked for ``lock_s`` at the ``max_wrong``-th."""
        count = self.wrong + 1
        if count >= max_wrong:
            return PinTries(0, now + lock_s)
        return PinTries(count, self.locked_until)

    def tries_left(self, max_wrong: int = MAX_WRONG) -> int:
        """Wrong PINs left before the lock (0 right after locking)."""
        return 0 if self.wrong == 0 and self.locked_until else max_wrong - self.wrong


@dataclass
class PinLockout:
    """Wrong-PIN counts and locks per phone, in memory; a right PIN clears that phone's count."""

    max_wrong: int = MAX_WRONG
    lock_s: float = LOCK_S
    _tries: dict[str, PinTries] = field(default_factory=dict)

    def seconds_locked(self, phone_key: str, now: float) -> int:
        """Whole seconds (rounded up) until ``phone_key`` may try again; 0 when not locked."""
        tries = self._tries.get(phone_key, PinTries())
        seconds = tries.seconds_locked(now, self.lock_s)
        if not seconds and tries.locked_until:
            self._tries[phone_key] = PinTries(tries.wrong)  # the lock is over
        return seconds

    def wrong(self, phone_key: str, now: float) -> int:
        """Count a wrong PIN; return the tries left before the lock (0: now locked)."""
        tries = self._tries.get(phone_key, PinTries()).after_wrong(now, self.max_wrong, self.lock_s)
        self._tries[phone_key] = tries
        return tries.tries_left(self.max_wrong)

    def right(self, phone_key: str) -> None:
        """A right PIN: forget the wrong ones."""
        self._tries.pop(phone_key, None)
