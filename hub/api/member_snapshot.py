"""``GET /api/v1/devices/{device}/members``: the member snapshot a terminal fetches over HTTP.

A terminal that is new, or that missed a member delta, pages through every
member with the credentials it already has for the broker: HTTP Basic with its
device id and broker password, checked against the broker's own password file
(``{broker_dir}/passwd``, written by ``hub device add``; a revoked device is no
longer in it). A device may only fetch its own snapshot: balances are cut at
its own ledger head.
"""

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Response

from hub.members import feed as member_feed

__all__ = ["DeviceAuth", "router"]


@dataclass(frozen=True)
class DeviceAuth:
    """Checks a device's broker credentials against Mosquitto's password file."""

    passwd: Path

    def check(self, username: str, password: str) -> bool:
        """True when ``password`` is ``username``'s broker password (``$7$`` PBKDF2-SHA512 lines)."""
        try:
            lines = self.passwd.read_text().splitlines()
        except FileNotFoundError:
            return False
        for line in lines:
            user, _, stored = line.partition(":")
            if user == username:
                return _matches(password, stored)
        return False


def _matches(password: str, stored: str) -> bool:
    parts = stored.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False  # only Mosquitto 2's format; anything else is refused, never guessed
    try:
        iterations, salt, digest = int(parts[2]), base64.b64decode(parts[3]), base64.b64decode(parts[4])
    except (ValueError, binascii.Error):
        return False
    mine = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return hmac.compare_digest(mine, digest)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": 'Basic realm="member-kiosk hub"'})


def _device_of(authorization: str | None, auth: DeviceAuth | None) -> str:
    if auth is None:
        raise HTTPException(503, "the hub has no broker password file (--broker-dir) / hub 未配置终端认证")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not token:
        raise _unauthorized("device credentials required / 需要终端账号密码")
    try:
        username, _, password = base64.b64decode(token, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise _unauthorized("malformed credentials / 账号密码格式错误") from None
    if not auth.check(username, password):
        raise _unauthorized("wrong device id or password / 终端编号或密码错误")
    return username


def router(auth: DeviceAuth | None) -> APIRouter:
    """The snapshot endpoint, checking devices with ``auth`` (None: it answers 503)."""
    api = APIRouter(prefix="/api/v1", tags=["members downlink"])

    @api.get("/devices/{device}/members")
    def snapshot(
        device: str,
        after: Annotated[str, Query(description="member id the previous page ended at")] = "",
        limit: Annotated[int, Query(ge=1, le=member_feed.SNAPSHOT_PAGE_MAX)] = 1000,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Response:
        """One page of members for offline lookup, by id; ``next`` is the ``after`` of the next page.

        The first page (no ``after``) also subscribes the device to member deltas.
        """
        if _device_of(authorization, auth) != device:
            raise HTTPException(403, f"only your own members / 只能获取本终端的会员 ({device})")
        if not after:
            member_feed.subscribe(device, dt.datetime.now(dt.UTC))
        page = member_feed.snapshot_page(device, after, limit)
        # serialised directly: FastAPI's generic encoder is several times slower on 1,000 members
        body = json.dumps(page, ensure_ascii=False, separators=(",", ":"))
        return Response(body, media_type="application/json")

    return api
