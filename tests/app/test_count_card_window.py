"""次卡 at the terminal, in a real Kivy window (Xvfb): an attendant (PIN) sells the demo member a
洗车5次卡 (¥99, cash, a file printer), the member opens My account and uses one visit. The sale,
the card and the visit are on the terminal's database and outbox exactly."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.app.test_kiosk_window import MEMBER_CARD, PIN, after_seed, rows, run_kiosk, zh

STEPS: list[dict[str, Any]] = [
    {"card": MEMBER_CARD}, {"tap": "cart:staff"}, {"pin": PIN}, {"observe": "menu"},
    {"tap": "popup:count_card"}, {"observe": "kinds"}, {"shot": "staff_count_card"},
    {"tap": "popup:kind_0"}, {"observe": "confirm"}, {"shot": "staff_count_card_confirm"},
    {"tap": "popup:confirm"}, {"wait": 0.5}, {"observe": "sold"},
    {"tap": "cart:account"}, {"observe": "account"},
    {"tap": "card_use:0"}, {"observe": "asked"},
    {"tap": "card_use:0"}, {"observe": "used"}, {"shot": "member_count_card_used"},
]  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    workdir = tmp_path_factory.mktemp("count_card")
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    script = {
        "steps": STEPS,
        "screenshots": str(shots),
        "settings": {"printer_url": f"file:{workdir / 'printer.bin'}"},
    }
    return run_kiosk(workdir, display, script), workdir


def test_the_attendant_sells_a_count_card_and_the_member_uses_a_visit(
    run: tuple[dict[str, Any], Path],
) -> None:
    report, workdir = run
    screens = report["screens"]
    assert screens["menu"]["popup"]["count_card"] == "售次卡"
    kinds = screens["kinds"]["popup"]
    assert (kinds["kind"], kinds["title"]) == ("CountCardPopup", "售次卡：选择次卡")
    assert (kinds["kind_0"], kinds["kind_1"]) == (
        zh("洗车5次卡 · 5 次 · ¥99.00（6 个月有效）"),
        zh("咖啡10次卡 · 10 次 · ¥150.00（12 个月有效）"),
    )
    confirm = screens["confirm"]["popup"]
    assert confirm["confirm"] == zh("已收现金 ¥99.00，确认售卡")
    sold = screens["sold"]["message"]
    assert sold.startswith(zh("已售出 洗车5次卡：5 次，有效期至 "))
    assert screens["account"]["card_uses"] == [zh("用一次：洗车5次卡（剩 5 次）")]
    assert screens["asked"]["texts"]["note"] == zh("再点一次“用一次”确认使用 1 次 洗车5次卡。")
    assert screens["asked"]["card_uses"] == [zh("用一次：洗车5次卡（剩 5 次）")]  # nothing booked yet
    used = screens["used"]
    assert used["texts"]["note"] == zh("已使用 1 次 洗车5次卡，剩余 4 次。")
    assert used["card_uses"] == [zh("用一次：洗车5次卡（剩 4 次）")]
    for shot in ("staff_count_card", "staff_count_card_confirm", "member_count_card_used"):
        for lang in ("zh", "en"):
            assert report["small_buttons"][f"{shot}-{lang}"] == []

    db = workdir / "kiosk.db"
    assert rows(db, "select sku, total_fen from sale_line where sku = 'wash5'") == [("wash5", 9900)]
    (sale_id,) = [s for (s,) in rows(db, "select sale_id from sale_line where sku = 'wash5'")]
    assert rows(db, f"select method, amount_fen from payment where sale_id = '{sale_id}'") == [("cash", 9900)]
    visits = rows(
        db, "select kind, amount, action, rule from ledger_row where account like 'count:%' order by seq"
    )
    assert visits == [("top_up", 5, "count_card", "wash5"), ("spend", -1, "visit", "wash")]
    events = after_seed([json.loads(b) for (b,) in rows(db, "select body from outbox order by seq")])
    assert [e["type"] for e in events] == [
        "sale.completed",
        "audit.action",
        "ledger.adjusted",
        "ledger.adjusted",
    ]
    assert events[1]["data"]["action"] == "count_card" and events[1]["data"]["sale_id"] == sale_id
    assert [e["data"]["reason"] for e in events[2:]] == ["count_card:wash5", "visit:wash"]
