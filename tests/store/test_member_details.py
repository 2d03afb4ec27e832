"""Staff correcting a member's details at the terminal, on a real SQLite file: stored encrypted like
registration, one ``member.updated`` and one ``member_edit`` audit in the same transaction, bad input
refused in zh/en with nothing written."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain.loyalty.member_details import DetailsChange, InvalidDetails, parse_birthday
from kiosk.store import members
from kiosk.store.member_models import Member
from kiosk.store.models import Outbox
from kiosk.store.sales import Terminal
from tests.store.test_member_account import CONSENT, KEY, NOW, TERMINAL

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = NOW.date()


def bodies() -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(r.body) for r in Outbox.select().order_by(Outbox.seq)]


def registered() -> Member:
    return members.register_member(
        KEY, TERMINAL, NOW, "13812341234", CONSENT, name="李四", member_id="m-1"
    ).member


def test_a_name_birthday_and_marketing_change_is_stored_encrypted_with_its_event_and_audit(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    registered()
    later = NOW + dt.timedelta(minutes=5)
    change = DetailsChange(name=" 王女士 ", birthday=dt.date(1990, 5, 17), marketing=True)
    event_id = members.change_details(KEY, TERMINAL, later, "m-1", change, "st-7")
    member = Member.get_by_id("m-1")
    assert members.profile(KEY, member) == {
        "phone": "+8613812341234",
        "name": "王女士",
        "birthday": "1990-05-17",
    }
    registration, updated, audited = bodies()
    assert registration["type"] == "member.registered"
    assert (updated["id"], updated["type"]) == (event_id, "member.updated")
    assert updated["data"] == {
        "member_id": "m-1",
        "name_enc": member.name_enc,
        "birthday_enc": member.birthday_enc,
        "changed_by": "st-7",
        "where": "S01/K01",
        "marketing_consent": {
            "granted": True,
            "version": "kiosk-marketing-2026-12",
            "at": "2026-11-24T15:35:00.000+08:00",
            "where": "S01/K01",
        },
    }
    assert "王女士" not in json.dumps(updated, ensure_ascii=False)  # only ciphertext leaves the terminal
    assert audited["type"] == "audit.action"
    assert audited["data"] == {
        "store": "S01",
        "action": "member_edit",
        "attendant": "st-7",
        "sale_id": None,
        "detail": {"member_id": "m-1", "fields": ["name", "birthday", "marketing"], "event_id": event_id},
    }


def test_an_empty_name_removes_it_and_marketing_alone_changes_no_row(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    before = registered()
    members.change_details(KEY, TERMINAL, NOW, "m-1", DetailsChange(marketing=False), "st-7")
    assert Member.get_by_id("m-1").name_enc == before.name_enc
    members.change_details(KEY, TERMINAL, NOW, "m-1", DetailsChange(name=""), "st-7")
    assert members.profile(KEY, Member.get_by_id("m-1"))["name"] == ""
    updates = [b["data"] for b in bodies() if b["type"] == "member.updated"]
    assert [sorted(u) for u in updates] == [
        ["changed_by", "marketing_consent", "member_id", "where"],
        ["changed_by", "member_id", "name_enc", "where"],
    ]
    assert updates[1]["name_enc"] == ""
    assert members.change_details(KEY, TERMINAL, NOW, "m-1", DetailsChange(), "st-7") == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (DetailsChange(name="王" * 21), "the name has more than 20 characters / 称呼最多 20 个字"),
        (DetailsChange(name="王\x07"), "the name holds control characters / 称呼含有不可显示的字符"),
        (
            DetailsChange(name="王女士", birthday=dt.date(2027, 1, 1)),
            "the birthday 2027-01-01 is not between 1900-01-01 and today"
            " / 生日 2027-01-01 应在 1900-01-01 至今天之间",
        ),
    ],
)
def test_a_bad_change_is_refused_and_nothing_is_written(
    kiosk_db, change: DetailsChange, message: str
) -> None:  # type: ignore[no-untyped-def]
    before = registered()
    with pytest.raises(InvalidDetails) as caught:
        members.change_details(KEY, TERMINAL, NOW, "m-1", change, "st-7")
    assert str(caught.value) == message
    assert Member.get_by_id("m-1").name_enc == before.name_enc
    assert [b["type"] for b in bodies()] == ["member.registered"]


def test_an_unknown_member_writes_nothing(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    for change in (DetailsChange(name="王女士"), DetailsChange(marketing=True)):
        with pytest.raises(LookupError, match="本机没有这位会员"):
            members.change_details(KEY, Terminal("S01", "K01", "b"), NOW, "m-404", change, "st-7")
    assert bodies() == []


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("19900517", dt.date(1990, 5, 17)),
        ("1990-05-17", dt.date(1990, 5, 17)),
        ("2026-11-24", dt.date(2026, 11, 24)),
        ("1990517", "'1990517' is not a date like 19900517 / 生日应为8位数字，如 19900517"),
        ("19900230", "'19900230' is not a real date / 19900230 不是有效日期"),
        (
            "18991231",
            "the birthday 1899-12-31 is not between 1900-01-01 and today"
            " / 生日 1899-12-31 应在 1900-01-01 至今天之间",
        ),
        (
            "20261125",
            "the birthday 2026-11-25 is not between 1900-01-01 and today"
            " / 生日 2026-11-25 应在 1900-01-01 至今天之间",
        ),
    ],
)
def test_a_typed_birthday_is_read_or_refused_with_why(typed: str, answer: object) -> None:
    if isinstance(answer, dt.date):
        assert parse_birthday(typed, TODAY) == answer
        return
    with pytest.raises(InvalidDetails) as caught:
        parse_birthday(typed, TODAY)
    assert str(caught.value) == answer
