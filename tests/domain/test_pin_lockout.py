"""The PIN lockout's rules: five wrong PINs in a row lock a phone for five minutes."""

from kiosk.domain.loyalty.pin_lockout import PinLockout, PinTries


def test_five_wrong_pins_lock_the_phone_and_a_right_one_resets_the_count() -> None:
    lockout = PinLockout()
    assert [lockout.wrong("a", 0.0) for _ in range(4)] == [4, 3, 2, 1]
    lockout.right("a")
    assert [lockout.wrong("a", 1.0) for _ in range(5)] == [4, 3, 2, 1, 0]
    assert (lockout.seconds_locked("a", 1.0), lockout.seconds_locked("a", 300.5)) == (300, 1)
    assert lockout.seconds_locked("b", 1.0) == 0
    assert lockout.seconds_locked("a", 301.0) == 0
    assert lockout.wrong("a", 302.0) == 4


def test_tries_as_a_value() -> None:
    tries = PinTries().after_wrong(10.0, max_wrong=2, lock_s=60)
    assert (tries, tries.tries_left(2)) == (PinTries(1, 0.0), 1)
    locked = tries.after_wrong(11.0, max_wrong=2, lock_s=60)
    assert (locked, locked.tries_left(2)) == (PinTries(0, 71.0), 0)
    assert [locked.seconds_locked(t, 60) for t in (11.0, 70.2, 71.0, -1000.0)] == [60, 1, 0, 60]
