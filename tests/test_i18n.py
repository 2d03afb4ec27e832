"""Chinese text as wrapping labels show it."""

from kiosk import i18n


def ten_wide(line: str) -> bool:
    return len(line) <= 10


def test_a_line_full_before_a_full_stop_takes_the_character_before_it_along() -> None:
    text = "商品编号不在商品库中。请找店员重新称重。"  # the 11th character is "。"
    assert i18n.fold(text, ten_wide) == "商品编号不在商品库\n中。请找店员重新称\n重。"


def test_lines_that_fit_are_kept_and_ordinary_characters_may_start_a_line() -> None:
    assert i18n.fold("已收现金，钱箱已打开。", ten_wide) == "已收现金，钱箱已打\n开。"
    assert i18n.fold("好了", ten_wide) == "好了"
    assert i18n.fold("一二三四五六七八九十甲乙", ten_wide) == "一二三四五六七八九十\n甲乙"
    assert i18n.fold("第一行。\n第二行", ten_wide) == "第一行。\n第二行"
