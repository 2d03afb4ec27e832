"""SMS delivery receipts: the gateway simulator sends two SMS, then posts its receipts to the
served hub over HTTP (one delivered, one undelivered with the operator's reason); each lands on
its message and in its send log once; a wrong token, an unknown ref and a bad body are refused.
SQLite and PostgreSQL."""

import json
import urllib.error
import urllib.request
from pathlib import Path

from hub.devtools.serving import serving
from hub.jobs import settings as job_settings
from hub.messaging import queue as messages
from hub.messaging import sender
from hub.messaging.models import MemberMessage, SendLog
from hub.messaging.sms_simulator import SmsSimulator
from hub.web.app import create_app
from tests.hub.jobs.test_jobs import (
    DAY1,
    TZ,
    held_out_member,
    hub_rules,  # noqa: F401  (autouse: the business key and rules)
    ingest,
    on_terminal,
    received_member,
    shop,
)


def post(url: str, body: object, token: str) -> int:
    request = urllib.request.Request(url, json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_delivery_receipts_from_the_gateway_reach_each_message_once(
    hub_db, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", shop))
    for member_id in (received_member(), held_out_member()):
        messages.set_consent(member_id, True, "marketing-2026-12", "kiosk", "member", DAY1)
        messages.queue(member_id, "expiry_reminder", "2027-01-01", ("积分即将过期", "Points expire"), DAY1)
    monkeypatch.setenv("HUB_SMS_TOKEN", "sim-token")
    with SmsSimulator("sim-token") as gateway, serving(create_app(TZ), role=None) as port:
        job_settings.put("sms_url", gateway.url)
        gateway.unreachable = {"+8613800000003"}  # the held-out member's phone is off
        done = sender.send_due(DAY1, TZ, sender.channels_from_settings(), False)
        assert done.sent == 2 and sorted(s["to"] for s in gateway.delivered) == [
            "+8613800000001",
            "+8613800000003",
        ]
        hub = f"http://127.0.0.1:{port}"
        assert gateway.send_receipts(hub) == [200, 200]
        assert gateway.send_receipts(hub) == []  # each receipt posted once
        first = next(s["ref"] for s in gateway.delivered if s["to"] == "+8613800000001")
        assert post(f"{hub}/api/v1/sms/receipt", {"ref": first, "status": "undelivered"}, "sim-token") == 200
        assert post(f"{hub}/api/v1/sms/receipt", {"ref": first, "status": "delivered"}, "wrong") == 401
        assert post(f"{hub}/api/v1/sms/receipt", {"ref": "nope", "status": "delivered"}, "sim-token") == 404
        assert post(f"{hub}/api/v1/sms/receipt", {"ref": first, "status": "read"}, "sim-token") == 422
    sms = {m.member_id: (m.delivery, m.delivered_at is not None)
           for m in MemberMessage.select().where(MemberMessage.channel == "sms")}  # fmt: skip
    # the repeated 'undelivered' for the first one changed nothing: the first receipt counts
    assert sms == {received_member(): ("delivered", True), held_out_member(): ("undelivered", True)}
    logs = [
        (r.ok, r.detail) for r in SendLog.select().order_by(SendLog.id) if r.detail.startswith("delivery")
    ]
    assert logs == [(False, "delivery receipt: undelivered (UNDELIV: phone switched off)"),
                    (True, "delivery receipt: delivered")]  # fmt: skip
