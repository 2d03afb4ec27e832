"""Hostile text typed into the dashboard's newer forms: stored as typed, shown as text, exported as text.

Each form a person types into (a reward's name, a staff member's name, a tag rule, the front
desk's member registration, a stock adjustment's reason, a count card's name, a shopper's rating
comment, a message template) gets a script tag, an element, an SQL fragment and a spreadsheet
formula, through the real dashboard (the owner signed in; the rating through the receipt's signed
link). The row holds exactly what was typed (the SQL was a value), the page that lists it shows it
escaped, the stock documents' CSV starts the formula with ``'``, and a template's mail holds its
markup as text.
"""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from hub.catalog.models import CatalogProduct
from hub.devtools.signed_in import session_for
from hub.members import attributes as member_attributes
from hub.members import ledger as loyalty
from hub.members import tag_rules
from hub.members.models import HubMember
from hub.messaging import templates
from hub.messaging.channels import html_mail
from hub.reports.ratings import ReceiptRating
from hub.staff.accounts import StaffAccount
from hub.stock import ledger as stock
from hub.web.app import create_app
from hub.web.auth import COOKIE
from kiosk.domain.loyalty import LoyaltyRules
from tests.fuzz.test_injection import ELEMENT, FORMULA, SCRIPT, SQL
from tests.hub.members.test_loyalty import KEY, TZ
from tests.hub.web.test_receipt_rating import book_sales, link

# a member's name and a tag may be 20 characters
SHORT = ELEMENT
TINY_SCRIPT = "<script>x=1</script>"


@pytest.fixture
def owner(hub_db) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    loyalty.configure(LoyaltyRules(), KEY)  # registration encrypts the name with the business key
    CatalogProduct.create(sku="A100", name_zh="大米", price_fen=5000, category="food")
    token, csrf = session_for("owner")
    client = TestClient(create_app(TZ), headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    client.cookies.set(COOKIE, token)
    yield client
    loyalty.configure(LoyaltyRules(), None)


def shown_as_text(html: str, typed: str) -> None:
    """``typed`` is on the page escaped, never as markup."""
    assert typed not in html
    assert str(escape(typed)) in html


def test_hostile_text_in_the_newer_forms_is_kept_as_typed_and_shown_as_text(owner: TestClient) -> None:
    reward = {"id": "evil", "name_zh": SCRIPT, "name_en": SQL + FORMULA, "points": "100"}  # 40 at most
    assert owner.post("/rules/rewards", data=reward).status_code == 303
    shown_as_text(owner.get("/rules").text, SCRIPT)
    shown_as_text(owner.get("/rules?lang=en").text, SQL + FORMULA)

    person = {"name": SCRIPT, "role": "attendant", "stores": "S01", "badge": "", "pin": "1357"}
    assert owner.post("/staff", data=person).status_code == 303
    assert [s.name for s in StaffAccount.select()] == [SCRIPT]
    shown_as_text(owner.get("/staff").text, SCRIPT)

    rule = {"tag": SHORT, "scope": "category", "value": SQL, "times": "2", "days": "30"}
    assert owner.post("/members/tag-rules", data=rule).status_code == 303
    assert [(r.tag, r.value) for r in tag_rules.rules()] == [(SHORT, SQL)]
    members_page = owner.get("/members").text
    shown_as_text(members_page, SHORT)
    shown_as_text(members_page, SQL)

    joined = {"phone": "138 1234 5678", "name": SHORT, "home_store": "S01", "consent": "yes", "email": ""}
    assert owner.post("/members/register", data=joined).status_code == 303
    (member,) = HubMember.select()
    assert KEY.decrypt(member.name_enc, f"{member.id}:name") == SHORT
    member_attributes.set_tags(member.id, [TINY_SCRIPT], "owner", dt.datetime.now(dt.UTC))
    profile = owner.get(f"/members/{member.id}?view=profile").text
    assert SHORT not in profile and '<span id="member-name">&lt;****************</span>' in profile  # masked
    shown_as_text(profile, TINY_SCRIPT)

    adjusted = {"kind": "adjust", "store": "S01", "lines": "A100 -2", "reason": SCRIPT + FORMULA}
    assert owner.post("/stock/new", data=adjusted).status_code == 303
    assert [d.reason for d in stock.documents(None)] == [SCRIPT + FORMULA]
    shown_as_text(owner.get("/stock").text, SCRIPT + FORMULA)
    exported = owner.get("/stock.csv?table=documents").text
    assert f"'{SCRIPT}{FORMULA}" not in exported  # the script starts the cell: no formula
    assert f",{SCRIPT}{FORMULA}" in exported
    formula_first = {"kind": "adjust", "store": "S01", "lines": "A100 1", "reason": FORMULA}
    assert owner.post("/stock/new", data=formula_first).status_code == 303
    assert f",'{FORMULA}" in owner.get("/stock.csv?table=documents").text

    card = {"sku": "evil10", "name_zh": SCRIPT, "name_en": SQL + FORMULA, "visits": "10", "price": "199",
            "valid_days": "90", "services": "A100", "stores": ""}  # fmt: skip
    assert owner.post("/count-cards", data=card).status_code == 303
    shown_as_text(owner.get("/count-cards").text, SCRIPT)
    shown_as_text(owner.get("/count-cards?lang=en").text, SQL + FORMULA)


def test_a_hostile_rating_comment_is_kept_as_typed_and_shown_as_text(
    owner: TestClient, tmp_path: Path
) -> None:
    book_sales()
    data_dir = tmp_path / "hub"
    app = create_app(TZ, today=lambda: dt.date(2026, 11, 24), data_dir=data_dir)
    receipt = link(data_dir, "K01-sale-2")
    comment = SCRIPT + SQL + FORMULA  # 80 characters: a comment may hold 200
    rated = TestClient(app, follow_redirects=False).post(
        f"{receipt}/rating", data={"stars": "1", "comment": comment}
    )
    assert rated.status_code == 303
    assert [r.comment for r in ReceiptRating.select()] == [comment]
    shown_as_text(TestClient(app).get(f"{receipt}?rated=1").text, comment)
    shown_as_text(owner.get("/ratings?day=2026-11-24").text, comment)


def test_a_hostile_message_template_is_kept_as_typed_shown_and_mailed_as_text(owner: TestClient) -> None:
    typed = {"subject_zh": SCRIPT + "{name}", "subject_en": SQL, "body_zh": ELEMENT + "{offer}\n" + FORMULA,
             "body_en": SCRIPT + "{name}", "action": "save"}  # fmt: skip
    assert owner.post("/messages/templates/welcome/email", data=typed).status_code == 303
    kept = templates.current("welcome", "email")
    assert (kept.subject_zh, kept.subject_en, kept.body_zh) == (
        SCRIPT + "{name}",
        SQL,
        ELEMENT + "{offer}\n" + FORMULA,
    )
    shown_as_text(owner.get("/messages/templates").text, ELEMENT)  # the overview shows each body's sample
    editor = owner.get("/messages/templates/welcome/email").text
    for text in (SCRIPT + "{name}", SQL, ELEMENT + "{offer}\n" + FORMULA):
        shown_as_text(editor, text)
    mail = html_mail(templates.compose("welcome", "email", templates.sample_facts(), "好邻居").body_zh)
    assert ELEMENT not in mail and "&lt;i id=&quot;pwn&quot;&gt;x&lt;/i&gt;满50减10券<br>" in mail  # as text
