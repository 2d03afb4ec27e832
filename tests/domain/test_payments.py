from kiosk.domain.payments import payment_method_name


def test_payment_methods_read_in_both_languages() -> None:
    assert payment_method_name("wechat", "zh") == "微信支付"
    assert payment_method_name("wechat", "en") == "WeChat Pay"
    assert payment_method_name("stored_value", "zh") == "会员储值"


def test_unknown_method_shows_its_code() -> None:
    assert payment_method_name("voucher", "en") == "voucher"
