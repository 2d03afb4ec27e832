"""Choosing how many points to use on the pay screen, in a real Kivy window (Xvfb), with touches.

The demo member holds 1280 points; the demo rules let points pay at most half a
sale (100 points = ¥1). The shopper steps the points down to 800, pays them,
then steps the rest down to 0 and pays with stored value: the ledger and the
``sale.completed`` event carry exactly those amounts.
"""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.app.test_kiosk_window import DUMPLINGS, MEMBER_CARD, MILK, WATER, after_seed, rows, run_kiosk, zh

LESS: dict[str, Any] = {"tap": "pay:points_less"}
STEPS: list[dict[str, Any]] = [
    {"scan": WATER}, {"scan": MILK}, {"scan": DUMPLINGS}, {"card": MEMBER_CARD},
    {"tap": "cart:pay"}, {"observe": "most"},
    LESS, {"observe": "one_less"}, LESS, LESS, LESS, LESS,
    {"observe": "chosen"}, {"shot": "pay_points_choice"},
    {"tap": "pay:points_pay"}, {"observe": "paid_800"},
    LESS, LESS, LESS, LESS, LESS, {"observe": "zero"}, {"shot": "pay_points_zero"},
    {"tap": "pay:stored_value_pay"}, {"wait_until": "receipt"}, {"observe": "paid"},
]  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    """¥27.40 due (满30减5 used): 800 points, then none, then stored value."""
    workdir = tmp_path_factory.mktemp("points_choice")
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    return run_kiosk(workdir, display, {"steps": STEPS, "screenshots": str(shots)}), workdir


def test_the_stepper_starts_at_the_most_and_each_minus_takes_one_yuan_of_points(
    run: tuple[dict[str, Any], Path],
) -> None:
    screens = run[0]["screens"]
    most = screens["most"]["texts"]
    assert (most["points_pay"], most["points_choice"]) == (
        zh("积分抵扣 1280 分\n用 1280 分抵 ¥12.80"),
        zh("用 1280 分后还需付 ¥14.60"),
    )
    assert "points_more" not in screens["most"]["enabled"]
    assert screens["one_less"]["texts"]["points_choice"] == zh("用 1200 分后还需付 ¥15.40")
    chosen = screens["chosen"]
    assert (chosen["texts"]["points_pay"], chosen["texts"]["points_choice"]) == (
        zh("积分抵扣 1280 分\n用 800 分抵 ¥8.00"),
        zh("用 800 分后还需付 ¥19.40"),
    )
    assert {"points_less", "points_more", "points_pay"} <= set(chosen["enabled"])
    assert chosen["button_sizes"]["points_less"][1] >= 48
    assert run[0]["small_buttons"]["pay_points_choice-zh"] == []
    assert run[0]["small_buttons"]["pay_points_choice-en"] == []


def test_the_chosen_points_pay_and_zero_points_is_a_choice(run: tuple[dict[str, Any], Path]) -> None:
    screens = run[0]["screens"]
    paid = screens["paid_800"]
    assert (paid["remaining"], paid["message"]) == ("¥19.40", zh("积分抵扣 ¥8.00（用 800 积分）。"))
    # the share left is ¥13.70 − ¥8.00: the 480 points left fit, offered whole again
    assert paid["texts"]["points_pay"] == zh("积分抵扣 480 分\n用 480 分抵 ¥4.80")
    zero = screens["zero"]
    assert (zero["texts"]["points_pay"], zero["texts"]["points_choice"]) == (
        zh("积分抵扣 480 分\n不用积分（点 + 使用）"),
        zh("不用积分：还需付 ¥19.40"),
    )
    assert "points_pay" not in zero["enabled"] and "points_less" not in zero["enabled"]
    assert zero["remaining"] == "¥19.40"
    assert screens["paid"]["current"] == "receipt"


def test_the_sale_redeems_exactly_the_chosen_points(run: tuple[dict[str, Any], Path]) -> None:
    db = run[1] / "kiosk.db"
    assert rows(db, "select method, amount_fen, reference from payment order by id") == [
        ("points", 800, "points:800"),
        ("stored_value", 1940, "member"),
    ]
    events = after_seed([json.loads(b) for (b,) in rows(db, "select body from outbox order by seq")])
    (sale,) = [e["data"] for e in events if e["type"] == "sale.completed"]
    assert [(e["account"], e["kind"], e["amount"]) for e in sale["ledger"]] == [
        ("points", "redeem", -800),
        ("stored_principal", "spend", -1940),
        ("points", "earn", 19),
    ]
