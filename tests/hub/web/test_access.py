"""Who may call what: every route declares a rule, and the rule holds for nobody, each role and a token."""

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.accounts import audit, sessions, users
from hub.accounts.models import Session
from hub.accounts.roles import role_permissions
from hub.api.member_snapshot import DeviceAuth
from hub.devtools.loyalty_story import LI, TZ, ZHANG, seed
from hub.members import ledger as loyalty
from hub.members.models import HubMember
from hub.web.app import create_app
from hub.web.auth import COOKIE, Public, SignedIn, Terminal, declared_routes
from kiosk.domain.loyalty import LoyaltyRules

# a value for every path parameter the hub has: none of these exists, so nothing real is touched
PARAMS = {
    "member_id": "nobody", "campaign_id": "nope", "item_id": "999999", "entry_id": "999999",
    "sku": "NOSKU", "version": "0.0.0", "name": "x.whl", "receipt_no": "S09-K09-1",
    "token": "not-a-token", "device": "K09", "staff_id": "st-nobody", "rule_id": "999999",
    "kind": "nokind", "channel": "nochannel",
}  # fmt: skip


@pytest.fixture(autouse=True)
def reset_rules() -> Iterator[None]:
    yield
    loyalty.configure(LoyaltyRules(), None)  # the loyalty story's seed installs its own rules


def routes(app):  # type: ignore[no-untyped-def]
    """(method, concrete path, rule) for every route and method but HEAD."""
    for path, methods, rules in declared_routes(app):
        assert len(rules) == 1, f"{sorted(methods)} {path} declares {len(rules)} rules: exactly one, please"
        for method in sorted(methods - {"HEAD"}):
            yield method, re.sub(r"\{(\w+)\}", lambda m: PARAMS[m.group(1)], path), rules[0]


def app_for(tmp_path: Path):  # type: ignore[no-untyped-def]
    passwd = tmp_path / "passwd"
    passwd.write_text("")
    return create_app(TZ, device_auth=DeviceAuth(passwd), data_dir=tmp_path / "data")


def test_every_route_declares_a_rule_and_nobody_gets_past_it(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    app = app_for(tmp_path)
    signed_in(app)  # an owner exists, so pages send nobody to /login rather than /setup
    nobody = TestClient(app, follow_redirects=False)
    kinds = {"public": 0, "terminal": 0, "signed in": 0}
    for method, path, rule in routes(app):
        answer = nobody.request(method, path)
        where = f"{method} {path} (anonymous)"
        assert answer.status_code != 500, where
        if isinstance(rule, SignedIn):
            kinds["signed in"] += 1
            if path.startswith("/api") or path.endswith(".json"):
                assert answer.status_code == 401, where
            else:
                assert answer.status_code == 303, where
                assert answer.headers["location"].startswith("/login?next="), where
        elif isinstance(rule, Terminal):
            kinds["terminal"] += 1
            assert answer.status_code == 401, where
        else:
            assert isinstance(rule, Public), where
            kinds["public"] += 1
            assert answer.status_code not in (401, 403) or (method, path) == ("POST", "/login"), where
    # the hub's public surface, counted: a new public route must be a decision, not an accident
    # public: /login and /setup (GET, POST), /healthz, /r/… (GET, POST rating), /my-data/… (GET, POST,
    # marketing), release files
    # terminal-like: the member snapshot (device credentials), the SMS gateway's reply and
    # delivery-receipt hooks (its token)
    assert kinds["public"] == 11 and kinds["terminal"] == 3 and kinds["signed in"] > 50


@pytest.mark.parametrize("role", ["owner", "manager", "accountant"])
def test_each_role_gets_exactly_what_the_matrix_gives(hub_db, tmp_path: Path, signed_in, role: str) -> None:  # type: ignore[no-untyped-def]
    app = app_for(tmp_path)
    client = signed_in(app, role, stores="S02" if role == "manager" else "", follow_redirects=False)
    granted = role_permissions(role)
    refused = []
    for method, path, rule in routes(app):
        if path == "/logout":
            continue  # it would end the session the walk goes on with (logout: test_login_...)
        answer = client.request(method, path)
        where = f"{method} {path} as {role}: {answer.status_code} {answer.text[:200]}"
        assert answer.status_code != 500, where
        if not isinstance(rule, SignedIn):
            continue
        needed = rule.needed(method)
        allowed = (needed is None or needed in granted) and not (role == "manager" and rule.by_store)
        if allowed:
            assert answer.status_code not in (401, 403) and "/login" not in answer.headers.get(
                "location", ""
            ), where
        else:
            assert answer.status_code == 403, where
            refused.append(f"{method} {path}")
    if role == "owner":
        assert refused == []
    if role == "accountant":
        assert "GET /reports" not in refused and "GET /reconciliation" not in refused
        assert "POST /reconciliation/999999/resolve" in refused and "GET /members" in refused
    if role == "manager":
        assert "POST /catalog" not in refused and "GET /members" not in refused
        assert "GET /fleet" in refused and "POST /rules" in refused and "GET /reports" in refused


def test_a_manager_sees_only_their_stores_members(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    seed(tmp_path)
    HubMember.update(home_store="S02").where(HubMember.id == LI).execute()
    assert HubMember.get_by_id(ZHANG).home_store == "S01"
    app = create_app(TZ)
    s02 = signed_in(app, "manager", stores="S02")
    assert s02.get(f"/members/{ZHANG}").status_code == 404
    assert s02.get(f"/api/v1/members/{ZHANG}").status_code == 404
    assert s02.get(f"/api/v1/members/{ZHANG}/ledger").status_code == 404
    assert s02.post(f"/members/{ZHANG}", data={"tags": "x"}).status_code == 404
    assert s02.get(f"/members/{LI}").status_code == 200
    listed = re.findall(r'<tr id="member-([^"]+)">', s02.get("/members").text)
    assert listed == [LI]
    merge = {"survivor": LI, "duplicate": ZHANG, "by": "x"}
    assert s02.post("/api/v1/members/merge", json=merge).status_code == 404
    assert s02.post(f"/api/v1/members/{ZHANG}/erase").status_code == 404
    assert HubMember.get_by_id(ZHANG).merged_into is None and HubMember.get_by_id(ZHANG).erased_at is None
    assert s02.get("/reports?store=S01").status_code == 403
    assert s02.get("/reports?store=S02").status_code == 200
    owner = signed_in(app)
    assert sorted(re.findall(r'<tr id="member-([^"]+)">', owner.get("/members").text)) == sorted(
        [m.id for m in HubMember.select().where(HubMember.merged_into.is_null())]
    )


def test_api_tokens_are_scoped_hashed_and_revocable(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC)
    bearer = sessions.issue_token("erp", "reports:read, members:read", "owner", now)
    assert bearer.startswith("hk_")
    token_id = bearer.removeprefix("hk_").split(".")[0]
    stored = sessions.tokens()[0]
    assert bearer.split(".")[1] not in stored.secret_hash and len(stored.secret_hash) == 64
    api = TestClient(create_app(TZ), headers={"Authorization": f"Bearer {bearer}"})
    assert api.get("/api/v1/reports/sales").status_code == 200
    assert api.get("/api/v1/attributes").status_code == 200
    refused = api.post("/api/v1/catalog", json={"sku": "x"})
    assert refused.status_code == 403
    assert (
        refused.json()["detail"]
        == "your role may not do this (catalog:write) / 您的角色无此权限（catalog:write）"
    )
    wrong = TestClient(create_app(TZ), headers={"Authorization": f"Bearer hk_{token_id}.guess"})
    assert wrong.get("/api/v1/reports/sales").status_code == 401
    assert sessions.revoke_token(token_id, "owner", now) is True
    assert api.get("/api/v1/reports/sales").status_code == 401
    assert [a["action"] for a in audit.trail(f"token:{token_id}")] == ["token.add", "token.revoke"]
    with pytest.raises(ValueError, match="unknown scope 'reports:delete'"):
        sessions.issue_token("bad", "reports:delete", "owner", now)


def test_login_cookie_lockout_and_audit(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    users.add("boss", "owner", "correct horse battery", "test", dt.datetime.now(dt.UTC))
    web = TestClient(create_app(TZ), base_url="https://hub.shop.lan", follow_redirects=False)
    assert web.get("/members").headers["location"] == "/login?next=%2Fmembers"
    ok = web.post("/login", data={"name": "boss", "password": "correct horse battery", "next": "/members"})
    assert (ok.status_code, ok.headers["location"]) == (303, "/members")
    cookie = ok.headers["set-cookie"]
    assert all(flag in cookie for flag in ("HttpOnly", "Secure", "SameSite=lax", "Max-Age=43200"))
    page = web.get("/members")
    assert page.status_code == 200 and '<span id="signed-in">boss</span>' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {"code": "shoe", "label_zh": "鞋码", "type": "text"}
    assert web.post("/members/attributes", data=form).status_code == 403  # no CSRF token
    foreign = web.post(
        "/members/attributes", data={**form, "csrf": csrf}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    assert web.post("/members/attributes", data={**form, "csrf": csrf, "by": "mallory"}).status_code == 303
    assert audit.trail("attribute:shoe")[0]["by"] == "boss"
    assert web.post("/logout", data={"csrf": csrf}).headers["location"] == "/login"
    assert web.get("/members").status_code == 303
    # never a redirect off the hub after signing in
    away = web.post(
        "/login", data={"name": "boss", "password": "correct horse battery", "next": "//evil.example"}
    )
    assert away.headers["location"] == "/"
    for _ in range(5):
        wrong = web.post("/login?lang=en", data={"name": "boss", "password": "guess"})
    assert wrong.status_code == 401
    assert re.search(r'id="problem">(.*?)<', wrong.text).group(1) == (  # type: ignore[union-attr]
        "Too many wrong passwords: the account is locked. Try again in 30 s."
    )
    locked = web.post("/login", data={"name": "boss", "password": "correct horse battery"})
    assert locked.status_code == 401 and "账号已暂时锁定" in locked.text
    actions = [a["action"] for a in audit.trail("account:boss")]
    assert actions == ["user.add", "login.ok", "login.ok", *["login.failed"] * 5, "login.locked"]


def test_sessions_expire_and_end_with_the_account(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    app = create_app(TZ)
    client = signed_in(app, follow_redirects=False)
    assert client.get("/members").status_code == 200
    Session.update(seen_at=dt.datetime.now(dt.UTC) - sessions.IDLE).execute()
    assert client.get("/members").status_code == 303
    assert Session.select().count() == 0
    other = signed_in(app, "accountant", follow_redirects=False)
    assert other.get("/reports").status_code == 200
    users.disable("accountant", "owner", dt.datetime.now(dt.UTC))
    assert other.get("/reports").status_code == 303
    with pytest.raises(users.AccountError, match="the last owner cannot be disabled"):
        users.disable("owner", "owner", dt.datetime.now(dt.UTC))


def test_first_run_needs_the_setup_code_and_closes_after(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    web = TestClient(create_app(TZ, data_dir=data), follow_redirects=False)
    assert web.get("/").headers["location"] == "/setup"
    assert web.get("/login").headers["location"] == "/setup"
    assert web.get("/setup").status_code == 200
    code = (data / "setup-code").read_text().strip()
    assert (data / "setup-code").stat().st_mode & 0o077 == 0
    form = {
        "code": "000000000000",
        "name": "boss",
        "password": "long enough pw",
        "password2": "long enough pw",
    }
    assert web.post("/setup", data=form).status_code == 403
    short = web.post("/setup?lang=en", data={**form, "code": code, "password": "short", "password2": "short"})
    assert short.status_code == 422 and "password too short: at least 10 characters" in short.text
    made = web.post("/setup", data={**form, "code": code})
    assert (made.status_code, made.headers["location"]) == (303, "/")
    assert web.get("/").status_code == 200
    assert not (data / "setup-code").exists()
    assert web.get("/setup").headers["location"] == "/login"
    assert [(a.name, a.role) for a in users.accounts()] == [("boss", "owner")]
    assert web.cookies.get(COOKIE)


def test_an_id_beyond_64_bits_is_a_clear_422_not_a_500(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(create_app(TZ))
    for path in ("/quarantine/{}/replay", "/reconciliation/{}/resolve", "/api/v1/reconciliation/{}/resolve"):
        answer = client.post(path.format(2**64), json={"note": "x", "by": "x"})
        assert answer.status_code == 422, path
        assert client.post(path.format(0), json={"note": "x", "by": "x"}).status_code == 422, path


def test_every_posted_form_carries_the_csrf_token() -> None:
    templates = Path(__file__).parents[3] / "hub" / "web" / "templates"
    # the public forms: signing in and the member's PIN have no session to ride on
    public = {"login.html", "setup.html", "my_data.html", "receipt.html"}  # receipt: the signed link
    missing = []
    for page in sorted(templates.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        for form in re.finditer(r'<form[^>]*method="post"[^>]*>(.{0,400})', text, re.S):
            if page.name not in public and 'name="csrf"' not in form.group(1):
                missing.append(f"{page.name}: {form.group(0)[:80]}")
    assert missing == []
