"""``POST /api/v1/sms/inbound``: the SMS gateway forwards members' replies; a stop word (T, TD,
STOP, 退订) withdraws that member's marketing consent at once (audited), so nothing more is sent.
``POST /api/v1/sms/receipt``: the gateway's delivery receipt for a message it accepted
(``{"ref", "status": "delivered"|"undelivered", "error"}``, ``ref`` being the hub's message id):
recorded on the message and in its send log, once (a repeated receipt changes nothing).

The gateway authenticates with the same bearer token the hub sends with (``HUB_SMS_TOKEN``);
a wrong one, or none configured, is 401; a body that is not ``{"from", "text"}`` is 422. The
answer says only whether a stop was recorded.
"""

import datetime as dt
import hmac
import os
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.db import transaction
from hub.messaging import queue as messages


class Reply(BaseModel):
    """A member's SMS to the shop's number, as the gateway forwards it."""

    model_config = ConfigDict(populate_by_name=True)

    sender: str = Field(alias="from", min_length=1, max_length=32, description="the member's phone")
    text: str = Field(max_length=500)


class DeliveryReceipt(BaseModel):
    """The gateway's word on one SMS: reached the phone, or not (with the operator's reason)."""

    ref: str = Field(min_length=1, max_length=64, description="the hub's message id it was sent with")
    status: Literal["delivered", "undelivered"]
    error: str = Field(default="", max_length=200)


def _check_token(request: Request) -> None:
    # the token first: nobody else learns even what the hook expects
    token = os.environ.get("HUB_SMS_TOKEN", "")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        raise HTTPException(401, "wrong or unconfigured SMS gateway token / 短信网关令牌错误或未配置")


def router() -> APIRouter:
    """The gateway's reply and delivery-receipt hooks."""
    routes = APIRouter(tags=["messages"])

    @routes.post("/api/v1/sms/receipt")
    async def receipt(request: Request) -> dict[str, Any]:
        _check_token(request)
        try:
            report = DeliveryReceipt.model_validate_json(await request.body())
        except ValidationError as exc:
            raise HTTPException(
                422, f"not a receipt: {{ref, status}} / 回执格式错误: {exc.errors()[0]['msg']}"
            ) from exc
        with transaction():
            known = messages.record_delivery(report.ref, report.status, report.error, dt.datetime.now(dt.UTC))
        if not known:
            raise HTTPException(404, "no SMS sent with that ref / 没有这条短信")
        return {"recorded": True}

    @routes.post("/api/v1/sms/inbound")
    async def inbound(request: Request) -> dict[str, Any]:
        _check_token(request)
        try:
            reply = Reply.model_validate_json(await request.body())
        except ValidationError as exc:
            raise HTTPException(
                422, f"not a reply: {{from, text}} / 回复格式错误: {exc.errors()[0]['msg']}"
            ) from exc
        with transaction():
            stopped = messages.stop_by_reply(reply.sender, reply.text, dt.datetime.now(dt.UTC))
        return {"stopped": stopped is not None}

    return routes
