"""Parse an ESC/POS byte stream back into the operations a printer would perform.

Used by the virtual printer: tests and ``kiosk demo`` assert on what a real
printer would have produced (raster images, cuts, drawer pulses, status
queries). The parser is incremental: bytes may arrive in any split, as they do
over USB and TCP, and an incomplete command waits for the rest.
"""

from dataclasses import dataclass

from PIL import Image

ESC, GS, DLE, LF = 0x1B, 0x1D, 0x10, 0x0A
EOT = 0x04


@dataclass(frozen=True)
class Init:
    """ESC @: reset the printer's modes."""


@dataclass(frozen=True)
class Text:
    """Printable bytes sent as text (code page bytes, not decoded)."""

    data: bytes


@dataclass(frozen=True)
class LineFeed:
    """LF: print the line buffer and feed one line."""


@dataclass(frozen=True)
class Feed:
    """ESC d n: print and feed ``lines`` lines."""

    lines: int


@dataclass(frozen=True)
class Raster:
    """GS v 0: a raster bit image; ``image`` is mode '1' with black = 0 as Pillow draws it."""

    density: int
    image: Image.Image

    @property
    def width(self) -> int:
        """Width in dots (always a multiple of 8)."""
        return self.image.width

    @property
    def height(self) -> int:
        """Height in dots."""
        return self.image.height


@dataclass(frozen=True)
class Cut:
    """GS V: cut the paper, after feeding ``feed`` dot lines (0 when no feed was asked)."""

    partial: bool
    feed: int = 0


@dataclass(frozen=True)
class DrawerPulse:
    """ESC p m t1 t2: pulse the cash drawer connector pin 2 or 5."""

    pin: int
    on_ms: int
    off_ms: int


@dataclass(frozen=True)
class StatusQuery:
    """DLE EOT n: real-time status request; the printer answers one byte."""

    n: int


@dataclass(frozen=True)
class Setting:
    """A mode command with fixed parameters (alignment, bold, line spacing...)."""

    command: bytes


@dataclass(frozen=True)
class Unknown:
    """Bytes the parser does not know; tests assert there are none."""

    data: bytes


Op = Init | Text | LineFeed | Feed | Raster | Cut | DrawerPulse | StatusQuery | Setting | Unknown

# Commands with a fixed number of parameter bytes after the two command bytes.
_FIXED_PARAMS: dict[bytes, int] = {
    b"\x1ba": 1,  # ESC a: justification
    b"\x1bE": 1,  # ESC E: bold
    b"\x1b-": 1,  # ESC -: underline
    b"\x1b!": 1,  # ESC !: print mode
    b"\x1bt": 1,  # ESC t: code page
    b"\x1bM": 1,  # ESC M: font
    b"\x1b2": 0,  # ESC 2: default line spacing
    b"\x1b3": 1,  # ESC 3: line spacing
    b"\x1bG": 1,  # ESC G: double strike
    b"\x1b{": 1,  # ESC {: upside down
    b"\x1bV": 1,  # ESC V: rotation
    b"\x1bc5": 1,  # ESC c 5: panel buttons
    b"\x1bB": 2,  # ESC B: buzzer
    b"\x1d!": 1,  # GS !: character size
    b"\x1dB": 1,  # GS B: reverse
    b"\x1dh": 1,  # GS h: barcode height
    b"\x1dw": 1,  # GS w: barcode width
    b"\x1dH": 1,  # GS H: HRI position
    b"\x1df": 1,  # GS f: HRI font
    b"\x1db": 1,  # GS b: smoothing
}
#: What a parse step yields: the operation (None for a text byte) and the next position,
#: or None when the command at this position is not complete yet.
_Step = tuple["Op | None", int] | None
_INVERT = bytes(255 - i for i in range(256))


def raster_image(width_bytes: int, height: int, data: bytes) -> Image.Image:
    """Rebuild the 1-bit image from GS v 0 raster data (a set bit is a black dot)."""
    # In the raster data 1 = dot printed; in a Pillow '1' image 0 = black.
    return Image.frombytes("1", (width_bytes * 8, height), data.translate(_INVERT))


class EscposParser:
    """Incremental ESC/POS parser: :meth:`feed` bytes, get back the complete operations."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._text = bytearray()

    @property
    def waiting(self) -> int:
        """Bytes held back because they start an incomplete command."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Op]:
        """Parse ``data`` (following everything fed before) into operations."""
        self._buffer += data
        ops: list[Op] = []
        pos = 0
        while pos < len(self._buffer):
            step = self._parse_at(pos)
            if step is None:
                break
            op, pos = step
            if op is not None:
                self._flush_text(ops)
                ops.append(op)
        del self._buffer[:pos]
        if not self._buffer:
            self._flush_text(ops)
        return ops

    def _flush_text(self, ops: list[Op]) -> None:
        if self._text:
            ops.append(Text(bytes(self._text)))
            self._text.clear()

    def _parse_at(self, pos: int) -> _Step:
        byte = self._buffer[pos]
        if byte == ESC:
            return self._esc(pos)
        if byte == GS:
            return self._gs(pos)
        if byte == DLE:
            return self._dle(pos)
        if byte == LF:
            return LineFeed(), pos + 1
        self._text.append(byte)
        return None, pos + 1

    def _need(self, pos: int, count: int) -> bytes | None:
        end = pos + count
        return bytes(self._buffer[pos:end]) if end <= len(self._buffer) else None

    def _esc(self, pos: int) -> _Step:
        head = self._need(pos, 2)
        if head is None:
            return None
        if head == b"\x1b@":
            return Init(), pos + 2
        if head == b"\x1bd":
            n = self._need(pos + 2, 1)
            return None if n is None else (Feed(n[0]), pos + 3)
        if head == b"\x1bp":
            args = self._need(pos + 2, 3)
            if args is None:
                return None
            pin = 2 if args[0] in (0, 48) else 5
            return DrawerPulse(pin, args[1] * 2, args[2] * 2), pos + 5
        if head == b"\x1bc":
            head = self._need(pos, 3)
            if head is None:
                return None
        return self._fixed(pos, head)

    def _gs(self, pos: int) -> _Step:
        head = self._need(pos, 2)
        if head is None:
            return None
        if head == b"\x1dv":
            return self._raster(pos)
        if head == b"\x1dV":
            return self._cut(pos)
        return self._fixed(pos, head)

    def _dle(self, pos: int) -> _Step:
        head = self._need(pos, 3)
        if head is None:
            return None
        if head[1] == EOT:
            return StatusQuery(head[2]), pos + 3
        return Unknown(head[:2]), pos + 2

    def _fixed(self, pos: int, head: bytes) -> _Step:
        if head not in _FIXED_PARAMS:
            return Unknown(head), pos + len(head)
        command = self._need(pos, len(head) + _FIXED_PARAMS[head])
        return None if command is None else (Setting(command), pos + len(command))

    def _raster(self, pos: int) -> _Step:
        header = self._need(pos, 8)  # GS v 0 m xL xH yL yH
        if header is None:
            return None
        if header[2] not in (0x30, 0x00):
            return Unknown(header[:3]), pos + 3
        width_bytes = header[4] | header[5] << 8
        height = header[6] | header[7] << 8
        data = self._need(pos + 8, width_bytes * height)
        if data is None:
            return None
        image = raster_image(width_bytes, height, data)
        return Raster(header[3], image), pos + 8 + len(data)

    def _cut(self, pos: int) -> _Step:
        head = self._need(pos, 3)
        if head is None:
            return None
        mode = head[2]
        if mode in (0, 1, 48, 49):
            return Cut(partial=mode in (1, 49)), pos + 3
        if mode in (65, 66, 97, 98, 103, 104):
            n = self._need(pos + 3, 1)
            if n is None:
                return None
            return Cut(partial=mode in (66, 98, 104), feed=n[0]), pos + 4
        return Unknown(head), pos + 3
