"""sd_notify over a real unix datagram socket, as systemd would receive it."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.system import sdnotify
from kiosk.system.sdnotify import Notifier, watchdog_interval


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(2)
    yield path, sock
    sock.close()


def test_ready_and_watchdog_arrive_as_datagrams(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    notifier = Notifier(path)
    assert notifier.send(READY=1) is True
    assert notifier.send(WATCHDOG=1) is True
    assert notifier.send(STATUS="printing", MAINPID=42) is True
    assert sock.recv(4096) == b"READY=1"
    assert sock.recv(4096) == b"WATCHDOG=1"
    assert sock.recv(4096) == b"STATUS=printing\nMAINPID=42"
    notifier.close()


def test_abstract_socket_name(tmp_path: Path) -> None:
    name = f"kiosk-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(2)
    try:
        assert Notifier(f"@{name}").send(READY=1) is True
        assert sock.recv(64) == b"READY=1"
    finally:
        sock.close()


def test_module_functions_use_environment(
    listener: tuple[str, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, sock = listener
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setattr(sdnotify, "_default", None)
    assert sdnotify.ready() is True
    assert sdnotify.watchdog() is True
    assert sdnotify.status("two\nlines") is True
    assert [sock.recv(64) for _ in range(3)] == [b"READY=1", b"WATCHDOG=1", b"STATUS=two lines"]


def test_without_notify_socket_everything_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setattr(sdnotify, "_default", None)
    assert sdnotify.ready() is False
    assert sdnotify.watchdog() is False
    assert Notifier.from_environment({}).enabled is False


def test_send_to_a_vanished_socket_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Notifier(str(tmp_path / "gone.sock")).send(WATCHDOG=1)


def test_watchdog_interval_is_half_the_timeout() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "20000000"}) == 10.0
    pid = str(os.getpid())
    assert watchdog_interval({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": pid}) == 1.5
    assert watchdog_interval({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({}) is None
