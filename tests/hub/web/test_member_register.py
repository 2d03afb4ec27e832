"""The front desk's registration form: the privacy consent required, marketing asked separately and
recorded either way, bad input refused per field in zh/en with nothing stored, a known phone opens
that member. SQLite and PostgreSQL."""

import re

from hub.members import ledger as loyalty
from hub.members.book import settings
from hub.members.models import HubMember
from hub.messaging import queue as messages
from hub.web.app import create_app
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.domain.loyalty.registration import CONSENT_VERSION, MARKETING_VERSION
from tests.hub.members.test_loyalty import KEY, TZ


def problems(html: str) -> dict[str, str]:
    return dict(re.findall(r'<li data-field="([^"]+)">([^<]*)</li>', html))


def test_the_front_desk_registers_a_member_with_both_consents(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    loyalty.configure(LoyaltyRules(), KEY)
    try:
        client = signed_in(create_app(TZ))
        form = client.get("/members/register").text
        assert "我们保存：您的手机号" in form and 'name="marketing"' in form and " checked" not in form
        assert 'id="register-link"' in client.get("/members").text  # the dashboard links it
        bad = client.post(
            "/members/register",
            data={
                "phone": "",
                "name": "王" * 21,
                "birthday": "1990/05/01",
                "home_store": "S99",
                "email": "x y",
                "marketing": "yes",
            },
        )
        assert bad.status_code == 422
        assert problems(bad.text) == {
            "phone": "请填写正确的手机号，如 13812345678。",
            "name": "称呼最多 20 个字。",
            "birthday": "生日格式应为 1990-05-01。",
            "home_store": "请选择门店。",
            "email": "请填写正确的邮箱，如 name@example.com，或留空。",
            "consent": "顾客同意隐私说明后才能登记。",
        }
        assert 'value="1990/05/01"' in bad.text and " checked" in bad.text  # what was typed stays
        wrong = client.post(
            "/members/register?lang=en", data={"phone": "12345", "home_store": "S01", "consent": "yes"}
        )
        assert problems(wrong.text) == {"phone": "Type a valid phone number, e.g. 13812345678."}
        assert HubMember.select().count() == 0
        done = client.post(
            "/members/register",
            data={
                "phone": "138 1234 5678",
                "name": "王女士",
                "birthday": "1990-05-01",
                "home_store": "S01",
                "consent": "yes",
            },
            follow_redirects=False,
        )
        assert done.status_code == 303
        member_id = re.fullmatch(r"/members/([^?]+)\?registered=1", done.headers["location"]).group(1)  # type: ignore[union-attr]
        member = HubMember.get_by_id(member_id)
        assert (member.consent_version, member.consent_where, member.home_store, member.source) == (
            CONSENT_VERSION,
            "hub/front-desk",
            "S01",
            "hub",
        )
        assert settings.key.decrypt(member.phone_enc, f"{member_id}:phone") == "+8613812345678"  # type: ignore[union-attr]
        consent = messages.consent_state(member_id)
        assert consent is not None and (consent.granted, consent.version) == (
            False,
            MARKETING_VERSION,
        )  # a recorded no
        assert "已登记为新会员。" in client.get(done.headers["location"]).text
        again = client.post(
            "/members/register",
            data={"phone": "13812345678", "home_store": "S01", "consent": "yes", "marketing": "yes"},
            follow_redirects=False,
        )
        assert again.headers["location"] == f"/members/{member_id}?registered=existing"
        assert HubMember.select().count() == 1 and messages.consent_state(member_id).granted is False  # type: ignore[union-attr]
        other = client.post(
            "/members/register",
            data={
                "phone": "13900000001",
                "home_store": "S01",
                "consent": "yes",
                "marketing": "yes",
                "email": "li@example.com",
            },
            follow_redirects=False,
        )
        new_id = other.headers["location"].split("/")[2].split("?")[0]
        assert messages.consent_state(new_id).granted is True  # type: ignore[union-attr]
        manager = signed_in(create_app(TZ), "manager", stores="S02")
        assert problems(
            manager.post(
                "/members/register", data={"phone": "13900000002", "home_store": "S01", "consent": "yes"}
            ).text
        ) == {"home_store": "请选择门店。"}
    finally:
        loyalty.configure(LoyaltyRules(), None)
