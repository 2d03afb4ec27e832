"""Wrong member PINs per phone, kept in the terminal's SQLite so a restart does not reset them.

Local security state, not a member change: it writes no outbox event and never
leaves the terminal (each terminal counts the tries made at it). A row is keyed
by its holder (:func:`kiosk.store.members.pin_holder`): the member's id for a
member's phone, so a business-key rotation, which changes the phone's blind
index, does not start the count again; the blind index for a phone that is no
member here. Never the phone itself.
Times are wall-clock Unix seconds, because a monotonic clock restarts with the
process; :meth:`PinTries.seconds_locked` caps a lock at its length, so a clock
set back cannot stretch it.
"""

from peewee import CharField, FloatField, IntegerField

from kiosk.domain.loyalty.pin_lockout import LOCK_S, MAX_WRONG, PinTries
from kiosk.store.connection import database
from kiosk.store.models import BaseModel


class PinTryRow(BaseModel):
    """One holder's wrong PINs in a row and the end of its lock (Unix seconds, 0: none)."""

    holder = CharField(primary_key=True)  # a member id, or a blind index for a phone of no member
    wrong = IntegerField(default=0)
    locked_until = FloatField(default=0.0)

    class Meta:
        table_name = "pin_tries"


PIN_TRIES_MODELS = [PinTryRow]


def _held(holder: str) -> PinTries:
    row = PinTryRow.get_or_none(PinTryRow.holder == holder)
    return PinTries(int(row.wrong), float(row.locked_until)) if row else PinTries()


class StoredPinLockout:
    """:class:`kiosk.domain.loyalty.pin_lockout.PinLockout`'s interface, with the counts in SQLite."""

    def __init__(self, max_wrong: int = MAX_WRONG, lock_s: float = LOCK_S) -> None:
        self.max_wrong, self.lock_s = max_wrong, lock_s

    def seconds_locked(self, holder: str, now: float) -> int:
        """Whole seconds until ``holder`` may try again (0: not locked); ``now`` in Unix seconds."""
        return _held(holder).seconds_locked(now, self.lock_s)

    def wrong(self, holder: str, now: float) -> int:
        """Count a wrong PIN; return the tries left before the lock (0: now locked)."""
        with database.atomic("IMMEDIATE"):
            tries = _held(holder).after_wrong(now, self.max_wrong, self.lock_s)
            values = {"wrong": tries.wrong, "locked_until": tries.locked_until}
            PinTryRow.insert(holder=holder, **values).on_conflict(
                conflict_target=[PinTryRow.holder], update=values
            ).execute()
        return tries.tries_left(self.max_wrong)

    def right(self, holder: str) -> None:
        """A right PIN: forget the wrong ones (a lock still running was checked before)."""
        forget(holder)


def forget(holder: str) -> None:
    """Drop the holder's row: after a right PIN, or when the member is erased."""
    PinTryRow.delete().where(PinTryRow.holder == holder).execute()


__all__ = ["PIN_TRIES_MODELS", "PinTryRow", "StoredPinLockout", "forget"]
