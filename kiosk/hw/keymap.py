"""Decode US-layout keyboard-wedge key events (evdev) into scanned codes.

Scanners and card readers are USB HID keyboards. We read their raw key events
and decode them ourselves, so the codes never depend on the desktop's layout.

- Only key-down events (value 1) type; auto-repeat (value 2) is ignored and
  key-up (value 0) only releases modifiers.
- Shift, Caps Lock (letters only, as on a PC), keypad digits and operators.
- Ctrl + letter or ``[ \\ ]`` types the ASCII control character (scanners send
  the GS1 separator as Ctrl+]).
- Alt held + keypad digits types the Unicode code point with that decimal
  number when Alt is released: scanners set to "Unicode Alt mode" send Chinese
  text in QR codes this way.
- Enter, keypad Enter or Tab ends a code (configurable); a configured prefix
  and suffix are removed.
- A code whose keys stop for longer than ``gap`` seconds (measured on the
  events' own timestamps, never the wall clock) is incomplete: it is dropped
  and logged, so half a scan never glues onto the next one.
- A kernel buffer overrun (``SYN_DROPPED``) drops the code being typed.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from evdev import InputEvent, ecodes

log = logging.getLogger(__name__)

KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2

# key code -> (plain, shifted)
_KEYS: dict[int, tuple[str, str]] = {}
_KEYPAD: dict[int, str] = {}


def _build_keymap() -> None:
    rows = {
        "1234567890": "!@#$%^&*()",
        "-=[]\\;',./`": '_+{}|:"<>?~',
    }
    names = {
        "-": "MINUS",
        "=": "EQUAL",
        "[": "LEFTBRACE",
        "]": "RIGHTBRACE",
        "\\": "BACKSLASH",
        ";": "SEMICOLON",
        "'": "APOSTROPHE",
        ",": "COMMA",
        ".": "DOT",
        "/": "SLASH",
        "`": "GRAVE",
    }
    for plain, shifted in rows.items():
        for p, s in zip(plain, shifted, strict=True):
            code = getattr(ecodes, f"KEY_{names.get(p, p)}")
            _KEYS[code] = (p, s)
    for letter in "abcdefghijklmnopqrstuvwxyz":
        _KEYS[getattr(ecodes, f"KEY_{letter.upper()}")] = (letter, letter.upper())
    _KEYS[ecodes.KEY_SPACE] = (" ", " ")
    for digit in "0123456789":
        _KEYPAD[getattr(ecodes, f"KEY_KP{digit}")] = digit
    _KEYPAD.update(
        {
            ecodes.KEY_KPMINUS: "-",
            ecodes.KEY_KPPLUS: "+",
            ecodes.KEY_KPASTERISK: "*",
            ecodes.KEY_KPSLASH: "/",
            ecodes.KEY_KPDOT: ".",
        }
    )


_build_keymap()
_SHIFTS = frozenset({ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT})
_CTRLS = frozenset({ecodes.KEY_LEFTCTRL, ecodes.KEY_RIGHTCTRL})
_ALTS = frozenset({ecodes.KEY_LEFTALT, ecodes.KEY_RIGHTALT})
_LETTERS = frozenset(code for code, (plain, _) in _KEYS.items() if plain.isalpha())
#: Ctrl + these keys types a control character (Ctrl+] is GS, the GS1 separator).
_CTRL_CHARS: dict[int, str] = {
    code: chr(ord(plain.upper()) - 64)
    for code, (plain, _) in _KEYS.items()
    if plain.isalpha() or plain in "[\\]"
}
DEFAULT_TERMINATORS = frozenset({ecodes.KEY_ENTER, ecodes.KEY_KPENTER, ecodes.KEY_TAB})
_CHAR_TO_KEY: dict[str, tuple[int, bool]] = {}
for _code, (_plain, _shifted) in _KEYS.items():
    _CHAR_TO_KEY[_plain] = (_code, False)
    if _shifted != _plain:
        _CHAR_TO_KEY[_shifted] = (_code, True)
_DIGIT_TO_KEYPAD = {char: code for code, char in _KEYPAD.items() if char.isdigit()}
_CONTROL_TO_KEY = {char: code for code, char in _CTRL_CHARS.items()}


@dataclass(frozen=True)
class DecoderSettings:
    """How one device frames its codes (from the device's section of kiosk.toml)."""

    terminators: frozenset[int] = DEFAULT_TERMINATORS
    prefix: str = ""
    suffix: str = ""
    gap: float = 0.2  # seconds allowed between two keys of one code


@dataclass
class _Modifiers:
    shift: set[int] = field(default_factory=set)
    ctrl: set[int] = field(default_factory=set)
    alt: set[int] = field(default_factory=set)
    caps_lock: bool = False


class KeyDecoder:
    """Feeds on key events from one device; returns a code when a terminator arrives.

    Pure: time comes only from the events' timestamps (or :meth:`expire`'s argument).
    """

    def __init__(self, settings: DecoderSettings | None = None, name: str = "") -> None:
        self.settings = settings or DecoderSettings()
        self.name = name
        self.dropped = 0  # incomplete codes thrown away (gap, overrun)
        self._buffer: list[str] = []
        self._alt_digits: list[str] = []
        self._mods = _Modifiers()
        self._last_key_at: float | None = None

    @property
    def pending(self) -> str:
        """What has been typed of the current code so far."""
        return "".join(self._buffer)

    def feed(self, event: InputEvent) -> str | None:
        """Take one event; return the finished code on a terminator, else None."""
        if event.type == ecodes.EV_SYN and event.code == ecodes.SYN_DROPPED:
            self._drop("input buffer overrun (SYN_DROPPED)")
            return None
        if event.type != ecodes.EV_KEY or event.value == KEY_REPEAT:
            return None
        at = event.timestamp()
        self.expire(at)
        self._last_key_at = at
        if self._track_modifier(event):
            return None
        if event.value != KEY_DOWN:
            return None
        return self._key_down(event.code)

    def expire(self, now: float) -> bool:
        """Drop an incomplete code whose last key is older than the gap; True if dropped."""
        if self._last_key_at is None or now - self._last_key_at <= self.settings.gap:
            return False
        if not (self._buffer or self._alt_digits):
            return False
        self._drop(f"no terminator within {self.settings.gap:.3f} s")
        return True

    def _drop(self, why: str) -> None:
        if self._buffer or self._alt_digits:
            self.dropped += 1
            log.warning("%s: dropped incomplete code %r: %s", self.name, self.pending, why)
        self._buffer.clear()
        self._alt_digits.clear()

    def _track_modifier(self, event: InputEvent) -> bool:
        for keys, held in (
            (_SHIFTS, self._mods.shift),
            (_CTRLS, self._mods.ctrl),
            (_ALTS, self._mods.alt),
        ):
            if event.code in keys:
                if event.value == KEY_DOWN:
                    held.add(event.code)
                else:
                    held.discard(event.code)
                    if keys is _ALTS and not held:
                        self._finish_alt_code()
                return True
        if event.code == ecodes.KEY_CAPSLOCK:
            if event.value == KEY_DOWN:
                self._mods.caps_lock = not self._mods.caps_lock
            return True
        return False

    def _finish_alt_code(self) -> None:
        if not self._alt_digits:
            return
        point = int("".join(self._alt_digits))
        self._alt_digits.clear()
        if 0 < point <= 0x10FFFF and not 0xD800 <= point <= 0xDFFF:
            self._buffer.append(chr(point))
        else:
            log.warning("%s: ignored Alt code %d (not a Unicode character)", self.name, point)

    def _key_down(self, code: int) -> str | None:
        if code in self.settings.terminators:
            return self._finish()
        if self._mods.alt:
            if code in _KEYPAD and _KEYPAD[code].isdigit():
                self._alt_digits.append(_KEYPAD[code])
            return None
        if self._mods.ctrl:
            if code in _CTRL_CHARS:
                self._buffer.append(_CTRL_CHARS[code])
            return None
        if code in _KEYPAD:
            self._buffer.append(_KEYPAD[code])
        elif code in _KEYS:
            self._buffer.append(self._char(code))
        return None

    def _char(self, code: int) -> str:
        upper = bool(self._mods.shift)
        if code in _LETTERS and self._mods.caps_lock:
            upper = not upper
        return _KEYS[code][1 if upper else 0]

    def _finish(self) -> str | None:
        code = "".join(self._buffer)
        self._buffer.clear()
        self._alt_digits.clear()
        prefix, suffix = self.settings.prefix, self.settings.suffix
        if prefix and code.startswith(prefix):
            code = code[len(prefix) :]
        if suffix and code.endswith(suffix):
            code = code[: -len(suffix)]
        return code or None


class PerDeviceDecoders:
    """One :class:`KeyDecoder` per device, so two devices typing at once never interleave."""

    def __init__(self, settings: dict[str, DecoderSettings] | None = None) -> None:
        self._settings = settings or {}
        self._decoders: dict[str, KeyDecoder] = {}

    def decoder(self, device: str) -> KeyDecoder:
        """The decoder for ``device``, created on first use."""
        if device not in self._decoders:
            self._decoders[device] = KeyDecoder(self._settings.get(device), name=device)
        return self._decoders[device]

    def feed(self, device: str, event: InputEvent) -> str | None:
        """Feed ``event`` from ``device`` to that device's own decoder."""
        return self.decoder(device).feed(event)


def _keys_for_char(char: str) -> list[tuple[int, ...]]:
    """Key strokes for one character: a tuple of modifiers followed by the key."""
    if char in _CHAR_TO_KEY:
        code, shifted = _CHAR_TO_KEY[char]
        return [(ecodes.KEY_LEFTSHIFT, code) if shifted else (code,)]
    if char in _CONTROL_TO_KEY:
        return [(ecodes.KEY_LEFTCTRL, _CONTROL_TO_KEY[char])]
    if ord(char) > 127:
        return [(ecodes.KEY_LEFTALT, *(_DIGIT_TO_KEYPAD[d] for d in str(ord(char))))]
    raise ValueError(f"a US-layout scanner cannot type {char!r}")


def key_events_for(
    text: str, at: float = 0.0, spacing: float = 0.0, terminator: int = ecodes.KEY_ENTER
) -> Iterator[InputEvent]:
    """The evdev events a US-layout HID scanner sends for ``text`` and a terminator.

    Each key press and release is followed by ``SYN_REPORT``; timestamps start at
    ``at`` and advance by ``spacing`` seconds per key press. Non-ASCII characters
    are typed as Alt + keypad decimal code point ("Unicode Alt mode").
    """
    clock = [round(at * 1_000_000)]

    def emit(code: int, value: int) -> Iterator[InputEvent]:
        sec, usec = divmod(clock[0], 1_000_000)
        yield InputEvent(sec, usec, ecodes.EV_KEY, code, value)
        yield InputEvent(sec, usec, ecodes.EV_SYN, ecodes.SYN_REPORT, 0)

    def stroke(keys: tuple[int, ...]) -> Iterator[InputEvent]:
        modifier, presses = (keys[0], keys[1:]) if len(keys) > 1 else (None, keys)
        if modifier is not None:
            yield from emit(modifier, KEY_DOWN)
        for code in presses:
            yield from emit(code, KEY_DOWN)
            yield from emit(code, KEY_UP)
            clock[0] += round(spacing * 1_000_000)
        if modifier is not None:
            yield from emit(modifier, KEY_UP)

    for char in text:
        for keys in _keys_for_char(char):
            yield from stroke(keys)
    yield from stroke((terminator,))
