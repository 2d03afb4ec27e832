"""Hostile names through the real hub: the dashboard escapes them, SQL keeps them as data,
spreadsheets open them as text.

A product added through the API, a sale whose lines a terminal named, and a campaign each carry
a script tag, an element, an SQL fragment and a spreadsheet formula. The pages are read as HTML
and once in headless Chromium (no script ran, no element appeared); the tables still hold every
row; the CSV and XLSX downloads hold the formulas as text.
"""

import io
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from hub.devtools.serving import serving
from hub.devtools.signed_in import session_for, with_cookie
from hub.ingest.batch import ingest_batch
from hub.ingest.models import Sale, SaleLine
from hub.web.app import create_app
from hub.web.auth import COOKIE
from hub.web.exports import spreadsheet_text, xlsx_response
from kiosk.devtools import browser
from kiosk.domain.loyalty.campaigns import Target
from kiosk.sync.schema import GENESIS, batch, make_event
from tests.events import sale_data
from tests.fuzz.test_envelope import NOW
from tests.hub.campaigns.test_campaigns import spec
from tests.sync.harness import TZ

SCRIPT = "<script>document.title='PWN'</script>"
ELEMENT = '<i id="pwn">x</i>'
SQL = "x'); DROP TABLE sale; --"
FORMULA = "=cmd|' /C calc'!A0"


def hostile_sale() -> bytes:
    data = sale_data("evil-sale", [("X1", 100, 1), ("X2", 200, 1)])
    data["receipt_no"] = "S01-K01-20261124-0001"
    data["lines"][0].update(name_zh=SCRIPT, name_en=FORMULA)
    data["lines"][1].update(name_zh=ELEMENT, name_en=SQL)
    event = make_event(event_id="evil-1", device="K01", seq=1, boot="b", ts="2026-11-24T10:00:00.000+08:00",
                       type="sale.completed", prev=GENESIS, data=data)  # fmt: skip
    return batch("K01", [event])


@pytest.fixture
def hostile_hub(hub_db) -> TestClient:  # type: ignore[no-untyped-def]
    """A hub holding the hostile product, sale and campaign; the owner's signed-in dashboard on it."""
    token, csrf = session_for("owner")
    client = TestClient(
        create_app(TZ, today=lambda: NOW.astimezone(TZ).date()), headers={"X-CSRF-Token": csrf}
    )
    client.cookies.set(COOKIE, token)
    added = client.post("/api/v1/catalog", json={"by": "owner", "sku": "X1", "name_zh": SCRIPT + SQL,
                                                  "name_en": FORMULA, "price": "1.00"})  # fmt: skip
    assert added.status_code == 201, added.text
    result = ingest_batch("pos/K01/up/events", hostile_sale(), NOW, TZ)
    assert result is not None and result.applied == 1
    campaign = spec(Target(kind="all")).model_copy(update={"name_zh": SCRIPT, "name_en": FORMULA})
    made = client.post("/api/v1/campaigns", json={**campaign.model_dump(mode="json"), "by": "owner"})
    assert made.status_code == 201, made.text
    return client


def test_pages_show_hostile_names_as_text(hostile_hub: TestClient) -> None:
    pages = {
        "/catalog": [SCRIPT, FORMULA],
        "/sales/S01-K01-20261124-0001/receipt": [SCRIPT, ELEMENT],  # the e-receipt page's template
        "/reports?first=2026-11-24&last=2026-11-24": [SCRIPT, ELEMENT],
        "/campaigns": [SCRIPT],
    }
    for path, shown in pages.items():
        html = hostile_hub.get(path).text
        for text in shown:
            assert text not in html, f"{path} shows {text} unescaped"
        assert "&lt;script&gt;document.title=" in html, path
    assert Sale.select().count() == 1 and SaleLine.select().count() == 2  # the SQL was data
    assert [line.name_en for line in SaleLine.select().order_by(SaleLine.position)] == [FORMULA, SQL]


@pytest.mark.parametrize("hub_db_url", ["sqlite"], indirect=True)  # the same HTML on both: once is enough
def test_chromium_runs_no_injected_script(hostile_hub: TestClient) -> None:
    app = create_app(TZ, today=lambda: NOW.astimezone(TZ).date())
    with serving(with_cookie(app, hostile_hub.cookies[COOKIE])) as port:
        for path in ("/sales/S01-K01-20261124-0001/receipt", "/catalog"):  # the e-receipt page, the catalog
            dom = browser.dump_dom(f"http://127.0.0.1:{port}{path}")
            assert "<title>PWN</title>" not in dom, f"a script ran on {path}"
            assert '<i id="pwn">' not in dom, f"an element was injected into {path}"
            assert "&lt;script&gt;document.title='PWN'&lt;/script&gt;" in dom, path


def test_downloads_hold_formulas_as_text(hostile_hub: TestClient) -> None:
    csv_text = hostile_hub.get("/reports.csv?first=2026-11-24&last=2026-11-24&table=products").text
    assert f"'{FORMULA}" in csv_text and f",{FORMULA}" not in csv_text
    book = xlsx_response("t", ["name", "n"], [[FORMULA, 1], ["@SUM(A1)", -2], ["-12.50", 3]]).body
    sheet = load_workbook(io.BytesIO(book)).active
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2)] == [
        [f"'{FORMULA}", 1],
        ["'@SUM(A1)", -2],
        ["-12.50", 3],
    ]
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


@pytest.mark.parametrize(
    ("value", "safe"),
    [("=1+1", "'=1+1"), ("+86 138", "'+86 138"), ("-2+3", "'-2+3"), ("@A1", "'@A1"), ("\t=1", "'\t=1"),
     ("＝1", "'＝1"), ("-12.50", "-12.50"), ("+8613812341234", "+8613812341234"), ("张三", "张三"), (-5, -5)],
)  # fmt: skip
def test_spreadsheet_text_neutralises_every_formula_start(value: object, safe: object) -> None:
    assert spreadsheet_text(value) == safe


def test_release_files_are_found_by_name_only(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "secret.txt").write_text("owner's secret")
    client = TestClient(create_app(TZ, data_dir=tmp_path / "data"))  # release files are public
    tricks = [
        "/releases/0.1.0/files/..%2F..%2Fsecret.txt",
        "/releases/..%2F..%2F/files/secret.txt",
        "/releases/0.1.0/files/%2E%2E/secret.txt",
        "/releases/0.1.0/files/....//secret.txt",
    ]
    for path in tricks:
        answer = client.get(path)
        assert answer.status_code == 404 and "owner's secret" not in answer.text, path
