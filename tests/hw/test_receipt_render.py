"""Receipt images: exact size and mode, the Simplified Chinese face, no tofu, a readable QR."""

import datetime as dt
from dataclasses import replace

import pytest
import qrcode
from PIL import ImageChops, ImageFont

from kiosk.hw.fonts import FONT_PATHS, cjk_font, face_index
from kiosk.hw.printer import open_printer
from kiosk.hw.receipt_render import (
    Amount,
    ReceiptData,
    ReceiptLine,
    mask_member,
    render_receipt,
    sample_receipt,
)
from kiosk.hw.virtual_printer import VirtualPrinter

NOW = dt.datetime(2026, 11, 24, 16, 30, 5)


def receipt(**changes) -> ReceiptData:
    base = ReceiptData(
        store_name="街角便利店",
        receipt_no="S01-D02-20261124-0042",
        time=NOW,
        lines=(ReceiptLine("可口可乐 330ml", 2, 350, 700), ReceiptLine("面包", 1, 800, 800)),
        discounts=(Amount("满减", 100),),
        payments=(Amount("微信支付", 1400),),
        qr_url="https://shop.example.cn/r/S01-D02-20261124-0042",
    )
    return replace(base, **changes)


@pytest.mark.parametrize("width", [384, 576])
def test_receipts_are_1_bit_images_exactly_the_paper_width(width: int) -> None:
    image = render_receipt(receipt(), width)
    assert (image.mode, image.width) == ("1", width)
    assert render_receipt(receipt(), width).tobytes() == image.tobytes()  # deterministic


def test_other_widths_are_refused() -> None:
    with pytest.raises(ValueError, match="384 or 576 dots wide, not 512"):
        render_receipt(receipt(), 512)


def test_the_simplified_chinese_face_is_chosen_by_name() -> None:
    assert face_index(FONT_PATHS[False]) == 2
    assert cjk_font(24).getname() == ("Noto Sans CJK SC", "Regular")
    assert cjk_font(24, bold=True).getname() == ("Noto Sans CJK SC", "Bold")
    japanese = ImageFont.truetype(FONT_PATHS[False], 24, index=0)
    assert japanese.getname()[0] == "Noto Sans CJK JP"
    # 直 is drawn differently in the mainland and Japanese standards.
    assert bytes(cjk_font(48).getmask("直")) != bytes(japanese.getmask("直"))


@pytest.mark.parametrize("char", ["元", "¥", "会", "员", "￥"])
def test_chinese_and_yuan_sign_are_real_glyphs_not_tofu(char: str) -> None:
    font = cjk_font(32)
    notdef = bytes(font.getmask("\U000f0000"))  # a private-use code point the font lacks
    assert bytes(font.getmask("\U000f0001")) == notdef  # missing characters all look alike
    assert bytes(font.getmask(char)) != notdef


def _matrix(payload: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(payload.encode("utf-8"))
    code.make(fit=True)
    return code.get_matrix()


@pytest.mark.parametrize("width", [384, 576])
def test_qr_code_modules_match_the_payload_exactly(width: int) -> None:
    url = "https://shop.example.cn/r/S01-D02-20261124-0042"
    image = render_receipt(receipt(qr_url=url), width)
    left, top, right, bottom = image.info["qr_box"]
    size = right - left
    assert (bottom - top, left) == (size, (width - size) // 2)  # square and centred
    matrix = _matrix(url)
    module = size // len(matrix)
    sampled = [
        [
            image.getpixel((left + c * module + module // 2, top + r * module + module // 2)) == 0
            for c in range(len(matrix))
        ]
        for r in range(len(matrix))
    ]
    assert sampled == matrix
    assert sampled != _matrix(url + "X")[: len(matrix)]


def test_no_qr_url_means_no_qr() -> None:
    assert render_receipt(receipt(qr_url=None), 576).info["qr_box"] is None


def test_totals_are_exact_fen_arithmetic() -> None:
    data = receipt()
    assert (data.subtotal_fen, data.total_fen) == (1500, 1400)


def test_a_long_name_wraps_onto_exactly_as_many_extra_lines_as_it_needs() -> None:
    short = render_receipt(receipt(lines=(ReceiptLine("短名", 1, 100, 100),)), 576)
    long_name = "超长商品名称" * 12  # 72 characters of 24 px: 4 lines on 552 dots
    long = render_receipt(receipt(lines=(ReceiptLine(long_name, 1, 100, 100),)), 576)
    line_height = round(24 * 1.4)
    assert long.height - short.height == 3 * line_height


def test_amounts_change_the_image_and_only_that_region() -> None:
    a = render_receipt(receipt(), 576)
    b = render_receipt(receipt(discounts=(Amount("满减", 200),), payments=(Amount("微信支付", 1300),)), 576)
    assert a.size == b.size
    left, top, _, bottom = ImageChops.logical_xor(a, b).getbbox()
    assert left > 576 // 2  # only right-aligned amounts changed: discount, total, payment
    assert a.info["qr_box"][1] > bottom > top > 300


def test_dict_input_renders_the_same_as_the_dataclass() -> None:
    as_dict = {
        "store_name": "街角便利店",
        "receipt_no": "S01-D02-20261124-0042",
        "time": NOW.isoformat(),
        "lines": [
            {"name": "可口可乐 330ml", "qty": 2, "unit_fen": 350, "total_fen": 700},
            ("面包", 1, 800, 800),
        ],
        "discounts": [{"label": "满减", "fen": 100}],
        "payments": [("微信支付", 1400)],
        "qr_url": "https://shop.example.cn/r/S01-D02-20261124-0042",
    }
    assert ReceiptData.from_dict(as_dict) == receipt()


@pytest.mark.parametrize(
    ("member", "shown"),
    [("13800138000", "138****8000"), ("+8613800138000", "138****8000"), ("M-0042", "M-0042")],
)
def test_member_phone_numbers_are_masked(member: str, shown: str) -> None:
    assert mask_member(member) == shown


@pytest.mark.parametrize("width", [384, 576])
def test_the_printer_receives_exactly_the_rendered_image(width: int) -> None:
    image = render_receipt(sample_receipt(NOW), width)
    virtual = VirtualPrinter(width)
    printer = open_printer("virtual:", width, virtual=virtual)
    printer.print_image(image)
    printer.cut()
    (printed,) = virtual.receipts()
    assert printed.image.tobytes() == image.tobytes()


def test_a_receipt_longer_than_one_canvas_page_keeps_every_line() -> None:
    lines = tuple(ReceiptLine(f"商品 {n:03d}", 1, 100, 100) for n in range(120))
    image = render_receipt(receipt(lines=lines, payments=()), 384)
    row_height = round(round(24 * 0.8) * 1.4)  # 58 mm body font: 19 px, 27-dot rows
    ten = render_receipt(receipt(lines=lines[:10], payments=()), 384)
    assert image.height - ten.height == 110 * 2 * row_height
    assert image.height > 2000 * 3
    assert image.info["qr_box"][3] < image.height  # the QR at the end is all there
