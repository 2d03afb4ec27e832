"""Draw a receipt as a 1-bit image the width of the paper (384 or 576 dots).

Receipts are printed as images, not printer text, so Chinese, ¥ and the QR code
print the same on every printer, and the image is what tests compare. Money is
integer fen, formatted with :func:`kiosk.domain.money.format_fen`.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from kiosk.domain.money import format_fen
from kiosk.hw.fonts import cjk_font

WIDTHS = (384, 576)
_PAGE = 2000  # canvas grows in steps of this many dots
_PHONE = re.compile(r"^(?:\+86)?(\d{3})\d{4}(\d{4})$")


@dataclass(frozen=True)
class ReceiptLine:
    """One product line: quantity times unit price, and the line total, in fen."""

    name: str
    qty: int
    unit_fen: int
    total_fen: int


@dataclass(frozen=True)
class Amount:
    """A labelled amount in fen: a discount (shown as minus) or a payment."""

    label: str
    fen: int


@dataclass(frozen=True)
class ReceiptData:
    """Everything printed on a receipt; plain data, built from the sale by the app."""

    store_name: str
    receipt_no: str
    time: dt.datetime
    lines: tuple[ReceiptLine, ...]
    discounts: tuple[Amount, ...] = ()
    payments: tuple[Amount, ...] = ()
    member: str | None = None  # shown masked: 138****5678
    points_earned: int | None = None
    points_balance: int | None = None
    qr_url: str | None = None
    footer: str = "谢谢惠顾，欢迎再次光临"
    extra: tuple[str, ...] = field(default=())

    @property
    def subtotal_fen(self) -> int:
        """The sum of the line totals."""
        return sum(line.total_fen for line in self.lines)

    @property
    def total_fen(self) -> int:
        """What the customer pays: subtotal less discounts."""
        return self.subtotal_fen - sum(d.fen for d in self.discounts)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ReceiptData":
        """Build from a plain dict (lines/discounts/payments as dicts or tuples)."""
        values = dict(data)
        values["lines"] = tuple(_build(ReceiptLine, x) for x in data.get("lines", ()))
        for key in ("discounts", "payments"):
            values[key] = tuple(_build(Amount, x) for x in data.get(key, ()))
        if isinstance(values.get("time"), str):
            values["time"] = dt.datetime.fromisoformat(values["time"])
        values["extra"] = tuple(values.get("extra", ()))
        return cls(**values)


def _build(kind: Callable[..., Any], item: Any) -> Any:
    return kind(**item) if isinstance(item, Mapping) else kind(*item)


def mask_member(member: str) -> str:
    """A phone number with its middle four digits hidden; anything else unchanged."""
    match = _PHONE.match(member)
    return f"{match.group(1)}****{match.group(2)}" if match else member


class _Pen:
    """Lays out rows top to bottom on a tall greyscale canvas."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.scale = 1.0 if width == 576 else 0.8  # 58 mm paper: smaller, still legible
        self.margin = round(12 * self.scale)
        self.body = cjk_font(round(24 * self.scale))
        self.small = cjk_font(round(20 * self.scale))
        self.big = cjk_font(round(34 * self.scale), bold=True)
        self.total = cjk_font(round(28 * self.scale), bold=True)
        self.canvas = Image.new("L", (width, _PAGE), 255)
        self.draw = ImageDraw.Draw(self.canvas)
        self.y = self.margin
        self.qr_box: tuple[int, int, int, int] | None = None

    def _height(self, font: ImageFont.FreeTypeFont) -> int:
        return round(font.size * 1.4)

    def _room_for(self, height: int) -> None:
        """Grow the canvas so ``height`` more dots fit below the current line."""
        if self.y + height + self.margin <= self.canvas.height:
            return
        grown = Image.new("L", (self.width, self.y + height + self.margin + _PAGE), 255)
        grown.paste(self.canvas, (0, 0))
        self.canvas, self.draw = grown, ImageDraw.Draw(grown)

    def text(self, left: str, right: str = "", font: ImageFont.FreeTypeFont | None = None) -> None:
        """``left`` wrapped on the left, ``right`` on the first line's right edge."""
        font = font or self.body
        room: float = self.width - 2 * self.margin
        if right:
            self.draw.text((self.width - self.margin, self.y), right, font=font, fill=0, anchor="ra")
            room -= self.draw.textlength(right, font=font) + 8
        for chunk in self._wrap(left, font, room):
            self._room_for(self._height(font))
            self.draw.text((self.margin, self.y), chunk, font=font, fill=0, anchor="la")
            self.y += self._height(font)

    def centred(self, text: str, font: ImageFont.FreeTypeFont | None = None) -> None:
        """``text`` centred, wrapped if it is wider than the paper."""
        font = font or self.body
        room = self.width - 2 * self.margin
        for chunk in self._wrap(text, font, room):
            self._room_for(self._height(font))
            self.draw.text((self.width // 2, self.y), chunk, font=font, fill=0, anchor="ma")
            self.y += self._height(font)

    def rule(self) -> None:
        """A dashed separator line."""
        self._room_for(self._height(self.small))
        y = self.y + self._height(self.small) // 3
        for x in range(self.margin, self.width - self.margin, 12):
            self.draw.line((x, y, min(x + 6, self.width - self.margin), y), fill=0, width=2)
        self.y += self._height(self.small) * 2 // 3

    def gap(self, lines: float = 0.5) -> None:
        """Blank space of ``lines`` body lines."""
        self._room_for(round(self._height(self.body) * lines))
        self.y += round(self._height(self.body) * lines)

    def qr(self, payload: str) -> None:
        """``payload`` as a QR code (level M) about half the paper wide, centred."""
        # imported with the first receipt that has a link, not at start: 16 modules a terminal
        # that prints no e-receipt never needs (docs/perf.md, "Memory, fourth pass")
        import qrcode

        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
        code.add_data(payload.encode("utf-8"))
        code.make(fit=True)
        matrix = code.get_matrix()  # includes the quiet zone
        module = max(2, (self.width // 2) // len(matrix))
        size = module * len(matrix)
        self._room_for(size)
        left = (self.width - size) // 2
        for row, cells in enumerate(matrix):
            for col, dark in enumerate(cells):
                if dark:
                    x, y = left + col * module, self.y + row * module
                    self.draw.rectangle((x, y, x + module - 1, y + module - 1), fill=0)
        self.qr_box = (left, self.y, left + size, self.y + size)
        self.y += size

    def _wrap(self, text: str, font: ImageFont.FreeTypeFont, room: float) -> list[str]:
        lines: list[str] = []
        current = ""
        for char in text:
            if current and self.draw.textlength(current + char, font=font) > room:
                lines.append(current)
                current = char
            else:
                current += char
        return [*lines, current] if current or not lines else lines

    def finish(self) -> Image.Image:
        """The drawn part, thresholded to 1 bit, with ``info["qr_box"]``."""
        height = self.y + self.margin
        image = self.canvas.crop((0, 0, self.width, height)).point(lambda v: 255 if v >= 128 else 0, mode="1")
        image.info["qr_box"] = self.qr_box
        return image


def render_receipt(receipt: ReceiptData, width: int = 576) -> Image.Image:
    """The receipt as a mode '1' image ``width`` dots wide (black = 0).

    ``image.info["qr_box"]`` holds the QR code's (left, top, right, bottom), or None.
    """
    if width not in WIDTHS:
        raise ValueError(f"receipts are 384 or 576 dots wide, not {width}")
    pen = _Pen(width)
    _header(pen, receipt)
    _items(pen, receipt.lines)
    _totals(pen, receipt)
    _member(pen, receipt)
    if receipt.qr_url:
        pen.gap()
        pen.qr(receipt.qr_url)
        pen.centred("扫码查看电子小票", pen.small)
    for line in receipt.extra:
        pen.centred(line, pen.small)
    pen.gap()
    pen.centred(receipt.footer, pen.small)
    return pen.finish()


def _header(pen: _Pen, receipt: ReceiptData) -> None:
    pen.centred(receipt.store_name, pen.big)
    pen.gap(0.3)
    pen.text("单号", receipt.receipt_no, pen.small)
    pen.text("时间", receipt.time.strftime("%Y-%m-%d %H:%M:%S"), pen.small)
    pen.rule()


def _items(pen: _Pen, lines: Iterable[ReceiptLine]) -> None:
    for line in lines:
        pen.text(line.name)
        pen.text(f"    {line.qty} × {format_fen(line.unit_fen)}", format_fen(line.total_fen))
    pen.rule()


def _totals(pen: _Pen, receipt: ReceiptData) -> None:
    if receipt.discounts:
        pen.text("小计", format_fen(receipt.subtotal_fen))
        for discount in receipt.discounts:
            pen.text(discount.label, format_fen(-discount.fen))
    pen.text("合计", format_fen(receipt.total_fen), pen.total)
    for payment in receipt.payments:
        pen.text(payment.label, format_fen(payment.fen))
    paid = sum(p.fen for p in receipt.payments)
    if receipt.payments and paid > receipt.total_fen:
        pen.text("找零", format_fen(paid - receipt.total_fen))


def _member(pen: _Pen, receipt: ReceiptData) -> None:
    if receipt.member is None:
        return
    pen.rule()
    pen.text("会员", mask_member(receipt.member))
    if receipt.points_earned is not None:
        pen.text("本次积分", f"{receipt.points_earned:+d}")
    if receipt.points_balance is not None:
        pen.text("积分余额", f"{receipt.points_balance:,d}")


def sample_receipt(now: dt.datetime) -> ReceiptData:
    """The self-test page: Chinese text, ¥ amounts, a member and a QR code."""
    return ReceiptData(
        store_name="会员自助收银 · 测试页",
        receipt_no="TEST-0000-0001",
        time=now,
        lines=(
            ReceiptLine("农夫山泉 饮用天然水 550ml", 2, 200, 400),
            ReceiptLine("康师傅红烧牛肉面（桶装）", 1, 550, 550),
            ReceiptLine("Test item ABC-123", 3, 1999, 5997),
        ),
        discounts=(Amount("会员折扣", 150),),
        payments=(Amount("现金", 10000),),
        member="13800138000",
        points_earned=58,
        points_balance=1234,
        qr_url="https://example.cn/r/TEST-0000-0001?中文=会员",
        extra=("打印测试：中文、¥、二维码 Printer self-test",),
    )
