"""Wrong member PINs on a real SQLite file: the count and the lock survive closing and reopening it."""

from pathlib import Path

from kiosk.store import members, open_database
from kiosk.store.connection import database
from kiosk.store.member_models import Member
from kiosk.store.members import hub_copy
from kiosk.store.pii import PiiKey
from kiosk.store.pin_tries import PinTryRow, StoredPinLockout
from tests.store.test_member_account import KEY, NOW, TERMINAL, join

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
    StoredPinLockout().wrong(member.id, T0)
    assert (PinTryRow.get_by_id(member.id).wrong, _outbox_count()) == (1, events)
    members.request_erasure(TERMINAL, NOW, member.id)
    assert PinTryRow.select().count() == 0


def test_wrong_pins_for_a_phone_outlive_a_business_key_rotation(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    member = join(phone="138 1234 1234")
    lockout = StoredPinLockout()
    assert members.pin_holder(KEY, "13812341234") == member.id
    assert [lockout.wrong(members.pin_holder(KEY, "138 1234 1234"), T0 + i) for i in range(3)] == [4, 3, 2]
    # the owner rotates the business key: the hub's copy of the member comes down under the new key
    new = PiiKey(bytes(range(32, 64)), older=(bytes(range(32)),))
    copy = {f.name: getattr(Member.get_by_id(member.id), f.name) for f in Member._meta.sorted_fields}
    copy |= {"phone_index": new.blind_index("+8613812341234"), "key_id": new.key_id}
    with database.atomic():
        hub_copy.apply_states([{"id": member.id, "version": 9, "erased": False, "member": copy,
                                "cards": [], "balances": {}, "through_seq": 0}])  # fmt: skip
    assert Member.get_by_id(member.id).phone_index != member.phone_index  # the index changed
    assert members.pin_holder(new, "13812341234") == member.id
    assert lockout.wrong(members.pin_holder(new, "13812341234"), T0 + 5) == 1  # the count went on
    assert lockout.wrong(members.pin_holder(new, "13812341234"), T0 + 6) == 0
    assert lockout.seconds_locked(members.pin_holder(new, "13812341234"), T0 + 7) == 299
    # a phone of no member counts under its blind index, as before
    stranger = members.pin_holder(new, "139 0000 0000")
    assert stranger == new.blind_index("+8613900000000")
    assert lockout.wrong(stranger, T0) == 4
    rows = PinTryRow.select().order_by(PinTryRow.wrong)
    assert [(r.holder, r.wrong, r.locked_until) for r in rows] == [
        (member.id, 0, T0 + 6 + 300),
        (stranger, 1, 0),
    ]


def _outbox_count() -> int:
    from kiosk.store.models import Outbox

    return int(Outbox.select().count())
