"""The 员工 / Staff page: add, refuse a bad PIN in both languages, switch off, edit the matrix; each sent."""

import datetime as dt
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn

from hub.fleet.devices import DeviceRegistry
from hub.staff import accounts
from hub.staff.downlink import roster_publisher
from hub.web.app import create_app
from kiosk.devtools import browser
from kiosk.devtools.broker import MosquittoBroker
from kiosk.devtools.ports import free_port, wait_for_port

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def hub_url(hub_db, tmp_path: Path, broker: MosquittoBroker) -> Iterator[str]:  # type: ignore[no-untyped-def]
    registry = DeviceRegistry(tmp_path)
    registry.add("S01", "Front till", dt.datetime.now(dt.UTC), device_id="KW1")
    registry.save()
    app = create_app(TZ, publish_staff=roster_publisher(tmp_path, "127.0.0.1", broker.port))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_staff_page_adds_refuses_disables_and_edits_the_matrix(hub_url: str, tmp_path: Path) -> None:
    with httpx.Client(base_url=hub_url) as client:
        person = {"name": "王芳", "role": "attendant", "stores": "S01", "badge": "0012345678", "pin": "1357"}
        added = client.post("/staff", data=person)
        assert (added.status_code, added.headers["location"]) == (303, "/staff?sent=1")
        bad = client.post("/staff?lang=en", data={**person, "name": "李雷", "badge": "", "pin": "12"})
        assert bad.status_code == 400
        assert '<p class="error" id="staff-error">A PIN is 4 to 8 digits.</p>' in bad.text
        assert 'value="李雷"' in bad.text and 'value="12"' not in bad.text  # kept, but never the PIN
        ticked = [("allow", "attendant:clock"), ("allow", "attendant:refund"), ("allow", "manager:refund")]
        saved = client.post("/staff/permissions", content="&".join(f"{k}={v}" for k, v in ticked).encode())
        assert saved.status_code == 303
    wang = accounts.list_staff()[0]
    assert [p.name for p in accounts.list_staff()] == ["王芳"]
    assert accounts.permissions()["attendant"] == ["clock", "refund"]
    dom = browser.dump_dom(f"{hub_url}/staff")
    row = re.search(rf'<tr data-staff="{wang.id}"[^>]*>(.*?)</tr>', dom, re.S)
    assert row and re.findall(r"<td>([^<]+)</td>", row.group(1)) == ["王芳", "收银员", "S01", "0012345678"]
    assert 'value="attendant:refund" checked=""' in dom and 'value="supervisor:refund">' in dom
    with httpx.Client(base_url=hub_url) as client:
        assert client.post(f"/staff/{wang.id}/disable").status_code == 303
    english = browser.dump_dom(f"{hub_url}/staff?lang=en&sent=1")
    assert "Saved; the staff roster went to 1 terminals." in english and ">Disabled<" in english
    assert accounts.roster_version() == 3
