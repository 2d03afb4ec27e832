"""积分兑换 at the terminal, in a real Kivy window (Xvfb): the demo member (1280 points) opens My
account, sees the shop's four rewards (200, 600, 1000, 2500 points), chooses the 1000-point mug
and redeems it; the ledger and the ``ledger.adjusted`` event carry exactly that."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.app.test_kiosk_window import MEMBER_CARD, after_seed, rows, run_kiosk, zh

STEPS: list[dict[str, Any]] = [
    {"card": MEMBER_CARD}, {"tap": "cart:account"}, {"tap": "member_account:rewards"},
    {"observe": "list"}, {"shot": "member_rewards"},
    {"tap": "reward:2"}, {"observe": "chosen"}, {"shot": "member_rewards_chosen"},
    {"tap": "member_rewards:redeem"}, {"observe": "redeemed"}, {"shot": "member_reward_done"},
    {"tap": "member_account:rewards"}, {"observe": "after"},
]  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    workdir = tmp_path_factory.mktemp("rewards")
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    return run_kiosk(workdir, display, {"steps": STEPS, "screenshots": str(shots)}), workdir


def test_the_reward_list_shows_what_the_points_reach(run: tuple[dict[str, Any], Path]) -> None:
    shown = run[0]["screens"]["list"]
    assert shown["current"] == "member_rewards"
    assert shown["texts"]["points"] == zh("您有 1280 积分")
    assert shown["rewards"] == [
        [zh("环保购物袋\n200 积分"), True],
        [zh("现磨咖啡一杯\n600 积分"), True],
        [zh("保温杯\n1000 积分"), True],
        [zh("纯棉毛巾礼盒\n2500 积分"), False],
    ]
    assert "redeem" not in shown["enabled"]
    for lang in ("zh", "en"):
        assert run[0]["small_buttons"][f"member_rewards-{lang}"] == []


def test_choosing_and_redeeming_the_mug_spends_exactly_its_points(run: tuple[dict[str, Any], Path]) -> None:
    screens = run[0]["screens"]
    assert screens["chosen"]["texts"]["confirm_text"] == zh("兑换 保温杯：用 1000 积分，剩 280 积分")
    assert "redeem" in screens["chosen"]["enabled"]
    done = screens["redeemed"]
    assert done["current"] == "member_account"
    assert done["texts"]["note"] == zh("已兑换 保温杯（1000 积分），请向店员领取")
    after = screens["after"]
    assert after["texts"]["points"] == zh("您有 280 积分")
    assert [enabled for _, enabled in after["rewards"]] == [True, False, False, False]
    db = run[1] / "kiosk.db"
    events = after_seed([json.loads(b) for (b,) in rows(db, "select body from outbox order by seq")])
    (event,) = [e for e in events if e["type"] == "ledger.adjusted"]
    assert event["data"]["reason"] == "reward:mug"
    assert event["data"]["reward"] == {"id": "mug", "quantity": 1, "points": 1000, "rules_version": 0}
    assert [(e["account"], e["kind"], e["amount"], e["action"]) for e in event["data"]["entries"]] == [
        ("points", "redeem", -1000, "reward:mug")
    ]
    assert rows(db, "select sum(amount) from ledger_row where account = 'points'") == [(280,)]
