"""Messaging fixtures: a real SMTP server (aiosmtpd) on a free port, what it received in an Inbox."""

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from kiosk.devtools.ports import free_port
from tests.hub.jobs.test_jobs import Inbox


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """``(inbox, port)``: the server runs for the test."""
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=free_port())
    server.start()
    yield inbox, server.port
    server.stop()
