"""A payment gateway simulator: a real HTTP server that decides charges by rule.

Rules, by the last two digits of the auth code (so tests and the demo choose the
outcome by the code they scan):

- ``…91``: declined, ``NOTENOUGH`` (insufficient balance)
- ``…92``: declined, ``AUTHCODEEXPIRE`` (the code on the phone expired)
- ``…93``: the gateway hangs for ``hang_seconds`` and leaves the order undecided
  (``USERPAYING``), so the caller times out, queries and reverses
- anything else: approved

An ``out_trade_no`` already seen returns the first answer again and never
charges twice (a retried or duplicated request); the same order id with a
different amount or auth code is refused with ``ORDER_CONFLICT``.

Refunds (``POST /refund``) give back part of a SUCCESS order named by its
``transaction_id``: an unknown one is declined ``TRADE_NOT_EXIST``, one whose
refunds would exceed the charge ``REFUND_EXCEEDS``; an ``out_refund_no`` already
seen returns the first answer (nothing paid back twice), and the same refund
number with another amount or transaction is refused ``REFUND_CONFLICT``. Run it with
``python -m kiosk.payments.gateway_sim --port 8765``.
"""

import argparse
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kiosk.hw.scans import payment_provider

log = logging.getLogger(__name__)

DECLINES = {"91": "NOTENOUGH", "92": "AUTHCODEEXPIRE"}
HANG = "93"


@dataclass
class Order:
    """One order as the gateway keeps it."""

    out_trade_no: str
    auth_code: str
    total_fen: int
    state: str  # SUCCESS, PAYERROR, USERPAYING, REVERSED
    transaction_id: str = ""
    err_code: str = ""

    def reply(self) -> dict[str, Any]:
        """The JSON the gateway answers with for this order."""
        return {
            "out_trade_no": self.out_trade_no,
            "state": self.state,
            "total_fen": self.total_fen,
            "transaction_id": self.transaction_id,
            "err_code": self.err_code,
        }


@dataclass
class RefundRecord:
    """One refund as the gateway keeps it."""

    out_refund_no: str
    transaction_id: str
    refund_fen: int
    state: str  # REFUNDED, FAIL
    refund_id: str = ""
    err_code: str = ""

    def reply(self) -> dict[str, Any]:
        """The JSON the gateway answers with for this refund."""
        return {
            "out_refund_no": self.out_refund_no,
            "transaction_id": self.transaction_id,
            "refund_fen": self.refund_fen,
            "state": self.state,
            "refund_id": self.refund_id,
            "err_code": self.err_code,
        }


@dataclass
class GatewayLedger:
    """Every order the simulator has seen, and every charge it made (for tests to check)."""

    orders: dict[str, Order] = field(default_factory=dict)
    charges: list[str] = field(default_factory=list)
    refunds: dict[str, RefundRecord] = field(default_factory=dict)
    paid_back: list[str] = field(default_factory=list)  # out_refund_no of every refund paid, in order
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class PaymentGatewaySimulator:
    """Serves the micropay protocol on 127.0.0.1; use as a context manager."""

    def __init__(self, port: int = 0, hang_seconds: float = 3.0) -> None:
        self.ledger = GatewayLedger()
        self.hang_seconds = hang_seconds
        handler = type("Handler", (_Handler,), {"gateway": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="gateway-sim", daemon=True)

    @property
    def url(self) -> str:
        """The base URL a provider talks to."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> "PaymentGatewaySimulator":
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "PaymentGatewaySimulator":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def micropay(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Decide one charge; return the HTTP status and the JSON reply."""
        trade_no, code, amount = (
            str(body.get("out_trade_no", "")),
            str(body.get("auth_code", "")),
            body.get("total_fen"),
        )
        if not trade_no or not isinstance(amount, int) or amount <= 0:
            return 400, {"state": "PAYERROR", "err_code": "PARAM_ERROR"}
        with self.ledger.lock:
            self.ledger.requests += 1
            known = self.ledger.orders.get(trade_no)
            if known is not None:
                if known.total_fen != amount or known.auth_code != code:
                    return 409, {"state": "PAYERROR", "err_code": "ORDER_CONFLICT"}
                return 200, known.reply()
            order = self._decide(trade_no, code, amount)
            self.ledger.orders[trade_no] = order
        if code.endswith(HANG):
            time.sleep(self.hang_seconds)
        return 200, order.reply()

    def _decide(self, trade_no: str, code: str, amount: int) -> Order:
        if payment_provider(code) is None:
            return Order(trade_no, code, amount, "PAYERROR", err_code="AUTH_CODE_INVALID")
        if code[-2:] in DECLINES:
            return Order(trade_no, code, amount, "PAYERROR", err_code=DECLINES[code[-2:]])
        if code.endswith(HANG):
            return Order(trade_no, code, amount, "USERPAYING")
        self.ledger.charges.append(trade_no)
        return Order(trade_no, code, amount, "SUCCESS", transaction_id=f"SIM{uuid.uuid4().hex[:20].upper()}")

    def query(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The order's current state."""
        with self.ledger.lock:
            order = self.ledger.orders.get(str(body.get("out_trade_no", "")))
            return (200, order.reply()) if order else (404, {"state": "NOTPAY", "err_code": "ORDERNOTEXIST"})

    def reverse(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Cancel an undecided order (a paid one is refunded in the real world; here it is kept)."""
        with self.ledger.lock:
            order = self.ledger.orders.get(str(body.get("out_trade_no", "")))
            if order is None:
                return 200, {"state": "NOTPAY"}
            if order.state == "USERPAYING":
                order.state = "REVERSED"
            return 200, order.reply()

    def refund(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Pay back part of a settled charge, once per ``out_refund_no``."""
        refund_no, txn, amount = (
            str(body.get("out_refund_no", "")),
            str(body.get("transaction_id", "")),
            body.get("refund_fen"),
        )
        if not refund_no or not isinstance(amount, int) or amount <= 0:
            return 400, {"state": "FAIL", "err_code": "PARAM_ERROR"}
        with self.ledger.lock:
            self.ledger.requests += 1
            known = self.ledger.refunds.get(refund_no)
            if known is not None:
                if known.refund_fen != amount or known.transaction_id != txn:
                    return 409, {"state": "FAIL", "err_code": "REFUND_CONFLICT"}
                return 200, known.reply()
            record = self._decide_refund(refund_no, txn, amount)
            self.ledger.refunds[refund_no] = record
            return 200, record.reply()

    def _decide_refund(self, refund_no: str, txn: str, amount: int) -> RefundRecord:
        order = next((o for o in self.ledger.orders.values() if o.transaction_id == txn and txn), None)
        if order is None or order.state != "SUCCESS":
            return RefundRecord(refund_no, txn, amount, "FAIL", err_code="TRADE_NOT_EXIST")
        refunded = sum(
            r.refund_fen
            for r in self.ledger.refunds.values()
            if r.transaction_id == txn and r.state == "REFUNDED"
        )
        if refunded + amount > order.total_fen:
            return RefundRecord(refund_no, txn, amount, "FAIL", err_code="REFUND_EXCEEDS")
        self.ledger.paid_back.append(refund_no)
        return RefundRecord(
            refund_no, txn, amount, "REFUNDED", refund_id=f"RF{uuid.uuid4().hex[:20].upper()}"
        )


class _Handler(BaseHTTPRequestHandler):
    gateway: PaymentGatewaySimulator

    def do_POST(self) -> None:  # the name http.server calls
        routes = {
            "/micropay": self.gateway.micropay,
            "/query": self.gateway.query,
            "/reverse": self.gateway.reverse,
            "/refund": self.gateway.refund,
        }
        route = routes.get(self.path)
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        except json.JSONDecodeError:
            route, body = None, {}
        status, reply = route(body) if route else (404, {"state": "PAYERROR", "err_code": "NOT_FOUND"})
        data = json.dumps(reply).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the caller gave up waiting
            log.info("gateway client left before the answer to %s", self.path)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("gateway-sim " + format, *args)


def main() -> None:
    """Serve the simulator until interrupted."""
    parser = argparse.ArgumentParser(description="Payment gateway simulator")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with PaymentGatewaySimulator(args.port) as sim:
        print(f"gateway simulator on {sim.url}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
