"""Hub test fixtures: a signed-in dashboard (``signed_in``) on the ``hub_db`` of the test."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.devtools.signed_in import session_for
from hub.web.auth import COOKIE

SignedIn = Callable[..., TestClient]


@pytest.fixture
def signed_in(hub_db: Any) -> SignedIn:
    """``signed_in(app, role="owner", stores="")``: a TestClient of ``app`` signed in as ``role``.

    The account (``owner``, ``manager-S01``, ``accountant``) is made on the test's hub database, its
    session cookie is set, and every request carries the session's CSRF token (``X-CSRF-Token``), so
    posted forms and JSON work as from the dashboard. Extra keyword arguments go to ``TestClient``.
    """

    def make(app: Any, role: str = "owner", stores: str = "", **kwargs: Any) -> TestClient:
        token, csrf = session_for(role, stores)
        client = TestClient(app, headers={"X-CSRF-Token": csrf}, **kwargs)
        client.cookies.set(COOKIE, token)
        return client

    return make
