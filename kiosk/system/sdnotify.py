"""Tell systemd the app is ready and alive (the sd_notify protocol, no libsystemd).

systemd passes ``$NOTIFY_SOCKET`` to a ``Type=notify`` service: a unix
datagram socket path, or an abstract one when it starts with ``@``. Each
message is newline-separated ``KEY=VALUE`` lines. Without the variable (a
developer's shell, tests, ``kiosk demo``) every call is a no-op.

:func:`ready` also writes ``$KIOSK_HEALTH_FILE`` when it is set (the units set
it): the version, pid and time, which the updater's health check reads after
switching to a new version (:mod:`kiosk.updates.runner`).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Mapping
from pathlib import Path

from kiosk import __version__

__all__ = ["Notifier", "notify", "ready", "status", "watchdog", "watchdog_interval", "write_health"]


class Notifier:
    """Sends notifications to one ``$NOTIFY_SOCKET``; keeps its socket open between sends."""

    def __init__(self, address: str | None) -> None:
        self._address = _socket_address(address) if address else None
        self._sock: socket.socket | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """A notifier for the socket systemd gave this process (if any)."""
        env = os.environ if environ is None else environ
        return cls(env.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        """True when running under systemd with a notify socket."""
        return self._address is not None

    def send(self, **fields: str | int) -> bool:
        """Send ``KEY=value`` lines; return False when there is no socket to send to.

        A send error is raised, not swallowed: a watchdog ping that silently
        fails would make systemd kill a healthy app with no trace why.
        """
        if self._address is None:
            return False
        if self._sock is None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        message = "\n".join(f"{key}={value}" for key, value in fields.items())
        self._sock.sendto(message.encode(), self._address)
        return True

    def close(self) -> None:
        """Close the socket (sending again reopens it)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _socket_address(path: str) -> str | bytes:
    """An ``@name`` path is Linux's abstract namespace: a leading NUL byte."""
    if path.startswith("@"):
        return b"\0" + path[1:].encode()
    return path


_default: Notifier | None = None


def _notifier() -> Notifier:
    global _default
    if _default is None:
        _default = Notifier.from_environment()
    return _default


def notify(**fields: str | int) -> bool:
    """Send arbitrary fields to the service manager (no-op outside systemd)."""
    return _notifier().send(**fields)


def ready() -> bool:
    """``READY=1``: startup is done; systemd starts units ordered after this one.

    Also writes the health file named by ``$KIOSK_HEALTH_FILE``, if any.
    """
    path = os.environ.get("KIOSK_HEALTH_FILE")
    if path:
        write_health(Path(path))
    return notify(READY=1)


def write_health(path: Path) -> None:
    """Record that this process (its version and pid) is ready, atomically."""

    report = {"version": __version__, "pid": os.getpid(), "ready_at": round(time.time(), 3)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(report, sort_keys=True))
    os.replace(tmp, path)


def watchdog() -> bool:
    """``WATCHDOG=1``: still alive; call at least every ``watchdog_interval()`` seconds."""
    return notify(WATCHDOG=1)


def status(text: str) -> bool:
    """``STATUS=...``: one line shown by ``systemctl status``."""
    return notify(STATUS=text.replace("\n", " "))


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds between pings: half of ``$WATCHDOG_USEC``, or None when no watchdog is set.

    ``$WATCHDOG_PID``, when present, must be this process; otherwise the
    watchdog belongs to someone else (e.g. a wrapper script) and we stay quiet.
    """
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC")
    pid = env.get("WATCHDOG_PID")
    if not usec or (pid and int(pid) != os.getpid()):
        return None
    return int(usec) / 2_000_000
