"""Members at the kiosk under Xvfb, driven by touches: joining with consent, phone + PIN sign-in
with its lockout, My account, change PIN, export QR, and an erasure request that reaches a real hub
over a real broker and anonymises the member there."""

import base64
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kiosk.config import DEMO_ENCRYPTION_KEY
from kiosk.devtools.broker import MosquittoBroker
from kiosk.devtools.xvfb import Xvfb
from kiosk.store.pii import PiiKey
from tests.app.test_kiosk_window import MEMBER_CARD, SEEDED, WATER, rows, run_kiosk, zh
from tests.sync.harness import hub_worker_cmd, spawn, stop, sync_agent_cmd, wait_until

PHONE = "13912345678"

JOIN_STEPS: list[dict[str, Any]] = [
    {"tap": "idle:join"}, {"keys": "member_phone:123"}, {"observe": "bad_phone"},
    {"tap": "member_phone:key_del"}, {"tap": "member_phone:key_del"}, {"tap": "member_phone:key_del"},
    {"keys": f"member_phone:{PHONE}"}, {"observe": "consent"}, {"shot": "member_consent"},
    {"tap": "member_consent:decline"}, {"observe": "declined"},
    {"scan": WATER}, {"tap": "cart:join"}, {"press": f"member_phone:{PHONE[:7]}"}, {"shot": "member_phone"},
    {"keys": f"member_phone:{PHONE[7:]}"}, {"observe": "consent_again"}, {"tap": "member_consent:marketing"},
    {"observe": "marketing_ticked"}, {"shot": "member_consent_marketing"}, {"tap": "member_consent:agree"},
    {"shot": "member_name"}, {"tap": "member_name:other"}, {"observe": "name_other"},
    {"type": "member_name:name=Lee"}, {"shot": "member_name_other"}, {"tap": "member_name:next"},
    {"observe": "choose_pin"}, {"keys": "member_pin:1111"}, {"observe": "same_digits"},
    {"keys": "member_pin:2580"}, {"keys": "member_pin:2581"}, {"observe": "mismatch"},
    {"keys": "member_pin:2580"}, {"keys": "member_pin:2580"}, {"observe": "joined"},
    {"tap": "cart:account"}, {"observe": "account"}, {"shot": "member_account"},
    {"tap": "member_account:change_pin"}, {"keys": "member_pin:0000"}, {"observe": "old_pin_wrong"},
    {"keys": "member_pin:2580"}, {"keys": "member_pin:135790"},
    {"press": "member_pin:135"}, {"shot": "member_pin"},
    {"keys": "member_pin:790"}, {"observe": "pin_changed"},
    {"tap": "member_account:export"}, {"observe": "export"}, {"shot": "member_export"},
    {"tap": "member_export:back"}, {"tap": "member_account:done"}, {"observe": "back_to_cart"},
    {"tap": "cart:cancel"}, {"observe": "signed_out"},
    {"tap": "idle:join"}, {"keys": f"member_phone:{PHONE}"}, {"observe": "join_known"},
    {"tap": "member_pin:back"},
    {"tap": "idle:sign_in"}, {"keys": f"member_phone:{PHONE}"}, {"observe": "sign_in_pin"},
    {"keys": "member_pin:135790"}, {"observe": "signed_in"},
    {"tap": "cart:account"}, {"inactive": True}, {"wait_until": "idle"}, {"observe": "timed_out"},
    {"observe_screen": "member_account=account_after_timeout"},
    {"observe_screen": "member_pin=pin_after_timeout"},
    {"tap": "idle:sign_in"}, {"keys": f"member_phone:{PHONE}"},
    {"keys": "member_pin:1111"}, {"keys": "member_pin:2222"}, {"keys": "member_pin:3333"},
    {"keys": "member_pin:4444"}, {"observe": "one_try_left"}, {"keys": "member_pin:5555"},
    {"observe": "locked"}, {"shot": "member_locked"},
    {"tap": "member_pin:lang"}, {"observe": "locked_en"}, {"tap": "member_pin:lang"},
    {"keys": "member_pin:135790"}, {"observe": "still_locked"},
    {"tap": "member_pin:back"},
    {"card": MEMBER_CARD}, {"tap": "cart:account"}, {"tap": "member_account:export"},
    {"observe": "export_without_pin"}, {"tap": "member_export:back"},
    {"tap": "member_account:erase"}, {"observe": "erase"}, {"shot": "member_erase"},
    {"tap": "member_erase:confirm"}, {"observe": "erased"},
    {"card": MEMBER_CARD}, {"observe": "card_after_erasure"},
]  # fmt: skip


@pytest.fixture(scope="module")
def member_visit(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    """Joining, sign-in, My account, lockout and the demo member's erasure, at 800×480."""
    workdir = tmp_path_factory.mktemp("members")
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    script = {
        "steps": JOIN_STEPS,
        "screenshots": str(shots),
        "settings": {"idle_timeout_s": 6, "countdown_s": 1},
    }
    return run_kiosk(workdir, display, script), workdir


def outbox(db: Path) -> list[dict[str, Any]]:
    return [json.loads(b) for (b,) in rows(db, "select body from outbox order by seq")]


def test_joining_explains_bad_input_and_asks_consent_first(member_visit: tuple[dict[str, Any], Path]) -> None:
    screens = member_visit[0]["screens"]
    assert screens["bad_phone"]["current"] == "member_phone"
    # built when first shown; the other member screens and the refund screen not yet
    assert screens["bad_phone"]["built"] == ["idle", "cart", "pick", "pay", "receipt", "done", "member_phone"]
    assert screens["bad_phone"]["texts"]["note"] == "“123”不是有效的手机号，请检查后重新输入。"
    consent = screens["consent"]
    assert consent["current"] == "member_consent"
    assert consent["texts"]["body"].startswith("我们保存：您的手机号（用于在各门店识别您）")
    assert consent["texts"]["version"] == zh("说明版本 kiosk-consent-2026-11")
    assert (screens["declined"]["current"], screens["declined"]["message"]) == (
        "idle", "您未同意隐私说明，未注册，没有保存任何资料。",
    )  # fmt: skip
    assert screens["same_digits"]["texts"]["note"] == "密码不能全部是同一个数字。"
    assert screens["mismatch"]["texts"]["prompt"] == zh("请设置 4–6 位会员密码")
    assert screens["mismatch"]["texts"]["note"] == "两次输入的密码不一致，请重新设置。"


def test_joining_stores_member_consent_pin_and_coupon_in_one_event(
    member_visit: tuple[dict[str, Any], Path],
) -> None:
    report, workdir = member_visit
    joined = report["screens"]["joined"]
    assert joined["current"] == "cart"
    assert joined["message"] == "注册成功，欢迎您！已送您“新会员满20减3”优惠券。"
    assert joined["member"] == zh("L** 139****5678 · 普通会员 · 0 积分 · 储值 ¥0.00\n可用券：新会员满20减3")
    assert joined["rows"] == [["农夫山泉 550ml", "1 × ¥2.00", "¥2.00"]]  # the cart waited
    events = outbox(workdir / "kiosk.db")[len(SEEDED) :]
    registered = [e for e in events if e["type"] == "member.registered"]
    assert len(registered) == 1  # the declined attempt stored nothing
    member = registered[0]["data"]["member"]
    assert (member["consent_version"], member["consent_where"], member["source"]) == (
        "kiosk-consent-2026-11", "S01/K01", "kiosk",
    )  # fmt: skip
    assert member["pin_hash"].startswith("scrypt$")
    assert "13912345678" not in json.dumps(registered) and "Lee" not in json.dumps(registered)
    assert registered[0]["data"]["coupon"]["name_zh"] == "新会员满20减3"
    # the separate marketing consent: unticked on every join (the declined attempt had it unticked
    # too), ticked here, and sent with the registration for the hub
    assert report["screens"]["consent_again"]["texts"]["marketing"] == zh(
        "接收优惠活动信息（可选）：否 — 点此开启"
    )
    assert report["screens"]["marketing_ticked"]["texts"]["marketing"] == zh(
        "接收优惠活动信息：是（可随时退订）— 点此关闭"
    )
    assert registered[0]["data"]["marketing_consent"] == {
        "granted": True,
        "version": "kiosk-marketing-2026-12",
        "at": member["consent_at"],
        "where": "S01/K01",
        "lang": "zh",  # the screen's language when they joined: their messages' language at the hub
    }
    (consent_at,) = rows(workdir / "kiosk.db", f"select consent_at from member where id = '{member['id']}'")[
        0
    ]
    assert consent_at == member["consent_at"] == registered[0]["ts"]


def test_my_account_shows_balances_coupons_and_changes_the_pin(
    member_visit: tuple[dict[str, Any], Path],
) -> None:
    report, workdir = member_visit
    screens = report["screens"]
    account = screens["account"]["texts"]
    assert account["tier"] == zh("普通会员\n再得 1000 积分升级金卡会员")
    assert account["history"] == "暂无积分记录"
    until = (dt.datetime.now(ZoneInfo("Asia/Shanghai")) + dt.timedelta(days=30)).date()
    assert account["wallet"] == zh(f"[b]优惠券[/b]\n新会员满20减3（至 {until}）\n\n[b]次卡[/b]\n无")
    assert screens["old_pin_wrong"]["texts"]["note"] == zh("原密码不正确，还可再试 4 次。")
    assert screens["pin_changed"]["current"] == "member_account"
    assert screens["pin_changed"]["texts"]["note"] == "密码已修改。"
    updated = [e for e in outbox(workdir / "kiosk.db") if e["type"] == "member.updated"]
    assert len(updated) == 1 and updated[0]["data"]["pin_hash"].startswith("scrypt$")
    assert screens["export"]["texts"]["hint"].startswith("用手机扫描二维码")
    assert (
        screens["export_without_pin"]["texts"]["hint"] == "导出资料需要会员密码。请先返回“我的账户”设置密码。"
    )
    assert screens["back_to_cart"]["current"] == "cart"
    assert screens["signed_out"]["current"] == "idle" and "139" not in json.dumps(screens["signed_out"])


def test_phone_and_pin_sign_in_then_lockout_in_both_languages(
    member_visit: tuple[dict[str, Any], Path],
) -> None:
    screens = member_visit[0]["screens"]
    known = screens["join_known"]  # joining with a member's phone asks for their PIN instead
    assert (known["current"], known["texts"]["prompt"]) == ("member_pin", "请输入会员密码")
    assert known["texts"]["note"] == "该手机号已是会员，请输入会员密码登录。"
    assert screens["sign_in_pin"]["texts"]["subtitle"] == zh("手机号 139****5678")
    assert (screens["signed_in"]["current"], screens["signed_in"]["message"]) == ("cart", "登录成功：L**")
    assert screens["one_try_left"]["texts"]["note"] == zh("手机号或密码不正确，还可再试 1 次。")
    locked = "密码错误次数过多，此手机号已锁定，请 5 分钟后再试，或刷会员卡。"
    assert screens["locked"]["texts"]["note"] == zh(locked)
    assert screens["locked_en"]["texts"]["note"] == (
        "Too many wrong PINs: this phone is locked. Try again in 5 min, or tap your card."
    )
    assert screens["still_locked"]["texts"]["note"] == zh(locked)  # the right PIN waits too
    assert screens["still_locked"]["current"] == "member_pin"


def test_timeout_on_my_account_leaves_no_member_data_on_any_screen(
    member_visit: tuple[dict[str, Any], Path],
) -> None:
    screens = member_visit[0]["screens"]
    assert screens["timed_out"]["current"] == "idle"
    assert screens["timed_out"]["member"] == "刷会员卡或出示会员码，可享会员优惠"
    left = json.dumps([screens["account_after_timeout"], screens["pin_after_timeout"]], ensure_ascii=False)
    assert "139" not in left and "L*" not in left and "新会员" not in left and "●" not in left


def test_erasure_request_clears_the_member_here(member_visit: tuple[dict[str, Any], Path]) -> None:
    report, workdir = member_visit
    screens = report["screens"]
    assert screens["erase"]["texts"]["body"].startswith(
        zh("将删除：手机号、称呼、生日、会员密码和已绑定的会员卡。\n剩余积分 1280、储值 ¥50.00")
    )
    assert (screens["erased"]["current"], screens["erased"]["message"]) == (
        "idle", "您的资料已删除，会员中心也将删除其副本。感谢您的光临。",
    )  # fmt: skip
    after = screens["card_after_erasure"]  # the erased member's card is no longer theirs
    assert after["message"] == "这张卡还不是会员卡，未识别到会员。可找店员办理会员。"
    db = workdir / "kiosk.db"
    assert rows(db, "select phone_enc, name_enc, pin_hash from member where id = 'demo-member-0001'") == [
        ("", "", "")
    ]
    assert rows(db, "select count(*) from member_card") == [(0,)]
    [erasure] = [e for e in outbox(db) if e["type"] == "member.erasure_requested"]
    assert erasure["data"]["member_id"] == "demo-member-0001" and erasure["data"]["where"] == "S01/K01"


def test_every_member_screen_has_48px_targets_at_800x480(member_visit: tuple[dict[str, Any], Path]) -> None:
    small = member_visit[0]["small_buttons"]
    assert {
        f"member_{n}-{lang}" for n in ("phone", "consent", "name", "pin", "account") for lang in ["zh", "en"]
    } <= set(small)
    assert {name: found for name, found in small.items() if found} == {}


def test_erasure_reaches_the_hub_over_the_broker_and_anonymises_the_member(
    member_visit: tuple[dict[str, Any], Path], broker: MosquittoBroker, tmp_path: Path
) -> None:
    _, workdir = member_visit
    hub_db = tmp_path / "hub.db"
    hub = spawn(hub_worker_cmd(f"sqlite:///{hub_db}", broker.port, "w1"), tmp_path / "hub.log")
    agent = spawn(sync_agent_cmd(workdir / "kiosk.db", broker.port, "K01"), tmp_path / "agent.log")
    try:
        unsent = "select count(*) from outbox where sent_at is null"
        wait_until(lambda: rows(workdir / "kiosk.db", unsent) == [(0,)], timeout=30, what="outbox acked")
    finally:
        stop(agent)
        stop(hub)
    with sqlite3.connect(hub_db) as conn:
        member = conn.execute(
            "select phone_index, phone_enc, name_enc, pin_hash, erased_at is not null from hub_member "
            "where id = 'demo-member-0001'"
        ).fetchone()
        assert member == ("erased:demo-member-0001", "", "", "", 1)
        assert conn.execute(
            "select count(*) from hub_card where member_id = 'demo-member-0001'"
        ).fetchone() == (0,)
        ledger = conn.execute(
            "select account, sum(amount) from hub_ledger_entry where member_id = 'demo-member-0001' "
            "group by account order by account"
        ).fetchall()
        assert ledger == [("points", 1280), ("stored_principal", 5000)]  # the anonymised ledger stays
        joined = conn.execute(
            "select consent_version, pin_hash like 'scrypt$%' from hub_member "
            "where source = 'kiosk' and id != 'demo-member-0001'"
        ).fetchall()
        assert joined == [("kiosk-consent-2026-11", 1)]


PHONE_A, PHONE_B = "13700001111", "13700002222"


def join_steps(phone: str, pin: str, name: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join from the idle screen with ``phone`` and ``pin``; ``name`` are the steps on the name screen."""
    return [
        {"tap": "idle:join"}, {"keys": f"member_phone:{phone}"}, {"tap": "member_consent:agree"},
        *name, {"keys": f"member_pin:{pin}"}, {"keys": f"member_pin:{pin}"},
    ]  # fmt: skip


SURNAME_STEPS: list[dict[str, Any]] = [  # 王女士, after a look at the next pages and back
    {"observe": "surnames"}, {"tap": "member_name:next_page"}, {"tap": "member_name:next_page"},
    {"observe": "surnames_page_3"}, {"tap": "surname:石"}, {"observe": "title_for_shi"},
    {"tap": "member_name:title_back"}, {"observe": "back_to_surnames"},
    {"tap": "member_name:prev_page"}, {"tap": "member_name:prev_page"},
    {"tap": "surname:王"}, {"observe": "title_for_wang"}, {"shot": "member_name_title"},
    {"tap": "member_name:ms"},
]  # fmt: skip
ERASE_WITH_PIN_STEPS: list[dict[str, Any]] = [
    *join_steps(PHONE_A, "2580", SURNAME_STEPS), {"observe": "joined_as_wang"},
    {"tap": "cart:account"}, {"tap": "member_account:erase"}, {"tap": "member_erase:confirm"},
    {"observe": "erase_asks_pin"}, {"shot": "member_erase_pin"},
    {"keys": "member_pin:0000"}, {"observe": "erase_pin_wrong"},
    {"tap": "member_pin:back"}, {"observe": "erase_cancelled"},
    {"tap": "member_account:done"}, {"tap": "cart:cancel"},
    {"tap": "idle:sign_in"}, {"keys": f"member_phone:{PHONE_A}"},
    {"keys": "member_pin:1111"}, {"keys": "member_pin:2222"}, {"keys": "member_pin:3333"},
    {"observe": "one_try_left"}, {"tap": "member_pin:back"},
    *join_steps(PHONE_B, "3690", [{"tap": "member_name:skip"}]),
    {"tap": "cart:account"}, {"tap": "member_account:erase"}, {"tap": "member_erase:confirm"},
    {"keys": "member_pin:3690"}, {"observe": "erased_with_pin"},
]  # fmt: skip
AFTER_RESTART_STEPS: list[dict[str, Any]] = [
    {"tap": "idle:sign_in"}, {"keys": f"member_phone:{PHONE_A}"},
    {"keys": "member_pin:4444"}, {"observe": "locked_after_restart"},
    {"keys": "member_pin:2580"}, {"observe": "still_locked_after_restart"},
]  # fmt: skip


@pytest.fixture(scope="module")
def erase_then_restart(
    tmp_path_factory: pytest.TempPathFactory, display: str
) -> tuple[dict[str, Any], dict[str, Any], Path]:
    """Two members who set a PIN and ask for erasure; then the kiosk restarts on the same database."""
    workdir = tmp_path_factory.mktemp("erase-pin")
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", workdir / "shots"))
    first = run_kiosk(workdir, display, {"steps": ERASE_WITH_PIN_STEPS, "screenshots": str(shots)})
    second = run_kiosk(workdir, display, {"steps": AFTER_RESTART_STEPS})
    return first, second, workdir


def test_a_chinese_name_is_picked_surname_then_title_and_shown_masked(
    erase_then_restart: tuple[dict[str, Any], dict[str, Any], Path],
) -> None:
    screens, _, workdir = erase_then_restart
    screens = screens["screens"]
    first = screens["surnames"]
    assert first["texts"]["prompt"] == "怎么称呼您？请选择您的姓（可跳过）"
    assert first["texts"]["page"] == zh("第 1/4 页")
    assert first["surnames"][:8] == list("王李张刘陈杨黄赵") and len(first["surnames"]) == 24
    third = screens["surnames_page_3"]
    assert third["texts"]["page"] == zh("第 3/4 页") and third["surnames"][0] == "任"
    shi = screens["title_for_shi"]["texts"]
    assert (shi["prompt"], shi["mr"], shi["ms"]) == ("石……先生还是女士？", "石先生", "石女士")
    assert screens["back_to_surnames"]["texts"]["page"] == zh("第 3/4 页")
    assert screens["title_for_wang"]["texts"]["no_title"] == "不说\n（只称王）"
    joined = screens["joined_as_wang"]
    assert joined["current"] == "cart"
    assert joined["member"].startswith(zh("王** 137****1111 · 普通会员"))
    db = workdir / "kiosk.db"
    query = "select id, name_enc, data_key from member where id != 'demo-member-0001' order by created_at"
    [(member_id, name_enc, data_key)] = rows(db, f"{query} limit 1")
    assert "王" not in name_enc  # encrypted at rest like every name, under the member's own data key
    key = PiiKey(base64.b64decode(DEMO_ENCRYPTION_KEY)).with_data_keys({member_id: data_key}.get)
    assert key.decrypt(name_enc, f"{member_id}:name") == "王女士"


def test_erasure_asks_for_the_members_pin_and_a_wrong_one_counts_toward_the_lockout(
    erase_then_restart: tuple[dict[str, Any], dict[str, Any], Path],
) -> None:
    screens, _, workdir = erase_then_restart
    screens = screens["screens"]
    asks = screens["erase_asks_pin"]
    assert (asks["current"], asks["texts"]["prompt"]) == ("member_pin", "请输入会员密码以确认删除")
    wrong = screens["erase_pin_wrong"]
    assert (wrong["current"], wrong["texts"]["note"]) == (
        "member_pin",
        zh("密码不正确，未删除任何资料。还可再试 4 次。"),
    )
    assert screens["erase_cancelled"]["current"] == "member_account"
    # the erasure's wrong PIN and three at sign-in: one try left of five
    assert screens["one_try_left"]["texts"]["note"] == zh("手机号或密码不正确，还可再试 1 次。")
    assert (screens["erased_with_pin"]["current"], screens["erased_with_pin"]["message"]) == (
        "idle", "您的资料已删除，会员中心也将删除其副本。感谢您的光临。",
    )  # fmt: skip
    db = workdir / "kiosk.db"
    joined = rows(
        db,
        "select id, phone_enc != '', pin_hash != '' from member "
        "where id != 'demo-member-0001' order by created_at",
    )
    assert [kept for _, *kept in joined] == [[1, 1], [0, 0]]  # A kept phone and PIN, B is erased
    [erasure] = [e for e in outbox(db) if e["type"] == "member.erasure_requested"]
    assert erasure["data"]["member_id"] == joined[1][0]


def test_the_pin_lockout_survives_a_restart(
    erase_then_restart: tuple[dict[str, Any], dict[str, Any], Path],
) -> None:
    _, second, workdir = erase_then_restart
    locked = zh("密码错误次数过多，此手机号已锁定，请 5 分钟后再试，或刷会员卡。")
    assert second["screens"]["locked_after_restart"]["texts"]["note"] == locked  # the fifth try of five
    assert second["screens"]["still_locked_after_restart"]["texts"]["note"] == locked
    assert rows(workdir / "kiosk.db", "select wrong, locked_until > 0 from pin_tries") == [(0, 1)]


@pytest.fixture(scope="module")
def large_display() -> Iterator[str]:
    """A 1920×1080 Xvfb screen for the larger window sizes."""
    with Xvfb(1920, 1080) as server:
        yield server.display


@pytest.mark.parametrize("size", ["1920x1080"])  # 800x480 above; the layouts only grow in between
def test_member_screens_fit_larger_windows(tmp_path: Path, large_display: str, size: str) -> None:
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", tmp_path / "shots"))
    steps = [
        {"tap": "idle:join"}, {"press": "member_phone:1391234"}, {"shot": f"member_phone_{size}"},
        {"keys": "member_phone:5678"}, {"tap": "member_consent:agree"},
        {"shot": f"member_name_{size}"}, {"tap": "surname:李"}, {"shot": f"member_name_title_{size}"},
        {"tap": "member_name:title_back"}, {"tap": "member_name:back"},
        {"card": MEMBER_CARD}, {"tap": "cart:account"}, {"observe": "account"},
        {"shot": f"member_account_{size}"}, {"tap": "member_account:change_pin"}, {"observe": "set_pin"},
    ]  # fmt: skip
    report = run_kiosk(tmp_path, large_display, {"steps": steps, "screenshots": str(shots)}, size)
    width, height = (int(v) for v in size.split("x"))
    assert report["window"] == [width, height]
    assert report["screens"]["account"]["texts"]["tier"] == zh("金卡会员\n再得 720 积分升级铂金卡")
    assert report["screens"]["set_pin"]["texts"]["prompt"] == zh("请输入新密码（4–6 位）")  # no PIN yet
    assert {name: found for name, found in report["small_buttons"].items() if found} == {}
