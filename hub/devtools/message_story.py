"""Messages to members for the templates and sends pages: used for their tests and screenshots.

``python -m hub.devtools.message_story docs/screenshots`` seeds the loyalty story's three members,
lets two of them say yes to offers (张三 in Chinese with an e-mail address, 李四 in English), saves
the owner's birthday SMS template, queues the welcome messages, sends them to a real local SMTP
server (aiosmtpd) and the SMS gateway simulator, records the gateway's receipts (李四's phone is
off), and saves ``hub-message_templates``, ``hub-message_template`` (the birthday SMS being edited)
and ``hub-messages`` in Chinese and English.
"""

import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from hub.campaigns.auto import welcome_messages
from hub.db.schema import open_hub_database
from hub.devtools import loyalty_story, shots
from hub.devtools.serving import serving
from hub.jobs import settings as job_settings
from hub.members import ledger as loyalty
from hub.messaging import queue as messages
from hub.messaging import sender, templates
from hub.messaging.channels import EmailChannel, SmsGateway
from hub.messaging.sms_simulator import SmsSimulator
from hub.web.app import create_app
from kiosk.devtools.ports import free_port
from kiosk.domain.loyalty import LoyaltyRules

TZ = loyalty_story.TZ
NOW = loyalty_story.NOW
SHOP = "好邻居"
BIRTHDAY_SMS = templates.Texts(
    "", "", "{name}，生日快乐！{shop}为您准备了{offer}，{expiry}前到店使用。{stop}",
    "Happy birthday, {name}! {offer} from {shop}, until {expiry}. {stop}",
)  # fmt: skip


class _Sink:
    """An SMTP server's handler that accepts every mail (what it received is not kept)."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


def seed(work: Path) -> None:
    """The loyalty story, two members' consent, an edited template, welcome messages sent and receipted."""
    loyalty_story.seed(work)
    job_settings.put("shop_name", SHOP)
    zhang, li, wang = loyalty_story.ZHANG, loyalty_story.LI, loyalty_story.WANG
    messages.set_consent(zhang, True, "m-2026", "S01/K01", "member", NOW, email="zhang@example.com")
    messages.set_consent(li, True, "m-2026", "S01/K01", "member", NOW, lang="en")
    messages.set_consent(wang, True, "m-2026", "S01/K01", "member", NOW)
    templates.save("birthday", "sms", BIRTHDAY_SMS, SHOP, "owner", NOW - dt.timedelta(hours=2))
    welcome_messages(NOW - dt.timedelta(hours=1), TZ)
    messages.set_consent(wang, False, "m-2026", "sms-reply", "member", NOW - dt.timedelta(minutes=50))
    mail = Controller(_Sink(), hostname="127.0.0.1", port=free_port())
    mail.start()
    try:
        with SmsSimulator("sim-token") as gateway:
            gateway.unreachable = {"+8613900000002"}
            channels = {"email": EmailChannel("127.0.0.1", mail.port, "shop@example.com"),
                        "sms": SmsGateway(gateway.url, "sim-token", SHOP)}  # fmt: skip
            sender.send_due(NOW - dt.timedelta(minutes=45), TZ, channels)
            for sms in gateway.delivered:
                status = "undelivered" if sms["to"] in gateway.unreachable else "delivered"
                messages.record_delivery(sms["ref"], status, "", NOW - dt.timedelta(minutes=44))
    finally:
        mail.stop()
    messages.queue(zhang, "expiry_reminder", "2026-12-05", ("积分将过期", "Points expire"), NOW)


PAGES = (
    ("message_templates", "/messages/templates?", 1280),
    ("message_template", "/messages/templates/birthday/sms?", 1280),
    ("messages", "/messages?", 1280),
)


def capture(out: Path) -> list[Path]:
    """Seed a throwaway hub, serve it, and save the message pages in Chinese and English into ``out``."""
    with tempfile.TemporaryDirectory(prefix="hub-message-story-") as work:
        db = open_hub_database(f"sqlite:///{work}/hub.db")
        try:
            seed(Path(work))
            with serving(create_app(TZ, today=lambda: NOW.date())) as port:
                return shots.in_both_languages(port, PAGES, out)
        finally:
            loyalty.configure(LoyaltyRules(), None)
            db.close()


if __name__ == "__main__":
    for path in capture(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
