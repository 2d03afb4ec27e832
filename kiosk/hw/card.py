"""Card UIDs: one canonical form whatever the reader types, and one tap per card.

Keyboard-wedge card readers type the UID as 10-digit decimal (the 32-bit number,
"10D"), or as hex, sometimes with the bytes reversed. The kiosk stores one
canonical form, chosen in kiosk.toml: ``dec10`` (10 digits, leading zeros kept)
or ``hex`` (upper case, two digits per byte).
"""

import re
from dataclasses import dataclass, field
from typing import Literal

from kiosk import i18n
from kiosk.hw.errors import CardFormatError

ReaderFormat = Literal["auto", "dec", "hex"]
UidForm = Literal["dec10", "hex"]

_HEX = re.compile(r"^[0-9A-Fa-f]+$")
_SEPARATORS = re.compile(r"[\s:\-]")


def _bad_uid(raw: str, why_zh: str, why_en: str) -> CardFormatError:
    return CardFormatError(i18n.bilingual("hw_card_number_wrong", raw=raw, why={"zh": why_zh, "en": why_en}))


def _uid_bytes(raw: str, reader_format: ReaderFormat) -> bytes:
    text = _SEPARATORS.sub("", raw)
    if not text:
        raise _bad_uid(raw, "内容为空", "it is empty")
    if reader_format == "auto":
        reader_format = "dec" if text.isdigit() and len(text) == 10 else "hex"
    if reader_format == "dec":
        if not text.isdigit():
            raise _bad_uid(raw, "十进制卡号只能包含数字", "a decimal UID has digits only")
        number = int(text)
        if number >= 1 << 32:
            raise _bad_uid(raw, "超过 32 位", "it is larger than 32 bits")
        return number.to_bytes(4, "big")
    if not _HEX.match(text) or len(text) % 2:
        raise _bad_uid(raw, "不是整字节的十六进制", "it is not whole bytes of hex")
    return bytes.fromhex(text)


def normalise_uid(
    raw: str,
    form: UidForm = "dec10",
    reader_format: ReaderFormat = "auto",
    reverse_bytes: bool = False,
) -> str:
    """The canonical form of the UID a reader typed.

    ``reader_format`` says how the reader types: ``dec`` (decimal number), ``hex``,
    or ``auto`` (exactly 10 digits is decimal, anything else hex). ``reverse_bytes``
    undoes readers that type the least significant byte first.
    Raises :class:`CardFormatError` when ``raw`` is not a UID, or when a UID longer
    than 4 bytes is asked for as ``dec10``.
    """
    uid = _uid_bytes(raw, reader_format)
    if reverse_bytes:
        uid = uid[::-1]
    if form == "hex":
        return uid.hex().upper()
    if len(uid) > 4:
        raise _bad_uid(raw, "7 字节的卡号无法写成 10 位十进制，请改用 hex", "a 7-byte UID needs form = 'hex'")
    return f"{int.from_bytes(uid, 'big'):010d}"


@dataclass
class CardDebouncer:
    """The same card seen again within ``window`` seconds is the same tap.

    Pure: the caller passes each read's timestamp. A card held on the reader keeps
    extending its tap; a different card is always a new tap.
    """

    window: float = 1.5
    _last_seen: dict[str, float] = field(default_factory=dict)

    def is_new_tap(self, uid: str, at: float) -> bool:
        """True when this read of ``uid`` at time ``at`` is a new tap."""
        previous = self._last_seen.get(uid)
        self._last_seen[uid] = at
        self._forget_older_than(at - self.window)
        return previous is None or at - previous >= self.window

    def _forget_older_than(self, cutoff: float) -> None:
        for uid in [u for u, seen in self._last_seen.items() if seen < cutoff]:
            del self._last_seen[uid]
