"""Locking phone + PIN sign-in after repeated wrong PINs.

Pure: the caller passes a monotonic time in seconds. Attempts are counted per
phone (its blind index), so guessing one member's PIN cannot lock out others.
"""

from dataclasses import dataclass, field

MAX_WRONG = 5  # wrong PINs in a row before the phone is locked
LOCK_S = 300.0  # how long the lock lasts


@dataclass
class PinLockout:
    """Wrong-PIN counts and locks per phone; a right PIN clears that phone's count."""

    max_wrong: int = MAX_WRONG
    lock_s: float = LOCK_S
    _wrong: dict[str, int] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)

    def seconds_locked(self, phone_key: str, now: float) -> int:
        """Whole seconds (rounded up) until ``phone_key`` may try again; 0 when not locked."""
        until = self._locked_until.get(phone_key, 0.0)
        if until <= now:
            self._locked_until.pop(phone_key, None)
            return 0
        return int(-(-(until - now) // 1))

    def wrong(self, phone_key: str, now: float) -> int:
        """Count a wrong PIN; return the tries left before the lock (0: now locked)."""
        count = self._wrong.get(phone_key, 0) + 1
        if count >= self.max_wrong:
            self._wrong.pop(phone_key, None)
            self._locked_until[phone_key] = now + self.lock_s
            return 0
        self._wrong[phone_key] = count
        return self.max_wrong - count

    def right(self, phone_key: str) -> None:
        """A right PIN: forget the wrong ones."""
        self._wrong.pop(phone_key, None)
