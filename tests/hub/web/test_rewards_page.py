"""The reward list (积分商城) on the rules page and in the API: add, change, remove, each a new
audited rules version; a bad reward is refused naming the field in zh/en and nothing is saved."""

import re
from collections.abc import Iterator

import pytest

from hub.devtools.rules_story import NOW, TZ, seed
from hub.members import ledger as loyalty
from hub.rules import store as rules_store
from hub.web.app import create_app
from kiosk.domain.loyalty import LoyaltyRules


@pytest.fixture(autouse=True)
def reset_rules() -> Iterator[None]:
    yield
    loyalty.configure(LoyaltyRules(), None)


def table(html: str) -> str:
    match = re.search(r'id="reward-list"[^>]*>(.*?)</table>', html, re.S)
    assert match, "no reward list"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_the_owner_adds_changes_and_removes_rewards_on_the_rules_page(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    seed()
    client = signed_in(create_app(TZ, today=lambda: NOW.date()))
    assert table(client.get("/rules").text) == (
        "礼品 编号 所需积分 环保购物袋 Shopping bag bag 200 下架 保温杯 Travel mug mug 1000 下架"
    )
    coffee = {"id": "coffee", "name_zh": "咖啡", "name_en": "", "points": "600"}
    added = client.post("/rules/rewards", data=coffee, follow_redirects=False)
    assert (added.status_code, added.headers["location"]) == (303, "/rules?saved=2#rewards")
    mug = {"id": "mug", "name_zh": "保温杯", "name_en": "Travel mug", "points": "900"}
    client.post("/rules/rewards", data=mug)  # the same id: changed in place
    client.post("/rules/rewards/remove", data={"id": "bag"})
    assert (
        table(client.get("/rules").text)
        == "礼品 编号 所需积分 保温杯 Travel mug mug 900 下架 咖啡 coffee 600 下架"
    )
    assert table(client.get("/rules?lang=en").text).startswith(
        "Reward Id Points 保温杯 Travel mug mug 900 Remove"
    )
    version, rules = rules_store.current()
    assert (version, [(r.id, r.points) for r in rules.rewards]) == (4, [("mug", 900), ("coffee", 600)])
    assert [h["by"] for h in rules_store.history()[1:]] == ["owner"] * 3


def test_a_bad_reward_is_refused_with_the_field_named_and_nothing_saved(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    seed()
    client = signed_in(create_app(TZ, today=lambda: NOW.date()))
    bad = client.post("/rules/rewards", data={"id": "tea", "name_zh": "茶", "points": "lots"})
    assert bad.status_code == 422
    problems = re.search(r'id="reward-problems"[^>]*>(.*?)</div>', bad.text, re.S)
    assert problems and "rewards.2.points: 必须是整数 / must be a whole number" in problems.group(1)
    assert 'value="lots"' in bad.text  # the owner's input comes back to be fixed
    assert rules_store.current()[0] == 1


def test_the_api_reads_and_replaces_the_list(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    seed()
    client = signed_in(create_app(TZ, today=lambda: NOW.date()))
    body = {"rewards": [{"id": "coffee", "name_zh": "咖啡", "points": 600}], "by": "api"}
    assert client.put("/api/v1/rewards", json=body).json() == {"version": 2}
    assert client.get("/api/v1/rewards").json() == {
        "version": 2,
        "rewards": [{"id": "coffee", "name_zh": "咖啡", "name_en": "", "points": 600, "sku": ""}],
    }
    twice = {"rewards": body["rewards"] * 2, "by": "api"}
    refused = client.put("/api/v1/rewards", json=twice)
    assert refused.status_code == 422
    assert rules_store.current()[0] == 2
    manager = signed_in(create_app(TZ), "manager", stores="S01")
    assert manager.put("/api/v1/rewards", json=body).status_code == 403
