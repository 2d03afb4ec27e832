"""The login limit behind a reverse proxy: who the client is, over real HTTP to a served hub.

The hub is served by uvicorn as ``hub serve`` serves it; the "proxy" connects from 127.0.0.1 and a
client on the shop's network from 127.0.0.2 (both loopback addresses of this machine). Each test
counts one failed login per client over HTTP (the row says which address was counted), fills that
address's tries up to the limit, and sees who is then refused.
"""

from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner

from hub.accounts.models import LoginFailure
from hub.cli import main as hub_main
from hub.devtools.serving import serving
from hub.web.app import create_app
from hub.web.login import ADDRESS_TRIES, AddressLimiter
from hub.web.proxies import trusted_proxies
from tests.sync.harness import TZ

# which address is counted is no SQL matter: SQLite only
ON_SQLITE = pytest.mark.parametrize("hub_db_url", ["sqlite"], indirect=True)


def tries(port: int, source: str = "127.0.0.1") -> httpx.Client:
    """A client connecting from ``source`` to the hub on ``port``."""
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=f"http://127.0.0.1:{port}", transport=transport, follow_redirects=False)


def wrong(client: httpx.Client, forwarded: str | None = None) -> int:
    """One wrong password, with ``X-Forwarded-For: forwarded`` when given; the status."""
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return client.post("/login", data={"name": "nobody", "password": "guess"}, headers=headers).status_code


def counted() -> list[str]:
    return [f.address for f in LoginFailure.select().order_by(LoginFailure.id)]


def use_up(address: str) -> None:
    """Fail ``address``'s remaining tries (the hub's own limiter, on the same database)."""
    for _ in range(ADDRESS_TRIES - counted().count(address)):
        AddressLimiter().failed(address)


@pytest.fixture
def behind_proxy(hub_db) -> Iterator[int]:  # type: ignore[no-untyped-def]
    app = create_app(TZ, trusted_proxies=trusted_proxies(["127.0.0.1"]))
    with serving(app, role=None) as port:
        yield port


@ON_SQLITE
def test_a_spoofed_forwarded_for_from_an_untrusted_client_does_not_escape_the_limit(behind_proxy) -> None:  # type: ignore[no-untyped-def]
    with tries(behind_proxy, source="127.0.0.2") as client:
        assert wrong(client, "203.0.113.1") == 401
        assert counted() == ["127.0.0.2"]  # the connection's address, not what it wrote
        use_up("127.0.0.2")
        for spoofed in ("203.0.113.2", "127.0.0.1", "203.0.113.3, 198.51.100.4"):
            assert wrong(client, spoofed) == 429
        assert wrong(client) == 429
    assert counted() == ["127.0.0.2"] * ADDRESS_TRIES


@ON_SQLITE
def test_two_clients_behind_a_trusted_proxy_are_limited_separately(behind_proxy) -> None:  # type: ignore[no-untyped-def]
    with tries(behind_proxy) as proxy:
        assert wrong(proxy, "203.0.113.7") == 401
        assert wrong(proxy, "198.51.100.9, 203.0.113.8") == 401  # the left part is the client's own word
        assert wrong(proxy, "203.0.113.9, 127.0.0.1") == 401  # a second trusted proxy is passed over
        assert counted() == ["203.0.113.7", "203.0.113.8", "203.0.113.9"]
        use_up("203.0.113.7")
        assert wrong(proxy, "203.0.113.7") == 429
        assert wrong(proxy, "203.0.113.7, 203.0.113.8") == 401  # the client the proxy saw: .8
        assert wrong(proxy, "203.0.113.8") == 401
        assert wrong(proxy) == 401  # the proxy's own request: itself
    assert counted()[-3:] == ["203.0.113.8", "203.0.113.8", "127.0.0.1"]


@ON_SQLITE
def test_without_trusted_proxies_no_forwarded_for_is_read(hub_db) -> None:  # type: ignore[no-untyped-def]
    with serving(create_app(TZ), role=None) as port, tries(port) as client:
        assert wrong(client, "203.0.113.7") == 401
    assert counted() == ["127.0.0.1"]  # not even from this machine's own address


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["10.0.0.5"], ("10.0.0.5",)),
        (["10.0.0.5 10.0.1.0/24", "10.0.0.5,fd00::1"], ("10.0.0.5", "10.0.1.0/24", "fd00::1")),
        (["10.0.1.7/24", "192.168.1.10/32"], ("10.0.1.0/24", "192.168.1.10")),
    ],
)
def test_trusted_proxies_are_addresses_or_networks(given: list[str], expected: tuple[str, ...]) -> None:
    assert trusted_proxies(given) == expected


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("proxy.shop.lan", "is not an IP address or network like 10.0.0.5 or 10.0.1.0/24 / 可信代理"),
        ("*", "is not an IP address or network"),
        ("0.0.0.0/0", "would trust every client to say who it is"),
        ("::/0", "会信任所有客户端"),
    ],
)
def test_hub_serve_refuses_a_trusted_proxy_that_is_no_address(given: str, problem: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="trusted proxy"):
        trusted_proxies([given])
    args = [
        "serve",
        "--db",
        f"sqlite:///{tmp_path}/hub.db",
        "--data-dir",
        str(tmp_path),
        "--trusted-proxy",
        given,
    ]
    result = CliRunner().invoke(hub_main, args)
    assert result.exit_code == 2 and problem in result.output and "Traceback" not in result.output
    assert not (tmp_path / "hub.db").exists()  # refused before anything was opened
