"""An SMS gateway simulator: the real HTTP exchange of :class:`hub.messaging.channels.SmsGateway`,
with the messages kept in memory instead of sent to phones (tests and the demo).

It checks the bearer token, answers the same id for a ``ref`` it has seen (a repeated send is
one SMS), and can be told to fail the next N requests with 503 to exercise retries. Like a real
gateway it reports delivery: :meth:`SmsSimulator.send_receipts` posts each accepted SMS's receipt
to the hub's ``/api/v1/sms/receipt`` (``undelivered`` for the numbers in ``unreachable``).
"""

import itertools
import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SmsSimulator:
    """A gateway on ``127.0.0.1:<port>``; ``url`` is where to post, ``delivered`` what phones got."""

    def __init__(self, token: str = "sim-token") -> None:
        self.token = token
        self.delivered: list[dict[str, Any]] = []
        self.requests = 0
        self.fail_next = 0
        self.unreachable: set[str] = set()  # phones whose SMS the operator reports undelivered
        self._receipts_due: list[dict[str, Any]] = []
        self._by_ref: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer = simulator._handle(self.headers.get("Authorization", ""), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where :class:`SmsGateway` posts."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/send"

    def _handle(self, auth: str, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
            if auth != f"Bearer {self.token}":
                return 401, {"error": "bad token"}
            if self.fail_next:
                self.fail_next -= 1
                return 503, {"error": "busy"}
            try:
                sms = json.loads(body)
                to, text, ref = str(sms["to"]), str(sms["text"]), str(sms["ref"])
            except (ValueError, KeyError):
                return 400, {"error": "bad request"}
            if not to.startswith("+"):
                return 400, {"error": "not an E.164 number"}
            if ref not in self._by_ref:
                self._by_ref[ref] = f"sim-{next(self._ids)}"
                self.delivered.append({"to": to, "text": text, "ref": ref, "id": self._by_ref[ref]})
                self._receipts_due.append({"to": to, "ref": ref})
            return 200, {"id": self._by_ref[ref]}

    def send_receipts(self, hub_url: str) -> list[int]:
        """Post the receipts not yet sent to ``{hub_url}/api/v1/sms/receipt`` with the token; return
        the hub's HTTP status for each (a real gateway does this by itself, seconds later)."""
        with self._lock:
            due, self._receipts_due = self._receipts_due, []
        answers = []
        for sms in due:
            failed = sms["to"] in self.unreachable
            body = {"ref": sms["ref"], "status": "undelivered" if failed else "delivered",
                    "error": "UNDELIV: phone switched off" if failed else ""}  # fmt: skip
            request = urllib.request.Request(
                f"{hub_url}/api/v1/sms/receipt", json.dumps(body).encode(), method="POST",
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            )  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    answers.append(answer.status)
            except urllib.error.HTTPError as exc:
                answers.append(exc.code)
        return answers

    def __enter__(self) -> "SmsSimulator":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
