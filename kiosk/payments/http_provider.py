"""A :class:`PaymentProvider` that talks JSON over HTTP to a payment gateway.

The protocol is the one :mod:`kiosk.payments.gateway_sim` serves, shaped like
the micropay APIs of WeChat Pay and Alipay: ``POST /micropay`` charges an auth
code, ``POST /query`` reads an order, ``POST /reverse`` cancels an undecided one,
``POST /refund`` gives (part of) a settled charge back.
After a timeout the provider asks for the order and reverses it unless it was
paid, so a slow gateway never leaves money taken for a sale the kiosk dropped.
"""

import json
import logging
import socket
import urllib.error
import urllib.request
from typing import Any

from kiosk.payments.base import PaymentProvider, PaymentRequest, PaymentResult, PaymentStatus, RefundRequest

log = logging.getLogger(__name__)


class HttpGatewayProvider(PaymentProvider):
    """Charges through the gateway at ``base_url`` with a per-call ``timeout`` in seconds."""

    def __init__(self, base_url: str, timeout: float = 10.0, merchant: str = "demo-merchant") -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.merchant = merchant

    def charge(self, request: PaymentRequest) -> PaymentResult:
        """Charge the auth code; on timeout query and, if still undecided, reverse."""
        if request.amount_fen <= 0:
            raise ValueError(f"a charge must be positive, got {request.amount_fen} fen")
        body = {
            "merchant": self.merchant,
            "out_trade_no": request.order_id,
            "auth_code": request.auth_code,
            "total_fen": request.amount_fen,
            "body": request.description,
        }
        try:
            reply = self._post("/micropay", body)
        except TimeoutError:
            return self._after_timeout(request)
        except (OSError, ValueError) as exc:
            log.warning("payment gateway unreachable for %s: %s", request.order_id, exc)
            return PaymentResult(PaymentStatus.ERROR, request.order_id, request.amount_fen, reason="NETWORK")
        return self._result(request, reply)

    def refund(self, request: RefundRequest) -> PaymentResult:
        """Refund part of a settled charge; a network failure or timeout is an ERROR result:
        the same ``refund_id`` is safe to send again (the gateway answers it once)."""
        if request.amount_fen <= 0:
            raise ValueError(f"a refund must be positive, got {request.amount_fen} fen")
        body = {
            "merchant": self.merchant,
            "out_refund_no": request.refund_id,
            "transaction_id": request.transaction,
            "refund_fen": request.amount_fen,
            "reason": request.reason,
        }
        try:
            reply = self._post("/refund", body)
        except (OSError, ValueError) as exc:  # TimeoutError is an OSError
            log.warning("refund %s not confirmed by the gateway: %s", request.refund_id, exc)
            return PaymentResult(PaymentStatus.ERROR, request.refund_id, request.amount_fen, reason="NETWORK")
        if reply.get("state") == "REFUNDED":
            reference = str(reply["refund_id"])
            return PaymentResult(
                PaymentStatus.APPROVED, request.refund_id, int(reply["refund_fen"]), reference
            )
        reason = str(reply.get("err_code") or reply.get("state") or "UNKNOWN")
        return PaymentResult(PaymentStatus.DECLINED, request.refund_id, request.amount_fen, reason=reason)

    def cancel(self, order_id: str) -> bool:
        """Reverse ``order_id`` at the gateway."""
        try:
            return self._post("/reverse", {"merchant": self.merchant, "out_trade_no": order_id}).get(
                "state"
            ) in ("REVERSED", "NOTPAY")
        except (OSError, ValueError) as exc:
            log.warning("could not reverse %s: %s", order_id, exc)
            return False

    def _after_timeout(self, request: PaymentRequest) -> PaymentResult:
        try:
            reply = self._post("/query", {"merchant": self.merchant, "out_trade_no": request.order_id})
        except (OSError, ValueError):
            reply = {}
        if reply.get("state") == "SUCCESS":
            return self._result(request, reply)
        self.cancel(request.order_id)
        return PaymentResult(PaymentStatus.TIMEOUT, request.order_id, request.amount_fen, reason="TIMEOUT")

    def _result(self, request: PaymentRequest, reply: dict[str, Any]) -> PaymentResult:
        state = reply.get("state")
        if state == "SUCCESS":
            return PaymentResult(
                PaymentStatus.APPROVED,
                request.order_id,
                int(reply["total_fen"]),
                reference=str(reply["transaction_id"]),
            )
        reason = str(reply.get("err_code") or state or "UNKNOWN")
        return PaymentResult(PaymentStatus.DECLINED, request.order_id, request.amount_fen, reason=reason)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body).encode()
        http = urllib.request.Request(
            self.base_url + path, data=data, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(http, timeout=self.timeout) as reply:
                return dict(json.loads(reply.read()))
        except urllib.error.HTTPError as exc:  # the gateway answered with an error body
            return dict(json.loads(exc.read() or b"{}"))
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                raise TimeoutError(str(exc.reason)) from exc
            raise
