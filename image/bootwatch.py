"""What the boot test watches on the emulated terminal: its serial console, QEMU's monitor, its screen.

- :class:`SerialLog` follows the serial console file (the kernel's and, with
  ``systemd.journald.forward_to_console=1``, the journal's lines) and records
  when each milestone first appeared and every time ``kiosk.service`` was restarted.
- :class:`Monitor` speaks QEMU's human monitor protocol over a UNIX socket:
  ``screendump`` and ``sendkey``.
- :class:`Pointer` speaks QMP (QEMU's JSON machine protocol) over a UNIX socket
  and taps the screen through QEMU's ``usb-tablet`` (absolute coordinates): the
  human monitor's ``mouse_move`` only sends relative motion, which a tablet ignores.
- :func:`idle_problem`, :func:`cart_problem` and :func:`pay_problem` compare a screen dump
  with the screenshots the Xvfb tests take of the same screens (``docs/screenshots/``).

No QEMU is needed to import this module; ``tests/appliance/test_bootwatch.py``
tests it on recorded console lines and on the Xvfb screenshots.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageChops, ImageStat

__all__ = [
    "MILESTONES",
    "Monitor",
    "Pointer",
    "SerialLog",
    "cart_problem",
    "centre",
    "idle_problem",
    "keys_for",
    "pay_problem",
    "tap_events",
]

# What appears on the console at each step of a boot, in order.
MILESTONES = {
    "kernel": re.compile(r"Booting Linux on physical CPU"),
    "systemd": re.compile(r"systemd\[1\]: systemd \d+|Welcome to Debian"),
    "firstboot": re.compile(r"kiosk firstboot: installed device"),
    # systemd reports a Type=notify service as started only once it sent READY=1.
    "ready": re.compile(r"Started kiosk\.service\b"),
}
# Every way systemd says it is bringing kiosk.service back (the lines name the unit).
RESTART = re.compile(r"\bkiosk\.service: Scheduled restart job")
FAILURE = re.compile(r"\bkiosk\.service: (?:Main process exited|Failed with result|Watchdog timeout)")


@dataclass
class SerialLog:
    """The serial console file, read as it grows; times are ``time.monotonic()`` of first sight."""

    path: Path
    started: float = field(default_factory=time.monotonic)
    seen: dict[str, float] = field(default_factory=dict)
    restarts: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _offset: int = 0
    _partial: str = ""

    def poll(self) -> None:
        """Read what was appended since the last poll and note milestones and restarts."""
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            handle.seek(self._offset)
            chunk = handle.read()
        self._offset += len(chunk)
        lines = (self._partial + chunk.decode(errors="replace")).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self.note(line, time.monotonic())

    def note(self, line: str, now: float) -> None:
        """Record what one console line says happened at ``now``."""
        for name, pattern in MILESTONES.items():
            if name not in self.seen and pattern.search(line):
                self.seen[name] = now
        if RESTART.search(line):
            self.restarts.append(now)
        if FAILURE.search(line):
            self.failures.append(line.strip())

    def at(self, name: str) -> float | None:
        """Seconds from ``started`` to milestone ``name``, or None if not seen yet."""
        return self.seen[name] - self.started if name in self.seen else None

    def restarts_since(self, moment: float) -> int:
        """How many restarts of kiosk.service the console showed after ``moment``."""
        return sum(1 for t in self.restarts if t > moment)

    def wait_for(self, name: str, deadline: float, alive: threading.Event | None = None) -> bool:
        """Poll until milestone ``name`` appears (True) or ``deadline`` / ``alive`` cleared (False)."""
        while time.monotonic() < deadline and (alive is None or alive.is_set()):
            self.poll()
            if name in self.seen:
                return True
            time.sleep(0.5)
        self.poll()
        return name in self.seen


class Monitor:
    """QEMU's human monitor on a UNIX socket (``-monitor unix:PATH,server=on,wait=off``)."""

    PROMPT = b"(qemu) "

    def __init__(self, path: Path, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(str(path))
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        self.sock.settimeout(timeout)
        self._read_to_prompt()

    def _read_to_prompt(self) -> str:
        data = b""
        while not data.endswith(self.PROMPT):
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("QEMU closed its monitor / QEMU 监视器已关闭")
            data += chunk
        return data.decode(errors="replace")

    def command(self, line: str) -> str:
        """Run one monitor command; its output (with the echo)."""
        self.sock.sendall(line.encode() + b"\n")
        return self._read_to_prompt()

    def screendump(self, target: Path) -> Image.Image:
        """The guest's screen now, as RGB (QEMU writes PPM; ``target`` gets a PNG copy)."""
        ppm = target.with_suffix(".ppm")
        ppm.unlink(missing_ok=True)
        self.command(f"screendump {ppm}")
        with Image.open(ppm) as dumped:
            image = dumped.convert("RGB")
        image.save(target)
        ppm.unlink()
        return image

    def type_code(self, code: str, hold_ms: int = 30) -> None:
        """Type ``code`` and Enter on the emulated USB keyboard, as a scanner does."""
        for key in keys_for(code):
            self.command(f"sendkey {key} {hold_ms}")

    def close(self) -> None:
        """Close the socket (QEMU keeps running)."""
        self.sock.close()


# QEMU's absolute pointer axes run 0..0x7fff across the whole screen (INPUT_EVENT_ABS_MAX).
ABS_MAX = 0x7FFF


def tap_events(x: int, y: int, size: tuple[int, int], down: bool) -> list[dict[str, object]]:
    """QMP ``input-send-event`` events that put the tablet at pixel (x, y) of a ``size`` screen and
    press (``down``) or release its left button."""
    width, height = size
    if not (0 <= x < width and 0 <= y < height):
        raise ValueError(f"({x}, {y}) is outside the {width}x{height} screen")
    return [
        {"type": "abs", "data": {"axis": "x", "value": round(x * ABS_MAX / (width - 1))}},
        {"type": "abs", "data": {"axis": "y", "value": round(y * ABS_MAX / (height - 1))}},
        {"type": "btn", "data": {"down": down, "button": "left"}},
    ]


class Pointer:
    """QEMU's QMP socket (``-qmp unix:PATH,server=on,wait=off``), used to tap the screen with the
    emulated ``usb-tablet`` as a finger taps the terminal's touchscreen."""

    def __init__(self, path: Path, size: tuple[int, int] = (800, 480), timeout: float = 60.0) -> None:
        self.size = size
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(str(path))
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        self.sock.settimeout(timeout)
        self._buffer = b""
        self._read()  # the greeting
        self.execute("qmp_capabilities")

    def _read(self) -> dict[str, object]:
        while b"\n" not in self._buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("QEMU closed its QMP socket / QEMU QMP 已关闭")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command: str, arguments: dict[str, object] | None = None) -> object:
        """Run one QMP command; its ``return`` (asynchronous events in between are skipped)."""
        message: dict[str, object] = {"execute": command}
        if arguments is not None:
            message["arguments"] = arguments
        self.sock.sendall(json.dumps(message).encode() + b"\n")
        while True:
            reply = self._read()
            if "error" in reply:
                raise RuntimeError(f"QMP {command}: {reply['error']}")
            if "return" in reply:
                return reply["return"]

    def tap(self, x: int, y: int, hold_s: float = 0.15) -> None:
        """Press and release at pixel (x, y), like a short tap."""
        self.execute("input-send-event", {"events": tap_events(x, y, self.size, True)})
        time.sleep(hold_s)
        self.execute("input-send-event", {"events": tap_events(x, y, self.size, False)})

    def close(self) -> None:
        """Close the socket (QEMU keeps running)."""
        self.sock.close()


def keys_for(code: str) -> list[str]:
    """QEMU ``sendkey`` names for a barcode's characters and the Enter that ends it."""
    names = {"-": "minus", ".": "dot", "/": "slash", " ": "spc"}
    keys = []
    for char in code:
        if char.isdigit() or ("a" <= char <= "z"):
            keys.append(char)
        elif char in names:
            keys.append(names[char])
        else:
            raise ValueError(f"cannot type {char!r} with sendkey")
    return [*keys, "ret"]


# Regions (left, top, right, bottom) of the 800x480 screens that do not depend
# on the shop, the cart or the promotions: the idle screen's language/voice/
# large-text buttons, the cart screen's title and Pay button, and the pay
# screen's title and Back button (the same place as the cart's title).
IDLE_FIXED = (456, 8, 784, 68)
# The idle screen's 注册会员 / 手机号登录 buttons: the thank-you screen has the same top-right buttons.
IDLE_START = (96, 330, 704, 390)
CART_TITLE = (8, 16, 96, 56)
CART_PAY = (522, 344, 786, 400)
PAY_TITLE = CART_TITLE
PAY_BACK = (446, 408, 788, 466)
BACKGROUND = (247, 247, 242)


def _region_difference(shot: Image.Image, reference: Image.Image, box: tuple[int, int, int, int]) -> float:
    """Mean absolute difference (0-255) of one region of two screens."""
    diff = ImageChops.difference(shot.crop(box).convert("L"), reference.crop(box).convert("L"))
    return float(ImageStat.Stat(diff).mean[0])


def _background_share(shot: Image.Image) -> float:
    """Share of pixels within a few levels of the kiosk's background colour in every channel."""
    small = shot.convert("RGB").resize((200, 120))
    red, green, blue = ImageChops.difference(small, Image.new("RGB", small.size, BACKGROUND)).split()
    worst = ImageChops.lighter(red, ImageChops.lighter(green, blue))
    return sum(worst.histogram()[:7]) / (small.width * small.height)


def _screen_problem(
    shot: Image.Image, reference: Image.Image, boxes: dict[str, tuple[int, ...]], background: float = 0.4
) -> str | None:
    if shot.size != reference.size:
        return f"the screen is {shot.size[0]}x{shot.size[1]}, not {reference.size[0]}x{reference.size[1]}"
    share = _background_share(shot)
    if share < background:
        return f"only {share:.0%} of the screen has the kiosk's background colour (a text console?)"
    for name, box in boxes.items():
        difference = _region_difference(shot, reference, box)  # type: ignore[arg-type]
        if difference > 12:
            return f"the {name} differs from the Xvfb screenshot (mean difference {difference:.1f} of 255)"
    return None


def idle_problem(shot: Image.Image, reference: Image.Image) -> str | None:
    """Why ``shot`` is not the idle screen of ``reference`` (docs/screenshots/kiosk-idle-zh.png), or None."""
    return _screen_problem(shot, reference, {"top-right buttons": IDLE_FIXED, "member buttons": IDLE_START})


def cart_problem(shot: Image.Image, reference: Image.Image) -> str | None:
    """Why ``shot`` is not a cart screen like ``reference`` (kiosk-cart-zh.png), or None."""
    return _screen_problem(shot, reference, {"cart title": CART_TITLE, "Pay button": CART_PAY})


def pay_problem(shot: Image.Image, reference: Image.Image) -> str | None:
    """Why ``shot`` is not a pay screen like ``reference`` (kiosk-pay-zh.png), or None."""
    # buttons and the wallet band cover most of it: about a third is background (a text console: none)
    boxes = {"pay title": PAY_TITLE, "Back button": PAY_BACK}
    return _screen_problem(shot, reference, boxes, background=0.2)


def centre(box: tuple[int, int, int, int]) -> tuple[int, int]:
    """The middle pixel of a (left, top, right, bottom) box: where a finger taps a button."""
    return (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
