"""Card UID normalisation, tap debounce and scan classification: pure functions."""

import pytest

from kiosk.hw.card import CardDebouncer, normalise_uid
from kiosk.hw.errors import CardFormatError
from kiosk.hw.scans import classify_scan, payment_provider


@pytest.mark.parametrize(
    ("raw", "form", "reader_format", "reverse", "expected"),
    [
        ("0012345678", "dec10", "auto", False, "0012345678"),
        ("0012345678", "hex", "auto", False, "00BC614E"),
        ("00bc614e", "dec10", "auto", False, "0012345678"),
        ("4E:61:BC:00", "dec10", "hex", True, "0012345678"),
        ("12345678", "dec10", "dec", False, "0012345678"),
        ("12345678", "hex", "hex", False, "12345678"),
        ("04a2b3c4d5e6f7", "hex", "auto", False, "04A2B3C4D5E6F7"),
        ("4294967295", "dec10", "dec", False, "4294967295"),
        (" 0000000001 ", "hex", "auto", False, "00000001"),
    ],
)
def test_uids_normalise_to_one_canonical_form(raw, form, reader_format, reverse, expected):
    assert normalise_uid(raw, form, reader_format, reverse) == expected


@pytest.mark.parametrize(
    ("raw", "form", "reader_format", "english"),
    [
        ("", "dec10", "auto", "it is empty"),
        ("4294967296", "dec10", "dec", "larger than 32 bits"),
        ("12AB", "dec10", "dec", "digits only"),
        ("ABC", "hex", "hex", "whole bytes"),
        ("04a2b3c4d5e6f7", "dec10", "auto", "needs form = 'hex'"),
    ],
)
def test_bad_uids_raise_with_a_message_in_both_languages(raw, form, reader_format, english):
    with pytest.raises(CardFormatError) as caught:
        normalise_uid(raw, form, reader_format)
    assert english in caught.value.message["en"]
    assert "无法识别的卡号" in caught.value.message["zh"]


def test_same_card_within_window_is_one_tap_and_held_card_stays_one_tap() -> None:
    debouncer = CardDebouncer(window=1.5)
    reads = [("A", 0.0), ("A", 1.0), ("A", 2.4), ("B", 2.5), ("A", 3.9), ("A", 5.4)]
    assert [debouncer.is_new_tap(uid, at) for uid, at in reads] == [
        True,
        False,
        False,  # 1.4 s after the previous read of A: still held
        True,
        True,  # 1.5 s after the previous read: a new tap
        True,
    ]


def test_debouncer_forgets_cards_older_than_the_window() -> None:
    debouncer = CardDebouncer(window=1.5)
    for i in range(100):
        debouncer.is_new_tap(f"{i:010d}", at=float(i) * 2)
    assert list(debouncer._last_seen) == ["0000000099"]


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("134567890123456789", "payment_code"),  # WeChat: 18 digits, 13
        ("104567890123456789", "payment_code"),  # WeChat: 10
        ("154567890123456789", "payment_code"),  # WeChat: 15
        ("164567890123456789", "other"),  # 16 + 18 digits is neither wallet
        ("2512345678901234", "payment_code"),  # Alipay: 16 digits, 25
        ("301234567890123456789012", "payment_code"),  # Alipay: 24 digits, 30
        ("3012345678901234567890123", "other"),  # 25 digits is too long
        ("241234567890123456", "other"),  # 24 is not a wallet prefix
        ("4006381333931", "ean"),
        ("4006381333932", "other"),  # bad check digit
        ("96385074", "ean"),
        ("036000291452", "ean"),
        ("member:0190f6c2-7d2e-7b1a-9a55-3c1f0e2b9d41", "member_qr"),
        ("member:", "other"),
        ("https://shop.example.cn/m?id=42", "url"),
        ("HTTP://EXAMPLE.CN", "url"),
        ("ftp://example.cn", "other"),
        ("会员卡", "other"),
    ],
)
def test_classify_scan(code: str, kind: str) -> None:
    assert classify_scan(code) == kind


def test_payment_provider_names_the_wallet() -> None:
    assert payment_provider("134567890123456789") == "wechat"
    assert payment_provider("281234567890123456") == "alipay"
    assert payment_provider("4006381333931") is None
