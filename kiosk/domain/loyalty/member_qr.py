"""The member QR code: signed by the hub, valid for a short time.

A screenshot of the code stops working when it expires, and a terminal can
check a code offline with the business's QR key (from ``kiosk.toml``). The
token is ``MK1.<member id>.<expiry unix seconds>.<signature>``; the signature
is HMAC-SHA256 over the first three parts, truncated to 128 bits.
"""

import base64
import datetime as dt
import hashlib
import hmac

from kiosk.domain.loyalty.errors import LoyaltyError

PREFIX = "MK1"


class InvalidMemberQr(LoyaltyError):
    """A member QR that is malformed, forged or expired."""


def _signature(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_member_qr(member_id: str, expires_at: dt.datetime, key: bytes) -> str:
    """The QR text for ``member_id``, valid until ``expires_at`` (timezone-aware)."""
    if "." in member_id:
        raise InvalidMemberQr(f"member id {member_id!r} cannot contain '.'")
    body = f"{PREFIX}.{member_id}.{int(expires_at.timestamp())}"
    return f"{body}.{_signature(key, body)}"


def read_member_qr(text: str, key: bytes | tuple[bytes, ...], now: dt.datetime) -> str:
    """The member id in a valid, unexpired QR text; raises InvalidMemberQr otherwise.

    ``key`` may be several keys (during a business key rotation): a signature by any of them holds.
    """
    parts = text.strip().split(".")
    if len(parts) != 4 or parts[0] != PREFIX or not parts[2].isdigit():
        raise InvalidMemberQr("not a member QR code / 不是会员码")
    body = ".".join(parts[:3])
    keys = (key,) if isinstance(key, bytes) else key
    if not any(hmac.compare_digest(_signature(k, body), parts[3]) for k in keys):
        raise InvalidMemberQr("member QR signature is wrong / 会员码无效")
    if now.timestamp() >= int(parts[2]):
        raise InvalidMemberQr("member QR has expired, refresh it / 会员码已过期，请刷新")
    return parts[1]
