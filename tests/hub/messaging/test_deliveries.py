"""The sends page: each message with its masked member, campaign, channel and what became of it
(delivered by the gateway's receipt, accepted by a real SMTP server, failed, stopped, queued),
filtered by campaign and status, as formula-safe CSV, on the member page, counted on the campaign
results; a manager of another store sees none of it. SQLite and PostgreSQL."""

import csv
import datetime as dt
import html
import io
import re
from pathlib import Path

from hub.campaigns import runs as campaigns
from hub.devtools import message_story
from hub.jobs import settings as job_settings
from hub.messaging import queue as messages
from hub.messaging import sender
from hub.messaging.channels import EmailChannel, SmsGateway
from hub.messaging.sms_simulator import SmsSimulator
from hub.web.app import create_app
from kiosk.domain.loyalty.campaigns import CampaignSpec, Target
from tests.hub.jobs.test_jobs import (
    DAY1,
    GIFT,
    TZ,
    held_out_member,
    hub_rules,  # noqa: F401  (autouse: the business key and rules)
    ingest,
    on_terminal,
    received_member,
    shop,
)

FORMULA = "=cmd|' /C calc'!A0"


def table(page: str, table_id: str) -> list[str]:
    body = re.search(rf'<table id="{table_id}">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, f"no table {table_id}"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
    return [html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip()) for r in rows]


def send_a_day(tmp_path: Path, port: int) -> None:
    """m-1 (reachable) and the held-out member (phone off, no e-mail) get the expiry reminder and
    a campaign's greeting; m-dormant withdraws before the send; then the receipts come back."""
    ingest("K01", on_terminal(tmp_path, "K01", shop))
    job_settings.put("shop_name", "好邻居")
    spec = CampaignSpec(name_zh=FORMULA, name_en="Formula", coupon=GIFT, target=Target(kind="all"))
    campaigns.create_campaign(spec, "owner", DAY1, campaign_id="c-formula")
    messages.set_consent(received_member(), True, "m-1", "kiosk", "member", DAY1, email="m1@example.com")
    messages.set_consent(held_out_member(), True, "m-1", "kiosk", "member", DAY1)
    messages.set_consent("m-dormant", True, "m-1", "kiosk", "member", DAY1)
    for member_id in (received_member(), held_out_member(), "m-dormant"):
        messages.queue(member_id, "expiry_reminder", "2027-01-01", ("积分将过期", "Points expire"), DAY1)
    messages.queue(received_member(), "campaign:c-formula", "x", ("你好", "Hi"), DAY1, channels=("sms",))
    messages.set_consent("m-dormant", False, "m-1", "sms-reply", "member", DAY1)
    with SmsSimulator("sim-token") as gateway:
        gateway.unreachable = {"+8613800000003"}
        channels = {"email": EmailChannel("127.0.0.1", port, "shop@example.com"),
                    "sms": SmsGateway(gateway.url, "sim-token", "好邻居")}  # fmt: skip
        assert sender.send_due(DAY1, TZ, channels).sent == 4
        receipt = DAY1 + dt.timedelta(minutes=2)
        for sms in gateway.delivered:
            failed = sms["to"] in gateway.unreachable
            messages.record_delivery(sms["ref"], "undelivered" if failed else "delivered", "", receipt)
    later = DAY1 + dt.timedelta(hours=1)
    messages.queue(received_member(), "campaign:c-formula", "y", ("再见", "Bye"), later, channels=("sms",))


def test_the_sends_page_lists_each_message_with_what_became_of_it(
    hub_db, tmp_path: Path, signed_in, smtp
) -> None:  # type: ignore[no-untyped-def]
    send_a_day(tmp_path, smtp[1])
    owner = signed_in(create_app(TZ))
    page = owner.get("/messages")
    assert table(page.text, "sends") == [
        f"2026-12-01 11:00 138****0001 {FORMULA} 短信 排队中",
        f"2026-12-01 10:00 138****0001 {FORMULA} 短信 已送达 2026-12-01 10:00 2026-12-01 10:02",
        "2026-12-01 10:00 138****0001 积分到期提醒 电子邮件 已发送 2026-12-01 10:00",
        "2026-12-01 10:00 138****0001 积分到期提醒 短信 已送达 2026-12-01 10:00 2026-12-01 10:02",
        "2026-12-01 10:00 138****0002 积分到期提醒 电子邮件 已退订 会员已撤回营销同意",
        "2026-12-01 10:00 138****0002 积分到期提醒 短信 已退订 会员已撤回营销同意",
        "2026-12-01 10:00 138****0003 积分到期提醒 电子邮件 失败 会员未留邮箱",
        "2026-12-01 10:00 138****0003 积分到期提醒 短信 失败 2026-12-01 10:00 2026-12-01 10:02 "
        "运营商回执：未送达",
    ]
    failed = owner.get("/messages?status=failed&lang=en").text
    assert [r.split(" ", 3)[3] for r in table(failed, "sends")] == [
        "Points expiry reminder E-mail Failed no e-mail address",
        "Points expiry reminder SMS Failed 2026-12-01 10:00 2026-12-01 10:02 operator receipt: undelivered",
    ]
    formula = owner.get("/messages?campaign=campaign:c-formula&status=delivered&lang=en").text
    assert table(formula, "sends") == [
        "2026-12-01 10:00 138****0001 Formula SMS Delivered 2026-12-01 10:00 2026-12-01 10:02"
    ]
    download = owner.get("/messages.csv?campaign=campaign:c-formula")
    rows = list(csv.reader(io.StringIO(download.text.removeprefix("\ufeff"))))
    assert [r[:10] for r in rows] == [
        ["queued_at", "member", "campaign", "kind", "channel", "status", "sent_at", "delivered_at",
         "attempts", "reason"],
        ["2026-12-01 11:00", "138****0001", "'" + FORMULA, "campaign:c-formula", "sms", "queued", "", "",
         "0", ""],
        ["2026-12-01 10:00", "138****0001", "'" + FORMULA, "campaign:c-formula", "sms", "delivered",
         "2026-12-01 10:00", "2026-12-01 10:02", "1", ""],
    ]  # fmt: skip
    member = owner.get(f"/members/{held_out_member()}").text
    assert table(member, "member-sends") == [
        "2026-12-01 10:00 积分到期提醒 电子邮件 失败",
        "2026-12-01 10:00 积分到期提醒 短信 失败 2026-12-01 10:00 2026-12-01 10:02",
    ]
    results = owner.get("/campaigns/c-formula/results?lang=en").text
    assert table(results, "sends") == ["1 0 1 0 0"]  # queued, sent, delivered, failed, stopped
    other = signed_in(create_app(TZ), role="manager", stores="S02")
    elsewhere = other.get("/messages?lang=en").text
    assert "No messages match." in elsewhere and "c-formula" not in elsewhere  # not even the campaign's name
    assert other.get("/messages.csv").text.removeprefix("\ufeff").count("\n") == 1  # the header only
    mine = signed_in(create_app(TZ), role="manager", stores="S01")
    assert len(table(mine.get("/messages").text, "sends")) == 8


def test_screenshots_of_the_message_pages(tmp_path: Path) -> None:
    from PIL import Image

    shots = message_story.capture(tmp_path)
    assert [p.name for p in shots] == [
        f"hub-{name}-{lang}.png"
        for name in ("message_templates", "message_template", "messages")
        for lang in ("zh", "en")
    ]
    for shot in shots:
        with Image.open(shot) as image:
            assert image.width == 1280 and image.height > 600
            assert image.getpixel((10, 10))[:3] == (255, 255, 255)  # the header, drawn
