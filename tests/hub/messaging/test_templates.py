"""Owner-edited message templates: the built-in texts filled in, bad templates refused with reasons
in both languages, the page's preview, and an edited welcome template reaching a real SMTP server
(aiosmtpd) and the SMS gateway simulator in each member's language, HTML escaped, audited.
SQLite and PostgreSQL."""

import datetime as dt
import re
from collections.abc import Iterator

import pytest

from hub.campaigns import auto
from hub.campaigns import runs as campaigns
from hub.db import transaction
from hub.jobs import settings as job_settings
from hub.members import ledger as loyalty
from hub.members.book import register_at_hub
from hub.members.models import OwnerAudit
from hub.messaging import queue as messages
from hub.messaging import sender, templates
from hub.messaging.channels import EmailChannel, SmsGateway
from hub.messaging.models import MemberMessage
from hub.messaging.sms_simulator import SmsSimulator
from hub.web.app import create_app
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.domain.loyalty.campaigns import CampaignSpec, CouponTemplate, Target
from tests.hub.members.test_loyalty import KEY, TZ

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=TZ)
SHOP = "好邻居"


def test_the_built_in_texts_fill_in_the_member_the_offer_and_the_date() -> None:
    facts = templates.Facts(
        name="张**", offer_zh="满50减10券", offer_en="¥10 off ¥50", expiry=dt.date(2027, 1, 6)
    )
    sms = templates.compose("winback", "sms", facts, SHOP, templates.default_texts("winback", "sms"))
    assert sms.body_zh == "张**，好久不见，我们想您了！送您满50减10券，1月6日前有效。回T退订"
    assert sms.body_en == "Hi 张**! We miss you! Here is ¥10 off ¥50, valid until 2027-01-06. Reply T to stop"
    mail = templates.compose("winback", "email", facts, SHOP, templates.default_texts("winback", "email"))
    assert (mail.subject_zh, mail.subject_en) == ("好邻居：好久不见", "好邻居: we miss you")
    assert mail.body_zh == "张**，您好：\n\n好久不见，我们想您了！送您满50减10券，1月6日前有效。\n\n好邻居"
    for kind in templates.KINDS:  # every built-in text passes the owner's checks
        for channel in templates.CHANNELS:
            assert templates.problems(channel, templates.default_texts(kind, channel), SHOP) == []


def test_a_bad_sms_template_is_refused_with_every_reason_in_both_languages() -> None:
    bad = templates.Texts("", "", "你好 {nme}，送您{offer} {", "x" * 400 + " {stop}")
    found = templates.problems("sms", bad, SHOP)
    assert [(p.field, p.text("zh")) for p in found] == [
        ("body_zh", "未知占位符 {nme}：只能使用 {name} {offer} {points} {expiry} {shop} {stop}"),
        ("body_zh", "有单独的 { 或 }：占位符成对书写，如 {name}"),
        ("body_zh", "短信必须包含退订说明 {stop}（回T退订）"),
        ("body_en", "太长：最长可达 421 字，需 7 条短信，上限 2 条，请删减"),
    ]
    assert [p.text("en") for p in found][2:] == [
        "an SMS must contain {stop}, how to unsubscribe (Reply T to stop)",
        "too long: up to 421 characters, 7 SMS segments, at most 2: shorten it",
    ]


WELCOME_COUPON = CouponTemplate(kind="threshold", name_zh="新人满30减5", name_en="¥5 off ¥30",
                                min_spend_fen=3000, off_fen=500, valid_days=30)  # fmt: skip
EDITED = {
    "subject_zh": "欢迎，{name}",
    "subject_en": "Welcome, {name}",
    "body_zh": "{name}，欢迎光临{shop}！<b>{offer}</b> 请在 {expiry} 前使用。",
    "body_en": "Welcome {name}! <b>{offer}</b>, use it by {expiry}.",
}
EDITED_SMS = {
    "body_zh": "{name}，欢迎！{offer}，{expiry}前有效。{stop}",
    "body_en": "Hi {name}: {offer} by {expiry}. {stop}",
}


@pytest.fixture
def business_key() -> Iterator[None]:
    loyalty.configure(LoyaltyRules(), KEY)
    yield
    loyalty.configure(LoyaltyRules(), None)


def test_the_owner_edits_a_template_and_members_receive_it(hub_db, signed_in, smtp, business_key) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    job_settings.put("shop_name", SHOP)
    owner = signed_in(create_app(TZ))
    page = "/messages/templates/welcome/email"
    shown = owner.post(f"{page}?lang=en", data={**EDITED, "body_zh": "{nme}", "action": "save"})
    assert shown.status_code == 422
    assert re.findall(r"<li>(.*?)</li>", shown.text) == [
        "Chinese text: unknown placeholder {nme}: use only {name} {offer} {points} {expiry} {shop} {stop}"
    ]
    preview = owner.post(page, data={**EDITED, "action": "preview"})
    assert preview.status_code == 200 and templates.versions("welcome", "email") == []
    zh = re.search(r'id="preview-zh">(.*?)</div>\s*</div>', preview.text, re.S).group(1)  # type: ignore[union-attr]
    assert re.sub(r"(\s*<[^>]+>\s*)+", "|", zh).strip("|") == (
        "中文|欢迎，王**|王**，欢迎光临好邻居！&lt;b&gt;满50减10券&lt;/b&gt; 请在 1月1日 前使用。"
    )
    saved = owner.post(page, data={**EDITED, "action": "save"}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].startswith(
        "/messages/templates?saved=welcome"
    )
    assert (
        owner.post("/messages/templates/welcome/sms", data={**EDITED_SMS, "action": "save"}).status_code
        == 200
    )
    # a manager edits their store's texts only: S01's members get them, other stores' the owner's
    manager = signed_in(create_app(TZ), role="manager", stores="S01")
    assert manager.get(f"{page}?store=S02").status_code == 403
    own = {
        "body_zh": "{name}，S01店欢迎您！{offer}，{expiry}前有效。{stop}",
        "body_en": "S01 welcomes you! {stop}",
    }
    assert manager.post("/messages/templates/welcome/sms", data={**own, "action": "save"}).status_code == 200
    assert "S01店欢迎您" in manager.get("/messages/templates").text
    audit = OwnerAudit.select().where(OwnerAudit.action == "message_template.save").order_by(OwnerAudit.id)
    assert [(a.by, a.subject) for a in audit] == [
        ("owner", "welcome/email"), ("owner", "welcome/sms"), ("manager-S01", "welcome/sms@S01"),
    ]  # fmt: skip

    spec = CampaignSpec(name_zh="新人礼", coupon=WELCOME_COUPON, target=Target(kind="at_registration"),
                        holdout_percent=0)  # fmt: skip
    with transaction():
        campaigns.create_campaign(spec, "owner", NOW - dt.timedelta(days=1), campaign_id="welcome")
        wang = register_at_hub(
            "13800000011", "王小明", None, ("privacy-2026-01", "hub"), "S01", NOW
        ).member_id
        lee = register_at_hub(
            "13800000012", "Lee Ann", None, ("privacy-2026-01", "hub"), "S02", NOW
        ).member_id
        silent = register_at_hub(
            "13800000013", "赵六", None, ("privacy-2026-01", "hub"), "S01", NOW
        ).member_id
        messages.set_consent(wang, True, "m-1", "hub", "owner", NOW, email="wang@example.com")
        messages.set_consent(lee, True, "m-1", "hub", "owner", NOW, email="lee@example.com", lang="en")
        messages.set_consent(silent, False, "m-1", "hub", "owner", NOW, email="zhao@example.com")
        done = auto.run_automatic(NOW, TZ)
    assert done.messages == 4  # e-mail and SMS to each consenting member; none to 赵六
    with SmsSimulator("sim-token") as gateway:
        channels = {"email": EmailChannel("127.0.0.1", port, "shop@example.com"),
                    "sms": SmsGateway(gateway.url, "sim-token", SHOP)}  # fmt: skip
        assert sender.send_due(NOW, TZ, channels).sent == 4
    mails = {to[0]: mail for to, mail in inbox.mails}
    assert sorted(mails) == ["lee@example.com", "wang@example.com"]
    assert mails["wang@example.com"]["Subject"] == "欢迎，王**"
    assert mails["wang@example.com"].get_body(("plain",)).get_content().strip() == (
        "王**，欢迎光临好邻居！<b>新人满30减5</b> 请在 1月6日 前使用。"
    )
    assert "王**，欢迎光临好邻居！&lt;b&gt;新人满30减5&lt;/b&gt; 请在 1月6日 前使用。" in (
        mails["wang@example.com"].get_body(("html",)).get_content()
    )
    assert mails["lee@example.com"]["Subject"] == "Welcome, L******"
    assert mails["lee@example.com"].get_body(("plain",)).get_content().strip() == (
        "Welcome L******! <b>¥5 off ¥30</b>, use it by 2027-01-06."
    )
    assert sorted((sms["to"], sms["text"]) for sms in gateway.delivered) == [
        ("+8613800000011", "【好邻居】王**，S01店欢迎您！新人满30减5，1月6日前有效。回T退订"),
        ("+8613800000012", "【好邻居】Hi L******: ¥5 off ¥30 by 2027-01-06. Reply T to stop"),
    ]
    assert sorted(m.template_version for m in MemberMessage.select()) == [1, 1, 1, 2]
