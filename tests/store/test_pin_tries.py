"""Wrong member PINs on a real SQLite file: the count and the lock survive closing and reopening it."""

from pathlib import Path

from kiosk.store import members, open_database
from kiosk.store.connection import database
from kiosk.store.pin_tries import PinTryRow, StoredPinLockout
from tests.store.test_member_account import NOW, TERMINAL, join

T0 = 1_795_000_000.0  # Unix seconds


def test_wrong_pins_and_the_lock_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    open_database(path)
    lockout = StoredPinLockout()
    assert [lockout.wrong("idx-a", T0 + i) for i in range(4)] == [4, 3, 2, 1]
    database.close()  # the plug is pulled: a new process opens the file
    open_database(path)
    lockout = StoredPinLockout()
    assert lockout.seconds_locked("idx-a", T0 + 10) == 0
    assert lockout.wrong("idx-a", T0 + 10) == 0  # the fifth wrong PIN, in the new process
    assert lockout.seconds_locked("idx-a", T0 + 10) == 300
    database.close()
    db = open_database(path)
    try:
        lockout = StoredPinLockout()
        assert lockout.seconds_locked("idx-a", T0 + 70.5) == 240  # still locked after the restart
        assert lockout.seconds_locked("idx-b", T0 + 70.5) == 0  # another phone is not
        assert lockout.seconds_locked("idx-a", T0 + 310) == 0
        assert lockout.wrong("idx-a", T0 + 311) == 4  # a fresh five tries after the lock
        lockout.right("idx-a")
        assert PinTryRow.select().count() == 0
    finally:
        db.close()


def test_a_clock_set_back_does_not_stretch_the_lock(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    lockout = StoredPinLockout(max_wrong=1, lock_s=300)
    assert lockout.wrong("idx-a", T0) == 0
    assert lockout.seconds_locked("idx-a", T0 - 86_400) == 300  # a day back: five minutes, not a day


def test_pin_tries_write_no_outbox_event_and_go_with_an_erasure(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    member = join()
    events = _outbox_count()
    StoredPinLockout().wrong(member.phone_index, T0)
    assert (PinTryRow.get_by_id(member.phone_index).wrong, _outbox_count()) == (1, events)
    members.request_erasure(TERMINAL, NOW, member.id)
    assert PinTryRow.select().count() == 0


def _outbox_count() -> int:
    from kiosk.store.models import Outbox

    return int(Outbox.select().count())
