"""Chinese text as wrapping labels show it."""

from kiosk import i18n


def ten_wide(line: str) -> bool:
    return len(line) <= 10


def test_a_line_full_before_a_full_stop_takes_the_character_before_it_along() -> None:
    text = "商品编号不在商品库中。请找店员帮您重新称重。"  # the 11th character is "。"
    assert i18n.fold(text, ten_wide) == "商品编号不在商品库\n中。请找店员帮您重新\n称重。"


def test_lines_that_fit_are_kept_and_ordinary_characters_may_start_a_line() -> None:
    assert i18n.fold("已收现金，钱箱已经打开了。", ten_wide) == "已收现金，钱箱已经打\n开了。"
    assert i18n.fold("好了", ten_wide) == "好了"
    assert i18n.fold("一二三四五六七八九十甲乙丙", ten_wide) == "一二三四五六七八九十\n甲乙丙"
    assert i18n.fold("第一行。\n第二行", ten_wide) == "第一行。\n第二行"


def test_a_last_line_of_one_or_two_characters_is_folded_again_into_even_lines() -> None:
    # greedy: 商品编号不在商品库 / 中。请找店员重新称 / 重。 and 一二三四五六七八九十 / 甲乙
    assert (
        i18n.fold("商品编号不在商品库中。请找店员重新称重。", ten_wide)
        == "商品编号不在商\n品库中。请找店\n员重新称重。"
    )
    assert i18n.fold("一二三四五六七八九十甲乙", ten_wide) == "一二三四五六\n七八九十甲乙"
    assert i18n.fold("已收现金，钱箱已打开。", ten_wide) == "已收现金，钱\n箱已打开。"
    # the pay screen's hint in large text, 17 characters to a line: no lone 器
    hint = "微信/支付宝：请打开付款码，对准扫码器"
    assert i18n.fold(hint, lambda line: len(line) <= 17) == "微信/支付宝：请打开\n付款码，对准扫码器"


def test_even_lines_are_not_forced_when_they_would_need_one_more_line() -> None:
    # greedy: 一二三四五六。七八九 / 十甲. Six to a line, "。" cannot start the second line, so
    # even folding gives 一二三四五 / 六。七八九十 / 甲: three lines for two; the greedy ones stay
    assert i18n.fold("一二三四五六。七八九十甲", ten_wide) == "一二三四五六。七八九\n十甲"


def test_payment_methods_read_in_both_languages() -> None:
    assert i18n.payment_method_name("wechat", "zh") == "微信支付"
    assert i18n.payment_method_name("wechat", "en") == "WeChat Pay"
    assert i18n.payment_method_name("stored_value", "zh") == "会员储值"


def test_unknown_method_shows_its_code() -> None:
    assert i18n.payment_method_name("voucher", "en") == "voucher"
