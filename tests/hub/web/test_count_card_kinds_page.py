"""The count card kinds page (次卡种类): the owner adds, changes and removes kinds through the
signed-in page, each a new audited rules version carried by the next config release; a bad form
comes back with every problem in zh/en and nothing saved; a manager edits only their stores'."""

import re
from collections.abc import Iterator

import pytest

from hub.accounts import audit
from hub.catalog import releases as hub_catalog
from hub.devtools.rules_story import NOW, TZ, seed
from hub.members import ledger as loyalty
from hub.rules import store as rules_store
from hub.web.app import create_app
from kiosk.domain.loyalty import LoyaltyRules

WASH10 = {
    "sku": "wash10", "name_zh": "洗车10次卡", "name_en": "Car wash ×10", "visits": "10", "price": "199",
    "valid_days": "90", "services": "wash，wax", "stores": "",
}  # fmt: skip


@pytest.fixture(autouse=True)
def reset_rules() -> Iterator[None]:
    yield
    loyalty.configure(LoyaltyRules(), None)


def shop() -> None:
    seed()
    hub_catalog.load_catalog([
        {"sku": "wash", "name_zh": "洗车", "price_fen": 3000},
        {"sku": "wax", "name_zh": "打蜡", "price_fen": 5000},
    ])  # fmt: skip


def table(html: str) -> str:
    match = re.search(r'id="count-card-kinds"[^>]*>(.*?)</table>', html, re.S)
    assert match, "no count card table"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def problems(html: str) -> list[str]:
    match = re.search(r'id="problems"[^>]*>(.*?)</div>', html, re.S)
    assert match, "no problems shown"
    return [re.sub(r"\s+", " ", p).strip() for p in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


def test_the_owner_adds_changes_and_removes_kinds_and_the_release_carries_them(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    shop()
    client = signed_in(create_app(TZ, today=lambda: NOW.date()))
    assert 'id="no-kinds"' in client.get("/count-cards").text
    added = client.post("/count-cards", data=WASH10, follow_redirects=False)
    assert (added.status_code, added.headers["location"]) == (303, "/count-cards?saved=2")
    coffee = {"sku": "coffee5", "name_zh": "咖啡5次卡", "visits": "5", "price": "60.50", "stores": "S01, S02"}
    client.post("/count-cards", data=coffee)
    client.post("/count-cards", data=WASH10 | {"visits": "12", "price": "219.90"})  # same sku: changed
    assert table(client.get("/count-cards").text) == (
        "次卡 编号 次数 价格 有效期 适用项目 门店 "
        "洗车10次卡 Car wash ×10 wash10 12 ¥219.90 90 天 wash, wax 全部门店 下架 "
        "咖啡5次卡 coffee5 5 ¥60.50 12 个月 coffee5 S01, S02 下架"
    )
    assert table(client.get("/count-cards?lang=en").text).startswith(
        "Card Sku Visits Price Valid for Services Stores 洗车10次卡 Car wash ×10 wash10 12 ¥219.90 90 days"
    )
    version, rules = rules_store.current()
    wash = rules.count_cards[0]
    assert (version, wash.visits, wash.price_fen, wash.valid_days, wash.services, wash.stores) == (
        4, 12, 21990, 90, ("wash", "wax"), ()
    )  # fmt: skip
    assert rules.count_cards[1].stores == ("S01", "S02") and rules.rewards[0].id == "bag"  # the rest kept
    release = hub_catalog.new_release(NOW)
    assert [k["sku"] for k in release.rules["rules"]["count_cards"]] == ["wash10", "coffee5"]

    client.post("/count-cards/remove", data={"sku": "coffee5"})
    assert [k.sku for k in rules_store.current()[1].count_cards] == ["wash10"]
    trail = [(a["action"], a["subject"], a["detail"].get("price_fen")) for a in audit.trail()]
    assert [row for row in trail if row[0].startswith("count_card_kind")] == [
        ("count_card_kind.saved", "wash10", 19900),
        ("count_card_kind.saved", "coffee5", 6050),
        ("count_card_kind.saved", "wash10", 21990),
        ("count_card_kind.removed", "coffee5", None),
    ]


def test_a_bad_kind_comes_back_with_each_problem_in_zh_and_en_nothing_saved(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    shop()
    client = signed_in(create_app(TZ, today=lambda: NOW.date()))
    bad = WASH10 | {"sku": "wash 10", "price": "1,99", "services": "wash, polish"}
    refused = client.post("/count-cards", data=bad)
    assert refused.status_code == 422
    assert problems(refused.text) == [
        "sku: 只能用字母、数字、_ . -（最多 40 个） / use letters, digits, _ . - only (at most 40)",
        "price: 价格请填元，如 99 或 99.50 / give the price in yuan, e.g. 99 or 99.50",
        "services: 商品目录中没有 polish，请先在商品页添加 / "
        "polish not in the catalog: add it on the catalog page first",
    ]
    assert 'value="1,99"' in refused.text and 'value="wash, polish"' in refused.text  # typed text kept
    zero = client.post("/count-cards", data=WASH10 | {"visits": "0", "valid_days": "many"})
    assert problems(zero.text) == [
        "count_cards.0.visits: 数值太小 (1) / is too small (1)",
        "count_cards.0.valid_days: 必须是整数 / must be a whole number",
    ]
    assert "&lt;b&gt;" in client.post("/count-cards", data=WASH10 | {"services": "<b>"}).text  # escaped
    assert rules_store.current()[0] == 1


def test_a_manager_edits_only_kinds_sold_in_their_own_stores(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    shop()
    app = create_app(TZ, today=lambda: NOW.date())
    signed_in(app).post("/count-cards", data=WASH10)  # the owner's: every store
    manager = signed_in(app, "manager", stores="S01")
    page = manager.get("/count-cards").text
    assert 'name="stores" value="S01"' in page and "/count-cards/remove" not in page
    everywhere = manager.post("/count-cards", data=WASH10 | {"sku": "wash5"})
    assert problems(everywhere.text) == [
        "stores: 店长只能修改只在本店（S01）出售的次卡，请填写门店 / "
        "a manager edits only cards sold in their own stores (S01): fill in the stores"
    ]
    taken = manager.post("/count-cards", data=WASH10 | {"stores": "S01"})  # the owner's card
    assert taken.status_code == 422
    assert manager.post("/count-cards/remove", data={"sku": "wash10"}).status_code == 422
    mine = WASH10 | {"sku": "wash5", "stores": "S01"}
    assert manager.post("/count-cards", data=mine, follow_redirects=False).status_code == 303
    kinds = [(k.sku, k.stores) for k in rules_store.current()[1].count_cards]
    assert kinds == [("wash10", ()), ("wash5", ("S01",))]
    assert signed_in(app, "accountant").post("/count-cards", data=WASH10).status_code == 403
