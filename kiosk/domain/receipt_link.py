"""The e-receipt link a terminal signs offline: ``{hub}/r/{receipt no}.{expiry}.{signature}``.

The receipt's QR opens the hub's e-receipt page. A bare receipt number is
guessable (``{store}-{device}-{day}{seq}``), so the link carries an expiry
(unix seconds, the sale's time plus the owner's number of days) and an
HMAC-SHA256 signature over ``MR1|{receipt no}|{expiry}`` with the terminal's
own receipt key, truncated to 128 bits. The hub derives each terminal's key
from its own secret and the device id (:mod:`hub.fleet.receipt_keys`), so one
terminal's key opens none of another's receipts. Pure: the clock is an argument.
"""

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

VERSION = "MR1"
KEY_BYTES = 32
DEFAULT_DAYS = 90


class BadReceiptLink(ValueError):
    """A receipt link that is malformed, forged or expired (the hub answers all three alike)."""


@dataclass(frozen=True)
class ReceiptLink:
    """What a link's text says before its signature is checked."""

    receipt_no: str
    expires: int  # unix seconds
    signature: str


def _signature(key: bytes, receipt_no: str, expires: int) -> str:
    digest = hmac.new(key, f"{VERSION}|{receipt_no}|{expires}".encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def expiry(sold_at: dt.datetime, days: int) -> int:
    """The unix second a receipt link of a sale made at ``sold_at`` (timezone-aware) stops working."""
    if sold_at.tzinfo is None:
        raise ValueError("sold_at must carry its time zone")
    return int(sold_at.timestamp()) + days * 86400


def sign(receipt_no: str, expires: int, key: bytes) -> str:
    """The path segment after ``/r/`` for ``receipt_no``, valid until ``expires`` (unix seconds)."""
    if "." in receipt_no or "/" in receipt_no or not receipt_no:
        raise ValueError(f"receipt number {receipt_no!r} cannot go into a link")
    if len(key) != KEY_BYTES:
        raise ValueError(f"a receipt key is {KEY_BYTES} bytes, got {len(key)}")
    return f"{receipt_no}.{expires}.{_signature(key, receipt_no, expires)}"


def parse(token: str) -> ReceiptLink:
    """The parts of a link's last path segment; :class:`BadReceiptLink` if it has not that shape."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or len(parts[1]) > 12 or not parts[2]:
        raise BadReceiptLink("not a receipt link")
    return ReceiptLink(parts[0], int(parts[1]), parts[2])


def check(link: ReceiptLink, key: bytes, now: dt.datetime) -> str:
    """The receipt number of ``link`` if ``key`` signed it and it has not expired at ``now``."""
    if not hmac.compare_digest(_signature(key, link.receipt_no, link.expires), link.signature):
        raise BadReceiptLink("signature does not match")
    if now.timestamp() >= link.expires:
        raise BadReceiptLink("expired")
    return link.receipt_no


def receipt_no_of(text: str) -> str:
    """The receipt number in a scanned receipt QR (the link) or in a typed receipt number."""
    return text.strip().split(".", 1)[0]
