"""The signed, expiring member QR code."""

import datetime as dt

import pytest

from kiosk.domain.loyalty.member_qr import InvalidMemberQr, read_member_qr, sign_member_qr

KEY = b"k" * 32
NOW = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)
TOKEN = sign_member_qr("m-1", NOW + dt.timedelta(minutes=5), KEY)


def test_token_shape() -> None:
    assert TOKEN.startswith("MK1.m-1.1795507500.")
    assert len(TOKEN.rsplit(".", 1)[1]) == 22


def test_valid_token_names_the_member() -> None:
    assert read_member_qr(TOKEN, KEY, NOW + dt.timedelta(minutes=4, seconds=59)) == "m-1"


@pytest.mark.parametrize(
    ("text", "key", "now", "message"),
    [
        (TOKEN, KEY, NOW + dt.timedelta(minutes=5), "已过期"),
        (TOKEN, b"x" * 32, NOW, "会员码无效"),
        (TOKEN.replace("m-1", "m-2"), KEY, NOW, "会员码无效"),
        (TOKEN.replace("1795507500", "1895507500"), KEY, NOW, "会员码无效"),
        ("6901010370005", KEY, NOW, "不是会员码"),
    ],
)
def test_forged_expired_or_foreign_codes_are_refused(
    text: str, key: bytes, now: dt.datetime, message: str
) -> None:
    with pytest.raises(InvalidMemberQr, match=message):
        read_member_qr(text, key, now)
