"""What kind of thing a scanned code is, so the app knows where to send it."""

import re
from typing import Literal

from kiosk.domain.barcode import is_valid_retail_code

ScanKind = Literal["payment_code", "ean", "member_qr", "url", "other"]

#: Member QR codes shown by the member page: ``member:`` + the member's id.
MEMBER_QR_PREFIX = "member:"

_WECHAT_PAY = re.compile(r"^1[0-5]\d{16}$")  # 18 digits starting 10-15
_ALIPAY = re.compile(r"^(2[5-9]|30)\d{14,22}$")  # 16-24 digits starting 25-30
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)


def payment_provider(code: str) -> Literal["wechat", "alipay"] | None:
    """Which wallet's payment auth code (付款码) ``code`` is, if it is one."""
    if _WECHAT_PAY.match(code):
        return "wechat"
    if _ALIPAY.match(code):
        return "alipay"
    return None


def classify_scan(code: str) -> ScanKind:
    """Sort a scanned code: payment auth code, retail EAN/UPC, member QR, URL, or other.

    A payment code is checked first: it must never be looked up as a product or
    logged as an unknown barcode. An EAN/UPC counts only with a valid check digit.
    """
    if payment_provider(code):
        return "payment_code"
    if is_valid_retail_code(code):
        return "ean"
    if code.startswith(MEMBER_QR_PREFIX) and len(code) > len(MEMBER_QR_PREFIX):
        return "member_qr"
    if _URL.match(code):
        return "url"
    return "other"
