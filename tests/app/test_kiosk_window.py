"""Real Kivy windows under Xvfb, driven by touch events, scans and card taps.

Each app start costs seconds, so each test module runs a few long shopper
flows once (module fixtures) and the tests assert on what they recorded: the
screens' exact texts, the database rows and the outbox events.
"""

import base64
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from kiosk.config import DEMO_RECEIPT_KEY
from kiosk.devtools.ports import free_port
from kiosk.devtools.xvfb import Xvfb
from kiosk.domain import receipt_link

WATER, MILK, DUMPLINGS = "6901010370005", "6902010370187", "6910012221116"
BEER = "6906010370697"  # alcohol: needs an attendant
UNKNOWN = "6901234567892"  # a valid EAN-13 that is not in the catalog
GARBLED = "6901010370006"  # water's barcode with a wrong check digit
BANANAS_691 = "2100101006913"  # scale label: PLU 00101, ¥6.91
UNKNOWN_PLU = "2100999005005"  # scale label for an item the catalog lacks
WECHAT_OK = "134567890123456780"
WECHAT_NO_FUNDS = "134567890123456791"
WECHAT_HANGS = "134567890123456793"
MEMBER_CARD = "0012345678"
PIN = "2468"


def run_kiosk(workdir: Path, display: str, script: dict[str, Any], size: str = "800x480") -> dict[str, Any]:
    """Run ``kiosk run --demo --script`` in a subprocess on ``display``; return the report."""
    workdir.mkdir(parents=True, exist_ok=True)
    script = {"report": str(workdir / "report.json"), **script}
    (workdir / "script.json").write_text(json.dumps(script))
    env = {**os.environ, "DISPLAY": display, "KIVY_HOME": str(workdir / "kivy")}
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "run", "--db", str(workdir / "kiosk.db"), "--demo",
         "--size", size, "--script", str(workdir / "script.json")],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((workdir / "report.json").read_text())
    assert report["errors"] == []
    return report


SEEDED = ["member.registered", "card.linked", "ledger.adjusted", "ledger.adjusted"]  # the demo member


def after_seed(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events after the demo member's seeding (which comes first, exactly as ``SEEDED``)."""
    assert [e["type"] for e in events[: len(SEEDED)]] == SEEDED
    return events[len(SEEDED) :]


def zh(text: str) -> str:
    """Chinese UI text as shown: its spaces are no-break spaces, so Kivy never wraps there."""
    return text.replace(" ", "\u00a0")


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


SHOPPER_STEPS: list[dict[str, Any]] = [
    {"shot": "idle"},
    {"scan": WATER}, {"scan": MILK}, {"scan_twice": WATER}, {"scan": DUMPLINGS},
    {"observe": "scanned"},
    {"tap": "row:0:plus"}, {"observe": "plus"}, {"tap": "row:0:minus"}, {"observe": "minus"},
    {"scan": WECHAT_OK}, {"message": True},
    {"scan": UNKNOWN}, {"message": True},
    {"scan": GARBLED}, {"message": True},
    {"scan": UNKNOWN_PLU}, {"message": True},
    {"shot": "cart_error"},
    {"scan": BANANAS_691}, {"observe": "weighed"},
    {"tap": "cart:pick"}, {"tap": "tab:bakery"}, {"shot": "pick"}, {"tap": "tile:0"},
    {"observe": "picked"},
    {"card": MEMBER_CARD}, {"observe": "member"}, {"shot": "cart"},
    {"scan": BEER}, {"observe": "age_check"}, {"shot": "age_check"},
    {"pin": "1111"}, {"observe": "wrong_pin"},
    {"pin": PIN}, {"observe": "age_approved"},
    {"tap": "row:4:remove"}, {"pin": PIN}, {"observe": "removed"},
    {"tap": "cart:staff"}, {"pin": PIN}, {"shot": "staff"}, {"tap": "popup:override"},
    {"amount": "450"}, {"observe": "override"},
    {"tap": "cart:pay"}, {"shot": "pay"},
    {"tap": "pay:cash_10"}, {"shot": "cash_pin"}, {"pin": PIN}, {"observe": "cash_part"},
    {"card": MEMBER_CARD}, {"message": True},
    {"scan": WECHAT_NO_FUNDS}, {"wait_until": "payment"}, {"observe": "declined"}, {"shot": "pay_declined"},
    {"tap": "pay:lang"}, {"observe": "declined_en"}, {"tap": "pay:lang"},
    {"scan": WECHAT_OK}, {"wait_until": "receipt"}, {"observe": "receipt"},
    {"tap": "receipt:qr_button"}, {"shot": "receipt"},
    {"tap": "receipt:print"}, {"observe": "done"}, {"shot": "done"}, {"wait": 1.5},
]  # fmt: skip


@pytest.fixture(scope="module")
def shopper(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    """One shopper's whole visit at 800×480: scans, picks, member, attendant, split payment, receipt."""
    workdir = tmp_path_factory.mktemp("shopper")
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    report = run_kiosk(workdir, display, {"steps": SHOPPER_STEPS, "screenshots": str(shots)})
    return report, workdir


def test_scans_fill_the_cart_and_a_bouncing_trigger_counts_once(shopper: tuple[dict[str, Any], Path]) -> None:
    screens = shopper[0]["screens"]
    assert screens["scanned"]["rows"] == [
        ["农夫山泉 550ml", "2 × ¥2.00", "¥4.00"],
        ["蒙牛纯牛奶 250ml", "1 × ¥3.50", "¥3.50"],
        ["湾仔码头 虾仁水饺 300g", "1 × ¥26.90", "¥26.90"],
    ]
    assert (screens["scanned"]["count"], screens["scanned"]["total"]) == ("4 件", "¥34.40")
    assert screens["plus"]["rows"][0] == ["农夫山泉 550ml", "3 × ¥2.00", "¥6.00"]
    assert screens["minus"]["rows"][0] == ["农夫山泉 550ml", "2 × ¥2.00", "¥4.00"]
    # a second scan of water and + / − changed its row in place: three rows built for three lines
    assert [screens[name]["rows_built"] for name in ("scanned", "plus", "minus")] == [3, 3, 3]


def test_bad_scans_are_explained_and_add_nothing(shopper: tuple[dict[str, Any], Path]) -> None:
    report = shopper[0]
    assert report["messages"][:4] == [
        "这是付款码。请先点“去付款”，再出示付款码。",
        zh(f"条码 {UNKNOWN} 未找到该商品，未加入购物车。请找店员帮助。"),
        zh(f"条码 {GARBLED} 读取有误（校验位不对），请重新扫描。"),
        zh(f"称重标签 {UNKNOWN_PLU} 的商品编号 00999 不在商品库中，未加入。请找店员重新称重。"),
    ]
    assert len(report["screens"]["weighed"]["rows"]) == 4


def test_scale_label_and_category_grid_add_items_without_barcodes(
    shopper: tuple[dict[str, Any], Path],
) -> None:
    screens = shopper[0]["screens"]
    assert screens["weighed"]["rows"][3] == ["香蕉（称重）", "1 × ¥6.91", "¥6.91"]
    assert screens["picked"]["current"] == "cart"
    assert screens["picked"]["rows"][4] == ["菠萝包", "1 × ¥5.00", "¥5.00"]
    assert screens["picked"]["total"] == "¥46.31"


def test_member_card_shows_masked_member_and_applies_the_coupon(shopper: tuple[dict[str, Any], Path]) -> None:
    member = shopper[0]["screens"]["member"]
    assert member["member"] == zh("张* 138****8000 · 金卡会员 · 1280 积分 · 储值 ¥50.00\n可用券：满30减5")
    assert (member["subtotal"], member["discount"], member["total"]) == ("¥46.31", "-¥5.00", "¥41.31")
    assert member["points"] == zh("本单可得 41 积分")


def test_alcohol_waits_for_the_attendant_pin(shopper: tuple[dict[str, Any], Path]) -> None:
    screens = shopper[0]["screens"]
    popup = screens["age_check"]["popup"]
    assert popup["title"] == "需要店员核验年龄"
    assert popup["body"] == zh("青岛啤酒经典 500ml 仅限18岁以上购买。请稍候，店员核验证件后输入工号密码。")
    assert len(screens["age_check"]["rows"]) == 5  # not added yet
    assert screens["wrong_pin"]["popup"]["error"] == zh("密码错误，还可再试 4 次。")  # 5 in a row lock it
    assert screens["age_approved"]["rows"][5] == ["青岛啤酒经典 500ml", "1 × ¥5.50", "¥5.50"]
    assert screens["age_approved"]["message"] == zh("店员已核验年龄：青岛啤酒经典 500ml 已加入。")
    assert "popup" not in screens["age_approved"]


def test_removal_and_price_override_need_the_attendant(shopper: tuple[dict[str, Any], Path]) -> None:
    screens = shopper[0]["screens"]
    assert [r[0] for r in screens["removed"]["rows"]] == [
        "农夫山泉 550ml", "蒙牛纯牛奶 250ml", "湾仔码头 虾仁水饺 300g", "香蕉（称重）", "青岛啤酒经典 500ml",
    ]  # fmt: skip
    assert screens["override"]["rows"][4] == ["青岛啤酒经典 500ml", "1 × ¥4.50", "¥4.50"]
    assert screens["override"]["message"] == zh("店员已将 青岛啤酒经典 500ml 改价为 ¥4.50。")
    assert screens["override"]["total"] == "¥40.81"


def test_split_payment_cash_then_declined_then_wechat(shopper: tuple[dict[str, Any], Path]) -> None:
    report = shopper[0]
    screens = report["screens"]
    assert screens["cash_part"]["remaining"] == "¥30.81"
    assert screens["cash_part"]["message"] == zh("已收现金 ¥10.00，钱箱已打开。")
    assert report["messages"][4] == "付款进行中，不能更换会员。付款完成后再刷卡。"
    assert screens["declined"]["message"] == (
        "微信支付付款未成功（NOTENOUGH），未扣款。请换一种付款方式或刷新付款码再试。"
    )
    assert screens["declined"]["remaining"] == "¥30.81"
    assert screens["declined_en"]["message"] == (
        "WeChat Pay did not pay (NOTENOUGH); nothing was taken. Try another method or refresh the code."
    )
    assert screens["receipt"]["current"] == "receipt"
    # the QR's link is signed with the demo's receipt key and opens 90 days after the sale
    token = screens["receipt"]["qr_url"].removeprefix("http://hub.local:8080/r/")
    link = receipt_link.parse(token)
    assert link.receipt_no == report["receipt_no"]
    sold = dt.datetime.now(dt.UTC)
    assert sold.timestamp() + 90 * 86400 - 600 < link.expires <= sold.timestamp() + 90 * 86400
    assert receipt_link.check(link, base64.b64decode(DEMO_RECEIPT_KEY), sold) == report["receipt_no"]
    assert screens["done"]["texts"]["paid"] == "已付：¥40.81"  # full-width colon, as elsewhere in Chinese
    assert screens["done"]["texts"]["points"] == zh(
        "本单获得 40 积分，现有 1320 积分\n再得 680 积分升级铂金卡"
    )
    assert screens["done"]["texts"]["greeting"] == "张*，欢迎回来！"


def test_sale_payments_and_audited_actions_are_stored(shopper: tuple[dict[str, Any], Path]) -> None:
    report, workdir = shopper
    db = workdir / "kiosk.db"
    receipt = report["receipt_no"]
    assert rows(db, "select receipt_no, total_fen from sale") == [(receipt, 4081)]
    assert rows(db, "select method, amount_fen from payment order by id") == [
        ("cash", 1000),
        ("wechat", 3081),
    ]
    lines = rows(db, "select sku, quantity, unit_price_fen from sale_line order by position")
    assert lines == [
        ("DRK-001", 2, 200), ("DRY-001", 1, 350), ("FRZ-006", 1, 2690),
        ("PLU-00101/2100101006913", 1, 691), ("ALC-001", 1, 450),
    ]  # fmt: skip
    events = after_seed([json.loads(body) for (body,) in rows(db, "select body from outbox order by seq")])
    assert [(e["type"], e["data"].get("action")) for e in events] == [
        ("audit.action", "staff_pin_failed"),  # the wrong PIN before the right one, recorded
        ("audit.action", "age_check"),
        ("audit.action", "void"),
        ("audit.action", "price_override"),
        ("sale.completed", None),
    ]
    failed, *events = events
    assert failed["data"]["detail"] == {"tries_left": 4} and failed["data"]["attendant"] == ""
    assert events[1]["data"]["detail"] == {"scope": "line", "sku": "BAK-001", "quantity": 1, "total_fen": 500}
    assert events[2]["data"] == {
        "store": "S01", "action": "price_override", "attendant": "attendant-1", "sale_id": None,
        "detail": {"sku": "ALC-001", "old_price_fen": 550, "new_price_fen": 450},
    }  # fmt: skip
    assert events[3]["data"]["member_id"] == "demo-member-0001"
    assert events[3]["data"]["coupons"] == ["demo-coupon-0001"]
    assert [(d["label_zh"], d["amount_fen"]) for d in events[3]["data"]["discounts"]] == [("满30减5", 500)]
    assert [(e["account"], e["kind"], e["amount"]) for e in events[3]["data"]["ledger"]] == [
        ("points", "earn", 40)
    ]
    assert report["printed"] == [receipt]


def test_every_button_is_at_least_48px_at_800x480(shopper: tuple[dict[str, Any], Path]) -> None:
    small = shopper[0]["small_buttons"]
    assert set(small) >= {"idle-zh", "cart-en", "pick-zh", "age_check-en", "staff-zh", "pay-en", "receipt-zh"}
    assert {name: found for name, found in small.items() if found} == {}


TIMEOUT_STEPS: list[dict[str, Any]] = [
    {"scan": WATER}, {"card": MEMBER_CARD},
    {"tap": "cart:large_text"}, {"shot": "cart_large"}, {"observe": "large"}, {"tap": "cart:large_text"},
    {"inactive": True}, {"observe": "asked"}, {"shot": "still_there"},
    {"tap": "popup:still_here"}, {"observe": "stayed"},
    {"inactive": True}, {"wait_until": "idle"}, {"observe": "reset"},
    {"wait": 0.7}, {"observe": "reset_later"},
    {"scan": MILK}, {"tap": "cart:staff"}, {"pin": PIN}, {"tap": "popup:void_sale"}, {"observe": "voided"},
    {"scan": WATER}, {"tap": "cart:pay"},
    {"tap": "pay:large_text"}, {"shot": "pay_large"}, {"observe": "pay_large"}, {"tap": "pay:large_text"},
    {"scan": WECHAT_HANGS}, {"observe": "waiting"},
    {"wait_until": "payment"}, {"observe": "timed_out"},
    {"tap": "pay:cash"}, {"pin": PIN}, {"tap": "receipt:print"}, {"wait": 0.5}, {"observe": "done"},
    {"tap": "done:new_sale"}, {"tap": "idle:staff"}, {"pin": PIN}, {"tap": "popup:reprint"},
    {"observe": "reprint_list"}, {"shot": "reprint_failed"},
    {"tap": "reprint:0"}, {"observe": "reprint_down"},
]  # fmt: skip


@pytest.fixture(scope="module")
def walked_away(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    """A shopper who walks away, one whose sale is voided, one whose wallet hangs."""
    workdir = tmp_path_factory.mktemp("timeout")
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    script = {
        "steps": TIMEOUT_STEPS,
        "screenshots": str(shots),
        "settings": {
            "idle_timeout_s": 6,  # the steps fake inactivity; a slow screenshot must not time out
            "shop_name": "街角便利店",  # kiosk.toml's store.name
            "promo_every_s": 0.5,
            "countdown_s": 5,  # two screenshots (zh, en) fit inside it on a loaded machine
            "gateway_timeout_s": 0.5,
            "printer_url": f"tcp://127.0.0.1:{free_port()}?timeout=0.5",  # nothing listens: unreachable
        },
        "gateway_hang_s": 1.5,
    }
    return run_kiosk(workdir, display, script), workdir


def test_idle_timeout_asks_then_abandons_the_cart_and_clears_the_member(
    walked_away: tuple[dict[str, Any], Path],
) -> None:
    report, workdir = walked_away
    screens = report["screens"]
    assert report["small_buttons"]["cart_large-zh"] == []
    assert screens["asked"]["popup"]["countdown"] == zh("5 秒后将清空本单并返回首页。")
    assert screens["stayed"]["current"] == "cart" and "popup" not in screens["stayed"]
    # large text on the pay screen: the hint folds into even lines, no lone "器" on the last one
    assert screens["pay_large"]["texts"]["hint"] == "微信/支付宝：请打开\n付款码，对准扫码器"
    assert report["small_buttons"]["pay_large-zh"] == report["small_buttons"]["pay_large-en"] == []
    # large text enlarges the cash buttons and the top bar too (font px, height px)
    large, normal = screens["pay_large"]["button_sizes"], screens["waiting"]["button_sizes"]
    assert [normal[k] for k in ("cash_10", "large_text", "lang")] == [[16, 60], [16, 60], [16, 60]]
    assert [large[k] for k in ("cash_10", "large_text", "lang")] == [[20, 60], [18, 60], [18, 60]]
    assert screens["pay_large"]["texts"]["cash_10"] == zh("现金 ¥10")  # one line, whole yuan
    reset = screens["reset"]
    # a member tapped a card and the sale timed out: no member or refund screen was ever built
    assert reset["built"] == ["idle", "cart", "pick", "pay", "receipt", "done"]
    assert (reset["current"], reset["rows"], reset["total"]) == ("idle", [], "¥0.00")
    assert reset["member"] == "刷会员卡或出示会员码，可享会员优惠"
    assert reset["texts"]["shop"] == "街角便利店"  # the provisioned store name, not the demo shop's
    assert "138" not in json.dumps(reset, ensure_ascii=False)  # no member data left anywhere
    promos = {"会员日：每周三全场积分翻倍", "新鲜面包每天早上7点出炉", "满30元减5元，会员专享"}
    shown = reset["texts"]["promo"], screens["reset_later"]["texts"]["promo"]
    assert set(shown) <= promos and shown[0] != shown[1]
    events = [json.loads(b) for (b,) in rows(workdir / "kiosk.db", "select body from outbox order by seq")]
    abandoned = after_seed(events)[0]
    assert (abandoned["type"], abandoned["data"]["reason"], abandoned["data"]["total_fen"]) == (
        "cart.abandoned", "timeout", 200,
    )  # fmt: skip
    assert len(abandoned["data"]["cart_id"]) == 36
    assert abandoned["data"]["lines"] == [
        {
            "sku": "DRK-001",
            "name_zh": "农夫山泉 550ml",
            "unit_price_fen": 200,
            "quantity": 1,
            "total_fen": 200,
        }
    ]


def test_void_sale_is_audited_and_a_hanging_wallet_times_out_without_charge(
    walked_away: tuple[dict[str, Any], Path],
) -> None:
    report, workdir = walked_away
    screens = report["screens"]
    assert screens["voided"]["message"] == "店员已作废本单，未收款。"
    # the first cart's row went back to the pool at the reset and served the next carts
    assert [screens[name]["rows_built"] for name in ("asked", "reset", "voided", "done")] == [1, 1, 1, 1]
    assert (screens["voided"]["current"], screens["voided"]["rows"]) == ("idle", [])
    assert screens["waiting"]["message"] == zh("正在向微信支付请求付款 ¥2.00，请稍候…")
    assert screens["timed_out"]["message"] == (
        "微信支付长时间无响应，已撤销，未扣款。请再扫一次付款码，或改用现金。"
    )
    db = workdir / "kiosk.db"
    assert rows(db, "select method, amount_fen from payment") == [("cash", 200)]
    types = [t for (t,) in rows(db, "select type from outbox order by seq")]
    assert types == [
        *SEEDED, "cart.abandoned", "audit.action", "sale.completed", "receipt.failed", "audit.action",
    ]  # fmt: skip


def test_unreachable_printer_still_completes_the_sale_and_tells_the_hub(
    walked_away: tuple[dict[str, Any], Path],
) -> None:
    report, workdir = walked_away
    done = report["screens"]["done"]
    assert done["current"] == "done"
    assert done["message"] == zh("无法连接打印机，小票已保存，恢复后自动补打。本单已完成，请找店员。")
    events = [json.loads(b) for (b,) in rows(workdir / "kiosk.db", "select body from outbox order by seq")]
    (sale_id,) = rows(workdir / "kiosk.db", "select id from sale")[0]
    assert events[-2]["data"] == {
        "sale_id": sale_id,
        "receipt_no": report["receipt_no"],
        "reason": "unreachable",
    }
    assert report["printed"] == []
    # the attendant sees it among the receipts to reprint, flagged; reprinting it retries, audited
    [listed] = report["screens"]["reprint_list"]["popup"]["rows"]
    assert listed.startswith(report["receipt_no"]) and listed.endswith("\n未打印出来")
    assert report["small_buttons"]["reprint_failed-en"] == []
    assert report["screens"]["reprint_down"]["message"] == done["message"]  # still unreachable: said again
    assert events[-1]["data"]["detail"] == {"receipt_no": report["receipt_no"]}


@pytest.fixture(scope="module")
def big_display() -> Iterator[str]:
    """A 1920×1080 Xvfb screen for the larger window sizes."""
    with Xvfb(1920, 1080) as server:
        yield server.display


@pytest.mark.parametrize(
    ("size", "member"),
    [("1024x600", {"card": MEMBER_CARD}), ("1920x1080", {"scan": "member:demo-member-0001"})],
)
def test_screens_fit_larger_windows(
    tmp_path: Path, big_display: str, size: str, member: dict[str, str]
) -> None:
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", tmp_path / "shots"))
    steps = [
        {"scan": WATER}, member, {"observe": "member"}, {"shot": f"cart_{size}"},
        {"tap": "cart:pay"}, {"shot": f"pay_{size}"},
        {"tap": "pay:stored_value_pay"}, {"wait_until": "receipt"}, {"observe": "member_paid"},
    ]  # fmt: skip
    report = run_kiosk(tmp_path, big_display, {"steps": steps, "screenshots": str(shots)}, size)
    width, height = (int(v) for v in size.split("x"))
    assert report["window"] == [width, height]
    assert report["screens"]["member"]["message"] == "会员已识别：张*"  # by card tap or by member QR
    assert report["screens"]["member"]["member"] == zh(
        "张* 138****8000 · 金卡会员 · 1280 积分 · 储值 ¥50.00\n可用券：满30减5"
    )
    assert report["screens"]["member_paid"]["current"] == "receipt"
    assert {name: found for name, found in report["small_buttons"].items() if found} == {}
    with Image.open(shots / f"kiosk-pay_{size}-zh.png") as image:
        assert image.size == (width, height)
    db = tmp_path / "kiosk.db"
    assert rows(db, "select method, amount_fen, reference from payment") == [("stored_value", 200, "member")]
    events = after_seed([json.loads(b) for (b,) in rows(db, "select body from outbox order by seq")])
    [sale] = [e["data"] for e in events if e["type"] == "sale.completed"]
    assert (sale["member_id"], sale["receipt_no"], sale["earned_points"]) == (
        "demo-member-0001", report["receipt_no"], 2,
    )  # fmt: skip
    assert [(e["account"], e["kind"], e["amount"]) for e in sale["ledger"]] == [
        ("stored_principal", "spend", -200),
        ("points", "earn", 2),
    ]
    balances = (
        "select account, sum(amount) from ledger_row where member_id = ? group by account order by account"
    )
    with sqlite3.connect(db) as conn:
        assert conn.execute(balances, ("demo-member-0001",)).fetchall() == [
            ("points", 1282),
            ("stored_principal", 4800),
        ]


def test_the_attract_screen_shows_the_hubs_promotions_and_the_shops_logo(
    tmp_path: Path,
    display: str,
    kiosk_db,
    broker,  # type: ignore[no-untyped-def]
) -> None:
    from click.testing import CliRunner

    from hub.cli import main as hub_main
    from kiosk.sync import config
    from tests.sync.harness import AgentThread, wait_until

    promotions = tmp_path / "promotions.json"
    promotions.write_text(
        json.dumps(
            [{"zh": "秋季新品：桂花拿铁 第二杯半价", "en": "New for autumn: osmanthus latte"}],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    args = ["config", "publish", "--db", f"sqlite:///{tmp_path / 'hub.db'}", "--device", "KL"]
    published = CliRunner().invoke(
        hub_main, [*args, "--mqtt-port", str(broker.port), "--promotions", str(promotions)]
    )
    assert published.exit_code == 0, published.output
    agent = AgentThread(broker.port, device="KL")
    try:
        wait_until(lambda: config.running_version() == 1, what="release 1 applied")
    finally:
        agent.close()
    logo = tmp_path / "logo.png"
    Image.new("RGB", (96, 96), (230, 0, 120)).save(logo)  # a colour no screen uses
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", tmp_path / "shots"))
    script = {
        "steps": [{"observe": "idle"}, {"shot": "idle_logo"}],
        "screenshots": str(shots),
        "settings": {"shop_name": "街角便利店", "logo": str(logo), "promo_every_s": 60},
    }
    report = run_kiosk(tmp_path, display, script)  # the same kiosk.db the agent applied the release to
    assert report["screens"]["idle"]["texts"]["promo"] == "秋季新品：桂花拿铁\u00a0第二杯半价"
    assert report["screens"]["idle"]["texts"]["shop"] == "街角便利店"
    assert report["small_buttons"]["idle_logo-zh"] == []
    for lang in ("zh", "en"):
        with Image.open(shots / f"kiosk-idle_logo-{lang}.png") as shot:
            logo_px = [xy for xy, colour in _pixels(shot.convert("RGB")) if colour == (230, 0, 120)]
        # the logo is drawn whole (112 px at most), in the top part of the screen, left of centre
        xs, ys = [x for x, _ in logo_px], [y for _, y in logo_px]
        assert 60 <= max(xs) - min(xs) + 1 <= 112 and max(xs) < shot.width / 2 and max(ys) < shot.height / 2


def _pixels(image: Image.Image) -> Iterator[tuple[tuple[int, int], tuple[int, int, int]]]:
    loaded = image.load()
    assert loaded is not None
    for y in range(image.height):
        for x in range(image.width):
            yield (x, y), loaded[x, y]  # type: ignore[misc]
