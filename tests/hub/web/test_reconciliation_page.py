"""The reconciliation page (zh default, ?lang=en): items from real member sales, resolving with a note."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.accounts import audit as owner_audit
from hub.devtools.loyalty_story import LI, PAGES, TZ, ZHANG, capture, seed
from hub.members import ledger as loyalty
from hub.members import reconciliation
from hub.members.models import Reconciliation
from hub.web.app import create_app
from kiosk.devtools import browser
from kiosk.domain.loyalty import LoyaltyRules
from tests.hub.web.test_dashboard import dashboard  # noqa: F401 (fixture)


@pytest.fixture(autouse=True)
def reset_rules() -> Iterator[None]:
    yield
    loyalty.configure(LoyaltyRules(), None)


def rows(html: str) -> list[str]:
    """Each item row's visible text, whitespace folded."""
    found = re.findall(r'<tr id="item-(\d+)"[^>]*>(.*?)</tr>', html, re.S)
    return [f"{i}|" + re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip() for i, body in found]


def cells(html: str, item_id: int) -> tuple[str, str]:
    match = re.search(
        rf'<tr id="item-{item_id}".*?<td class="num expected">([^<]*)</td><td class="num got">([^<]*)</td>',
        html,
        re.S,
    )
    assert match, f"no item {item_id}"
    return match.group(1), match.group(2)


def test_open_items_show_kind_device_sale_member_and_both_numbers(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    seed(tmp_path)
    client = signed_in(create_app(TZ))
    html = client.get("/reconciliation").text
    assert '<html lang="zh-CN">' in html
    assert [
        (r["id"], r["kind"], r["device"], r["sale_id"], r["member_id"]) for r in reconciliation.items()
    ] == [
        (2, "negative_balance", "", "", LI),
        (3, "earn_mismatch", "K03", "s-li-2", LI),
        (4, "coupon_double_use", "K03", "s-li-2", LI),
    ]
    assert [r.split("|")[0] for r in rows(html)] == ["2", "3", "4"]
    assert (
        "余额为负" in rows(html)[0]
        and "积分与规则不符" in rows(html)[1]
        and "S01-K03-202611240001" in rows(html)[1]
    )
    assert (cells(html, 2), cells(html, 3), cells(html, 4)) == (
        ("–", "-820 积分"),
        ("60 积分", "120 积分"),
        ("–", "–"),
    )
    assert re.search(r'id="tab-open">\s*待处理 <span class="count">3</span>', html)
    resolved = client.get("/reconciliation?status=resolved&lang=en").text
    [row] = rows(resolved)
    assert (
        row.startswith("1|") and "Coupon used outside its terms" in row and "K02 S01-K02-202611240001" in row
    )
    assert cells(resolved, 1) == ("¥0.00", "¥20.00")
    assert "已联系张三，补收¥20 / collected ¥20 from the member owner" in row
    assert f'href="/members/{ZHANG}?lang=en"' in resolved


def test_resolving_needs_a_note_and_is_audited(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    seed(tmp_path)
    client = signed_in(create_app(TZ))
    blank = client.post(
        "/reconciliation/3/resolve?lang=en", data={"note": "  ", "by": "amy"}, follow_redirects=False
    )
    assert blank.status_code == 303
    page = client.get(blank.headers["location"]).text
    message = "a note is required: say what was checked or done / 请填写处理说明"
    assert f'<p class="banner error" id="error">{message}</p>' in page
    assert Reconciliation.get_by_id(3).resolved_at is None
    done = client.post("/reconciliation/3/resolve", data={"note": "规则已更新 / rules updated", "by": "amy"})
    assert done.status_code == 200 and '<p class="banner ok" id="done">#3 已标记为已处理。</p>' in done.text
    assert [r.split("|")[0] for r in rows(done.text)] == ["2", "4"]
    again = client.post("/reconciliation/3/resolve", data={"note": "x"}, follow_redirects=True)
    assert "item 3 is already resolved / 该对账项已处理" in again.text
    [audit] = owner_audit.trail("reconciliation:3")
    # the signed-in account, not the "by" the form claims
    assert (audit["by"], audit["action"], audit["detail"]) == (
        "owner", "reconciliation.resolve", {"kind": "earn_mismatch", "note": "规则已更新 / rules updated"}
    )  # fmt: skip


def test_api_lists_by_status_and_resolves(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    seed(tmp_path)
    client = signed_in(create_app(TZ))
    assert [i["id"] for i in client.get("/api/v1/reconciliation").json()] == [2, 3, 4]
    assert [i["id"] for i in client.get("/api/v1/reconciliation?kind=earn_mismatch").json()] == [3]
    done = client.post(
        "/api/v1/reconciliation/4/resolve", json={"note": "written off / 记为损耗", "by": "owner"}
    )
    assert (done.json()["id"], done.json()["note"], done.json()["resolved_by"]) == (
        4,
        "written off / 记为损耗",
        "owner",
    )
    assert [i["id"] for i in client.get("/api/v1/reconciliation?status=resolved").json()] == [4, 1]
    assert client.post("/api/v1/reconciliation/4/resolve", json={"note": "x", "by": "o"}).status_code == 409
    assert client.post("/api/v1/reconciliation/99/resolve", json={"note": "x", "by": "o"}).status_code == 404
    assert client.post("/api/v1/reconciliation/2/resolve", json={"by": "o"}).status_code == 422
    assert "/api/v1/reconciliation/{item_id}/resolve" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("hub_db_url", ["sqlite"], indirect=True)
def test_page_in_chromium_links_from_the_nav_bar(dashboard: str, tmp_path: Path) -> None:  # noqa: F811
    seed(tmp_path)
    dom = browser.dump_dom(dashboard + "reconciliation?lang=en")
    assert '<a href="/reconciliation?lang=en">Reconciliation</a>' in dom
    assert [r.split("|")[0] for r in rows(dom)] == ["2", "3", "4"]
    assert cells(dom, 3) == ("60 pts", "120 pts")


@pytest.mark.parametrize("hub_db_url", ["sqlite"], indirect=True)
def test_screenshots_of_the_loyalty_pages(tmp_path: Path, hub_db_url: str) -> None:
    from PIL import Image

    assert list(PAGES) == [
        "reconciliation",
        "reconciliation_resolved",
        "campaigns",
        "members",
        "member",
        "expiring",
    ]
    shots = capture(tmp_path, ["reconciliation", "member"])  # two pages keep it short
    assert [p.name for p in shots] == [
        "hub-reconciliation-zh.png", "hub-reconciliation-en.png", "hub-member-zh.png", "hub-member-en.png"
    ]  # fmt: skip
    for shot in shots:
        with Image.open(shot) as image:
            width, height = image.size
            assert width == 1280 and 400 < height < 6000  # the whole page, trimmed: nothing cut off
            assert image.getpixel((10, 10))[:3] == (255, 255, 255)  # header
            assert image.getpixel((10, height - 5))[:3] == (245, 247, 250)  # page background below it all
