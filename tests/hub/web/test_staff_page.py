"""The 员工 / Staff page: add, refuse a bad PIN in both languages, switch off, edit the matrix; each sent
to the terminals through a real broker, each audited under the signed-in owner; a manager only reads."""

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.accounts import audit
from hub.fleet.devices import DeviceRegistry
from hub.staff import accounts
from hub.staff.downlink import roster_publisher
from hub.web.app import create_app
from kiosk.devtools.broker import MosquittoBroker

TZ = ZoneInfo("Asia/Shanghai")


def test_staff_page_adds_refuses_disables_and_edits_the_matrix(
    signed_in, tmp_path: Path, broker: MosquittoBroker
) -> None:  # type: ignore[no-untyped-def]
    registry = DeviceRegistry(tmp_path)
    registry.add("S01", "Front till", dt.datetime.now(dt.UTC), device_id="KW1")
    registry.save()
    app = create_app(TZ, publish_staff=roster_publisher(tmp_path, "127.0.0.1", broker.port))
    web = signed_in(app, follow_redirects=False)
    person = {"name": "王芳", "role": "attendant", "stores": "S01", "badge": "0012345678", "pin": "1357"}
    added = web.post("/staff", data=person)
    assert (added.status_code, added.headers["location"]) == (303, "/staff?sent=1")
    bad = web.post("/staff?lang=en", data={**person, "name": "李雷", "badge": "", "pin": "12"})
    assert bad.status_code == 400
    assert '<p class="error" id="staff-error">A PIN is 4 to 8 digits.</p>' in bad.text
    assert 'value="李雷"' in bad.text and 'value="12"' not in bad.text  # kept, but never the PIN
    ticked = "allow=attendant:clock&allow=attendant:refund&allow=manager:refund"
    saved = web.post("/staff/permissions", content=ticked.encode(),
                     headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert saved.status_code == 303
    [wang] = accounts.list_staff()
    assert accounts.permissions()["attendant"] == ["clock", "refund"]
    page = web.get("/staff").text
    row = re.search(rf'<tr data-staff="{wang.id}"[^>]*>(.*?)</tr>', page, re.S)
    assert row and re.findall(r"<td>([^<]+)</td>", row.group(1)) == ["王芳", "收银员", "S01", "0012345678"]
    assert re.search(r'value="attendant:refund"\s+checked', page)
    assert re.search(r'value="supervisor:refund"\s+>', page)
    assert web.post(f"/staff/{wang.id}/disable").status_code == 303
    english = web.get("/staff?lang=en&sent=1").text
    assert "Saved; the staff roster went to 1 terminals." in english and ">Disabled<" in english
    assert accounts.roster_version() == 3
    assert [(row["by"], row["action"]) for row in audit.trail()][-3:] == [
        ("owner", "staff_add"), ("owner", "staff_permissions"), ("owner", "staff_disable"),
    ]  # fmt: skip

    reader = signed_in(app, role="manager", stores="S01", follow_redirects=False)
    assert reader.get("/staff").status_code == 200
    assert reader.post("/staff", data={**person, "badge": ""}).status_code == 403  # reads, never writes
    assert len(accounts.list_staff()) == 1
