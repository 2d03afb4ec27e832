"""Failed logins per client address are counted in the hub's database, not in one process.

Two dashboard apps on one database stand for two hub processes (or a hub restarted between
tries): the failures one sees count at the other, and a third app started afterwards sees them too.
"""

import datetime as dt

from fastapi.testclient import TestClient

from hub.accounts import users
from hub.accounts.models import LoginFailure
from hub.web.app import create_app
from hub.web.login import ADDRESS_TRIES, WINDOW_S, AddressLimiter
from tests.sync.harness import TZ


def client() -> TestClient:
    return TestClient(create_app(TZ), base_url="https://hub.shop.lan", follow_redirects=False)


def test_two_hub_processes_share_one_count_of_failed_logins(hub_db) -> None:  # type: ignore[no-untyped-def]
    users.add("boss", "owner", "correct horse battery", "test", dt.datetime.now(dt.UTC))
    first, second = client(), client()
    for n in range(ADDRESS_TRIES):  # 20 wrong passwords, half through each process, each to a new name
        web = first if n % 2 else second
        assert web.post("/login", data={"name": f"nobody-{n}", "password": "guess"}).status_code == 401
    assert LoginFailure.select().where(LoginFailure.address == "testclient").count() == ADDRESS_TRIES
    for web in (first, second, client()):  # and a hub started after them
        busy = web.post("/login?lang=en", data={"name": "boss", "password": "correct horse battery"})
        assert busy.status_code == 429
    assert "Too many attempts from this device. Try again in 10 minutes." in busy.text


def test_the_window_slides_and_old_failures_are_deleted(hub_db) -> None:  # type: ignore[no-untyped-def]
    now = [1_800_000_000.0]
    one, other = AddressLimiter(clock=lambda: now[0]), AddressLimiter(clock=lambda: now[0])
    for _ in range(ADDRESS_TRIES - 1):
        one.failed("10.0.0.7")
    assert not other.blocked("10.0.0.7")
    other.failed("10.0.0.7")
    assert one.blocked("10.0.0.7") and other.blocked("10.0.0.7") and not one.blocked("10.0.0.8")
    now[0] += WINDOW_S + 1  # ten minutes on: those failures are out of the window
    assert not one.blocked("10.0.0.7")
    other.failed("10.0.0.8")  # a new failure clears every address's old rows
    assert [(f.address, f.at_ms) for f in LoginFailure.select()] == [("10.0.0.8", int(now[0] * 1000))]
