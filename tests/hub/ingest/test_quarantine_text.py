"""Each quarantine reason the hub produces has an explanation and a next step in zh-CN and English."""

import pytest

from hub.ingest.quarantine_text import explain


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("message of 300000 bytes exceeds 262144", "oversized"),
        ("not JSON: Expecting value: line 1 column 1 (char 0)", "malformed"),
        ("'events' is missing or not a list", "malformed"),
        ("unknown schema version 7", "malformed"),
        ("unknown event type 'sale.teleported'", "unknown_type"),
        ("hash does not match the event's content", "tampered"),
        ("event device 'K02' differs from topic device 'K01'", "tampered"),
        ("first event of a device must link to the genesis hash", "chain"),
        ("hash chain does not link at sequence 12", "chain"),
        ("sequence 4 already used by another event of this device", "chain"),
        ("receipt number 20261124-0001 was already used by another sale", "receipt_reused"),
        ("sale conflicts with a booked sale: UNIQUE constraint failed: sale.id", "sale_conflict"),
        ("unknown product 'A'", "unknown_product"),
        ("field 'seq' is missing or not a int", "incomplete"),
        ("sale.completed data field 'lines' is missing or has the wrong type", "incomplete"),
        ("coupon C-1 is not valid for member M-9", "loyalty_rule"),
        ("the printer caught fire", "other"),
    ],
)
def test_reason_kinds(reason: str, kind: str) -> None:
    assert explain(reason).kind == kind


def test_explanations_are_in_both_languages() -> None:
    explanation = explain("message of 300000 bytes exceeds 262144")
    assert explanation.text("zh") == (
        "消息过大，无法处理。",
        "请确认终端软件为最新版本；如仍出现，请联系技术支持。",
    )
    assert explanation.text("en") == (
        "The message is too large to process.",
        "Make sure the terminal runs the latest software; if it keeps happening, contact support.",
    )
