"""Keymap decoder tests from real ``evdev.InputEvent`` sequences.

There is no /dev/uinput on the build machines, so these events are built in
process with ``evdev.InputEvent(sec, usec, type, code, value)`` exactly as the
kernel would deliver them; tests/hw/test_uinput.py goes through a real kernel
device where one exists.
"""

import string

import pytest
from evdev import InputEvent, ecodes

from kiosk.hw.keymap import (
    DecoderSettings,
    KeyDecoder,
    PerDeviceDecoders,
    key_events_for,
)


def decode_all(decoder: KeyDecoder, events) -> list[str]:
    return [code for event in events if (code := decoder.feed(event)) is not None]


def key(code: int, value: int, at: float = 10.0) -> list[InputEvent]:
    sec, usec = divmod(round(at * 1_000_000), 1_000_000)
    return [
        InputEvent(sec, usec, ecodes.EV_KEY, code, value),
        InputEvent(sec, usec, ecodes.EV_SYN, ecodes.SYN_REPORT, 0),
    ]


@pytest.mark.parametrize("char", list(string.printable[:95]))
def test_every_printable_ascii_character_round_trips(char: str) -> None:
    text = f"A{char}z"
    assert decode_all(KeyDecoder(), key_events_for(text, at=1.0, spacing=0.001)) == [text]


@pytest.mark.parametrize(
    "code",
    [
        "96385074",  # EAN-8
        "4006381333931",  # EAN-13
        "036000291452",  # UPC-A
        "ABC-abc-1234/+.$%",  # Code 128 with mixed case and symbols
        "0109501101530003\x1d10ABC123",  # GS1-128: GS sent as Ctrl+]
        "https://shop.example.cn/m?id=42&ref=qr#top",  # QR with a URL
        "会员卡：张三 ¥12.50",  # QR with Chinese text, scanner in Unicode Alt mode
        "134567890123456789",  # WeChat Pay auth code
        "28123456789012345678",  # Alipay auth code
        "0012345678",  # card UID, 10-digit decimal
    ],
)
def test_scanner_payloads_decode_exactly(code: str) -> None:
    assert decode_all(KeyDecoder(), key_events_for(code, at=100.0, spacing=0.003)) == [code]


def test_tab_and_keypad_enter_terminate_like_enter() -> None:
    decoder = KeyDecoder()
    events = [
        *key_events_for("123", terminator=ecodes.KEY_TAB),
        *key_events_for("456", terminator=ecodes.KEY_KPENTER),
    ]
    assert decode_all(decoder, events) == ["123", "456"]


def test_only_configured_terminators_end_a_code() -> None:
    decoder = KeyDecoder(DecoderSettings(terminators=frozenset({ecodes.KEY_ENTER})))
    events = [*key(ecodes.KEY_1, 1), *key(ecodes.KEY_TAB, 1), *key(ecodes.KEY_2, 1)]
    events += key(ecodes.KEY_ENTER, 1)
    assert decode_all(decoder, events) == ["12"]


def test_keypad_digits_and_operators_type_their_characters() -> None:
    codes = [ecodes.KEY_KP7, ecodes.KEY_KPDOT, ecodes.KEY_KP0, ecodes.KEY_KPMINUS]
    codes += [ecodes.KEY_KPPLUS, ecodes.KEY_KPASTERISK, ecodes.KEY_KPSLASH]
    events = [e for c in codes for e in key(c, 1) + key(c, 0)] + key(ecodes.KEY_KPENTER, 1)
    assert decode_all(KeyDecoder(), events) == ["7.0-+*/"]


def test_caps_lock_inverts_letters_only_and_shift_undoes_it() -> None:
    events = key(ecodes.KEY_CAPSLOCK, 1) + key(ecodes.KEY_CAPSLOCK, 0)
    events += key(ecodes.KEY_A, 1) + key(ecodes.KEY_1, 1)
    events += key(ecodes.KEY_RIGHTSHIFT, 1) + key(ecodes.KEY_B, 1) + key(ecodes.KEY_2, 1)
    events += key(ecodes.KEY_RIGHTSHIFT, 0) + key(ecodes.KEY_CAPSLOCK, 1)
    events += key(ecodes.KEY_C, 1) + key(ecodes.KEY_ENTER, 1)
    assert decode_all(KeyDecoder(), events) == ["A1b@c"]


def test_auto_repeat_and_key_up_do_not_type() -> None:
    events = key(ecodes.KEY_5, 1) + key(ecodes.KEY_5, 2) + key(ecodes.KEY_5, 2)
    events += key(ecodes.KEY_5, 0) + key(ecodes.KEY_ENTER, 2) + key(ecodes.KEY_ENTER, 1)
    assert decode_all(KeyDecoder(), events) == ["5"]


def test_prefix_and_suffix_are_removed() -> None:
    decoder = KeyDecoder(DecoderSettings(prefix="]Q1", suffix="#"))
    assert decode_all(decoder, key_events_for("]Q1ABC123#")) == ["ABC123"]
    assert decode_all(decoder, key_events_for("NOPREFIX")) == ["NOPREFIX"]


def test_a_code_that_stops_longer_than_the_gap_is_dropped() -> None:
    decoder = KeyDecoder(DecoderSettings(gap=0.05))
    # "123" typed, then nothing for 60 ms, then a full scan of "456".
    partial = [e for e in key_events_for("123", at=1.0, spacing=0.001)][:-4]
    events = partial + list(key_events_for("456", at=1.0 + 0.003 + 0.060, spacing=0.001))
    assert decode_all(decoder, events) == ["456"]
    assert decoder.dropped == 1


def test_a_gap_within_the_limit_keeps_the_code() -> None:
    decoder = KeyDecoder(DecoderSettings(gap=0.05))
    assert decode_all(decoder, key_events_for("789", at=1.0, spacing=0.049)) == ["789"]
    assert decoder.dropped == 0


def test_expire_drops_a_stale_incomplete_code_by_timestamp() -> None:
    decoder = KeyDecoder(DecoderSettings(gap=0.25))
    decode_all(decoder, key(ecodes.KEY_9, 1, at=5.0))
    assert decoder.pending == "9"
    assert decoder.expire(5.25) is False
    assert decoder.expire(5.2501) is True
    assert decoder.pending == ""
    assert decoder.dropped == 1


def test_syn_dropped_discards_the_code_being_typed() -> None:
    decoder = KeyDecoder()
    events = [*key(ecodes.KEY_1, 1), InputEvent(10, 0, ecodes.EV_SYN, ecodes.SYN_DROPPED, 0)]
    events += key(ecodes.KEY_2, 1) + key(ecodes.KEY_ENTER, 1)
    assert decode_all(decoder, events) == ["2"]


def test_empty_code_and_non_key_events_produce_nothing() -> None:
    events = [InputEvent(1, 0, ecodes.EV_MSC, ecodes.MSC_SCAN, 458792)]
    events += key(ecodes.KEY_ENTER, 1) + key(ecodes.KEY_F5, 1) + key(ecodes.KEY_ENTER, 1)
    assert decode_all(KeyDecoder(), events) == []


def test_invalid_alt_code_types_nothing() -> None:
    events = key(ecodes.KEY_LEFTALT, 1) + key(ecodes.KEY_KP5, 1) + key(ecodes.KEY_KP5, 1)
    events += key(ecodes.KEY_KP2, 1) + key(ecodes.KEY_KP9, 1) + key(ecodes.KEY_KP6, 1)
    events += key(ecodes.KEY_LEFTALT, 0) + key(ecodes.KEY_X, 1) + key(ecodes.KEY_ENTER, 1)
    assert decode_all(KeyDecoder(), events) == ["x"]  # 55296 is a surrogate


def test_two_devices_typing_at_once_never_interleave() -> None:
    scanner = list(key_events_for("6901234567892", at=3.0, spacing=0.001))
    card = list(key_events_for("0012345678", at=3.0, spacing=0.001))
    decoders = PerDeviceDecoders()
    out: list[tuple[str, str]] = []
    for i in range(max(len(scanner), len(card))):
        for device, events in (("scanner", scanner), ("card", card)):
            if i < len(events) and (code := decoders.feed(device, events[i])):
                out.append((device, code))
    assert sorted(out) == [("card", "0012345678"), ("scanner", "6901234567892")]


def test_per_device_settings_apply_to_their_device_only() -> None:
    decoders = PerDeviceDecoders({"card": DecoderSettings(prefix="C")})
    card = [c for e in key_events_for("C42") if (c := decoders.feed("card", e))]
    scanner = [c for e in key_events_for("C42") if (c := decoders.feed("scanner", e))]
    assert (card, scanner) == (["42"], ["C42"])


def test_key_events_for_refuses_characters_a_keyboard_cannot_type() -> None:
    with pytest.raises(ValueError, match="cannot type"):
        list(key_events_for("\x00"))
