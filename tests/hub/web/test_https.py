"""HTTPS: the dashboard served with a certificate from the hub's own CA, and HTTP sent on to it."""

import datetime as dt
import json
import ssl
import threading
import urllib.request
from pathlib import Path

import click
import pytest
import uvicorn
from fastapi.testclient import TestClient

from hub.commands.serve import served_names, tls_files
from hub.devtools.loyalty_story import TZ
from hub.fleet.broker_config import generate_tls
from hub.web.app import create_app
from hub.web.https import redirect_to_https
from kiosk.devtools.ports import free_port, wait_for_port


def test_the_hub_ca_certificate_serves_https_that_terminals_verify(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tls = tmp_path / "tls"
    with pytest.raises(click.UsageError, match="no hub CA"):
        tls_files(None, None, ("localhost",), tls)
    generate_tls(tls, ["hub.shop.lan"], dt.datetime.now(dt.UTC))
    cert, key = tls_files(None, None, ("localhost 127.0.0.1",), tls)  # type: ignore[misc]
    assert served_names(cert) == ["127.0.0.1", "localhost"]
    assert tls_files(None, None, (), tls) is None
    port = free_port()
    config = uvicorn.Config(
        create_app(TZ), host="127.0.0.1", port=port, log_level="warning", ssl_certfile=cert, ssl_keyfile=key
    )
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        wait_for_port(port)
        trusting = ssl.create_default_context(cafile=str(tls / "ca.pem"))
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", context=trusting, timeout=10) as got:
            assert json.loads(got.read()) == {"status": "ok"}
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", context=ssl.create_default_context())
    finally:
        server.should_exit = True


def test_plain_http_is_redirected_keeping_path_query_and_method() -> None:
    plain = TestClient(redirect_to_https(8443), base_url="http://hub.shop.lan:8080", follow_redirects=False)
    answer = plain.post("/api/v1/members?lang=en")
    assert (answer.status_code, answer.headers["location"]) == (
        308,
        "https://hub.shop.lan:8443/api/v1/members?lang=en",
    )
    standard = TestClient(redirect_to_https(443), base_url="http://hub.shop.lan", follow_redirects=False)
    assert standard.get("/r/S01-K01-7").headers["location"] == "https://hub.shop.lan/r/S01-K01-7"
