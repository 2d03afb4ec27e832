"""The rules page (规则与等级, ?lang=en): tier ladder, rules in plain words, this year's holiday dates,
and the JSON edit form that explains each error in zh/en and saves nothing then; its screenshots."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.devtools.rules_story import NOW, SHOP_RULES, TZ, capture, seed
from hub.members import ledger as loyalty
from hub.rules import store as rules_store
from hub.web.app import create_app
from kiosk.domain.loyalty import LoyaltyRules


@pytest.fixture(autouse=True)
def reset_rules() -> Iterator[None]:
    yield
    loyalty.configure(LoyaltyRules(), None)


def text(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(table|ul|div|p)>', html, re.S)
    assert match, f"no #{element_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def sections(html: str) -> str:
    block = html.split('id="sections"', 1)[1].split("<h2", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", block)).strip()


def test_page_shows_the_ladder_the_rules_in_words_and_this_years_lunar_dates(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    seed()
    client = signed_in(create_app(TZ, today=lambda: NOW.date()))
    html = client.get("/rules").text
    assert text(html, "tiers") == (
        "等级 代码 门槛 会员折扣 积分倍数 生日礼（积分） "
        "普通会员 normal ¥0.00 – ×1 – 银卡 silver ¥1000.00 2% ×1 100 "
        "金卡 gold ¥3000.00 5% ×1.5 300 钻石 diamond ¥8000.00 10% ×2 800"
    )
    words_on_page = sections(html)
    expected_words = (
        "每消费 1 元得 1 积分",
        "100 积分抵 1 元，最多抵订单金额的 50%，每次至少 100 积分",
        "积分在获得 24 个月后过期",
        "充 ¥100.00 送 ¥10.00",
        "断网时，每位会员在每台终端最多用 2000 积分、储值 ¥200.00",
    )
    for words in expected_words:
        assert words in words_on_page
    assert text(html, "holidays") == (
        "节日 日期规则 今年日期 积分倍数 春节 农历 1 月 1 日 2026-02-17 – 2026-02-19 ×2 "
        "中秋节 农历 8 月 15 日 2026-09-25 ×2 会员日 11 月 11 日 2026-11-11 ×3"
    )
    english = client.get("/rules?lang=en").text
    assert "1 point per ¥1" in sections(english)
    assert text(english, "holidays").startswith(
        "Holiday Rule This year Points 春节 lunar 1/1 2026-02-17 – 2026-02-19"
    )
    assert '<a href="/rules?lang=en">Rules &amp; tiers</a>' in english


def test_form_explains_each_error_and_saves_nothing_then_saves_a_good_set(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    seed()
    client = signed_in(create_app(TZ, today=lambda: NOW.date()))
    broken = client.post("/rules?lang=en", data={"rules": '{"earn": {', "by": "amy"})
    assert broken.status_code == 422
    assert text(broken.text, "problems") == (
        "Please correct: rules: 不是有效的 JSON / is not valid JSON (line 1, column 11)"
    )
    bad = '{"expiry": {"months": -1}, "risk": {"offline_points": "many"}}'
    wrong = client.post("/rules", data={"rules": bad, "by": "amy"})
    assert wrong.status_code == 422
    assert text(wrong.text, "problems") == (
        "请修改以下内容： expiry.months: 数值太小 (0) / is too small (0) "
        "risk.offline_points: 必须是整数 / must be a whole number"
    )
    assert "many" in wrong.text  # the owner's text comes back to be fixed
    assert rules_store.current()[0] == 1
    changed = {**SHOP_RULES, "earn": {"points_per_yuan": 2}}
    saved = client.post("/rules", data={"rules": json.dumps(changed), "by": "amy"}, follow_redirects=False)
    assert (saved.status_code, saved.headers["location"]) == (303, "/rules?saved=2")
    page = client.get("/rules?saved=2").text
    assert text(page, "done") == "规则版本 2 已保存。"
    assert "每消费 1 元得 2 积分" in sections(page)
    assert rules_store.history()[-1]["by"] == "owner"  # the signed-in account, not the form's "amy"


@pytest.mark.parametrize("hub_db_url", ["sqlite"], indirect=True)
def test_screenshots_of_the_rules_page(tmp_path: Path, hub_db_url: str) -> None:
    from PIL import Image

    shots = capture(tmp_path)
    assert [p.name for p in shots] == ["hub-rules-zh.png", "hub-rules-en.png"]
    for shot in shots:
        with Image.open(shot) as image:
            assert image.size == (1280, 2100)
            assert image.getpixel((10, 10))[:3] == (255, 255, 255)  # header
            assert image.getpixel((10, 2080))[:3] == (245, 247, 250)  # page background
