"""Decode US-layout keyboard-wedge key events (evdev) into scanned codes.

Scanners and card readers are USB HID keyboards. We read their raw key events
and decode them ourselves, so the codes never depend on the desktop's layout.
Only key-down events (value 1) count; auto-repeat (value 2) and key-up (0) are
ignored. Enter or Tab ends a code.
"""

from collections.abc import Iterator

from evdev import InputEvent, ecodes

KEY_DOWN = 1

# key code -> (plain, shifted)
_KEYS: dict[int, tuple[str, str]] = {}


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
        _KEYS[getattr(ecodes, f"KEY_KP{digit}")] = (digit, digit)


_build_keymap()
_SHIFTS = {ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT}
_TERMINATORS = {ecodes.KEY_ENTER, ecodes.KEY_KPENTER, ecodes.KEY_TAB}
_CHAR_TO_KEY: dict[str, tuple[int, bool]] = {}
for _code, (_plain, _shifted) in sorted(_KEYS.items(), reverse=True):
    # reversed so main-row digits win over keypad digits
    _CHAR_TO_KEY[_plain] = (_code, False)
    if _shifted != _plain:
        _CHAR_TO_KEY[_shifted] = (_code, True)


class KeyDecoder:
    """Feeds on key events from one device; returns a code when a terminator arrives."""

    def __init__(self) -> None:
        self._buffer: list[str] = []
        self._shift_down: set[int] = set()

    def feed(self, event: InputEvent) -> str | None:
        """Take one event; return the finished code on Enter/Tab, else None."""
        if event.type != ecodes.EV_KEY:
            return None
        if event.code in _SHIFTS:
            if event.value == KEY_DOWN:
                self._shift_down.add(event.code)
            elif event.value == 0:
                self._shift_down.discard(event.code)
            return None
        if event.value != KEY_DOWN:
            return None
        if event.code in _TERMINATORS:
            code, self._buffer = "".join(self._buffer), []
            return code or None
        chars = _KEYS.get(event.code)
        if chars is not None:
            self._buffer.append(chars[1] if self._shift_down else chars[0])
        return None


def key_events_for(text: str, at: float = 0.0) -> Iterator[InputEvent]:
    """The evdev events a US-layout HID scanner sends for ``text`` and Enter."""
    sec, usec = int(at), int((at % 1) * 1_000_000)

    def key(code: int, value: int) -> Iterator[InputEvent]:
        yield InputEvent(sec, usec, ecodes.EV_KEY, code, value)
        yield InputEvent(sec, usec, ecodes.EV_SYN, ecodes.SYN_REPORT, 0)

    for char in text:
        if char not in _CHAR_TO_KEY:
            raise ValueError(f"a US-layout scanner cannot type {char!r}")
        code, shifted = _CHAR_TO_KEY[char]
        if shifted:
            yield from key(ecodes.KEY_LEFTSHIFT, 1)
        yield from key(code, 1)
        yield from key(code, 0)
        if shifted:
            yield from key(ecodes.KEY_LEFTSHIFT, 0)
    yield from key(ecodes.KEY_ENTER, 1)
    yield from key(ecodes.KEY_ENTER, 0)
