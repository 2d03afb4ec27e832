"""Scale labels (EAN-13 prefix 2x) decode to an item code and a price or a weight."""

import pytest

from kiosk.domain.barcode import ean13_check_digit
from kiosk.domain.weighed import (
    ScaleLabel,
    ScaleLabelError,
    ScaleLabelLayout,
    decode_scale_label,
    format_weight,
    is_scale_label,
    price_for_weight,
)


def label(body12: str) -> str:
    return body12 + ean13_check_digit(body12)


def test_price_label_gives_item_code_and_price_in_fen() -> None:
    code = label("210010201234")
    assert decode_scale_label(code, ScaleLabelLayout()) == ScaleLabel(code, "00102", price_fen=1234)


def test_weight_label_gives_grams() -> None:
    layout = ScaleLabelLayout(prefixes=("28",), value_kind="weight")
    code = label("280020300532")
    assert decode_scale_label(code, layout) == ScaleLabel(code, "00203", weight_g=532)


def test_shop_layout_with_four_digit_item_and_six_digit_value() -> None:
    layout = ScaleLabelLayout(prefixes=("22",), item_digits=4, value_digits=6)
    code = label("220777012345")
    assert decode_scale_label(code, layout) == ScaleLabel(code, "0777", price_fen=12345)


def test_bad_check_digit_is_refused() -> None:
    code = label("210010201234")
    wrong = code[:12] + str((int(code[12]) + 1) % 10)
    with pytest.raises(ScaleLabelError, match="check digit"):
        decode_scale_label(wrong, ScaleLabelLayout())


def test_ordinary_product_barcode_is_not_a_scale_label() -> None:
    assert not is_scale_label("6901010370005", ScaleLabelLayout())
    assert not is_scale_label(label("210010201234"), ScaleLabelLayout(prefixes=("28",)))
    with pytest.raises(ScaleLabelError, match="not a scale label"):
        decode_scale_label("6901010370005", ScaleLabelLayout())


def test_layout_must_fill_twelve_digits() -> None:
    with pytest.raises(ScaleLabelError, match="12 digits"):
        ScaleLabelLayout(item_digits=5, value_digits=4)
    with pytest.raises(ScaleLabelError, match=r"20\.\.29"):
        ScaleLabelLayout(prefixes=("30",))


def test_price_for_weight_rounds_half_up_to_the_fen() -> None:
    assert price_for_weight(532, 1298) == 691  # 690.536 fen
    assert price_for_weight(500, 1001) == 501  # 500.5 fen rounds up
    assert price_for_weight(0, 1298) == 0
    assert format_weight(532) == "0.532kg"
    assert format_weight(1250) == "1.250kg"
