"""The hub's scheduled jobs over a simulated month (clock injected, one check a day), and two
runners racing for one period. Members and sales come from real terminal databases through the
real ingest; every test runs on SQLite and on PostgreSQL.
"""

import datetime as dt
import email
import threading
from collections.abc import Iterator
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from hub.campaigns import auto
from hub.campaigns import runs as campaigns
from hub.db import transaction
from hub.db.backup import BACKUP_PUBLIC_KEY
from hub.db.sealing import MAGIC, make_keys
from hub.ingest.batch import ingest_batch
from hub.jobs import catalog, runner
from hub.jobs import settings as job_settings
from hub.jobs.models import JobRun
from hub.members import ledger as loyalty
from hub.members.models import CampaignMember, HubCoupon, HubLedgerEntry, HubMember
from hub.messaging import queue as messages
from hub.messaging import sender
from hub.messaging.channels import SmsGateway, is_stop
from hub.messaging.models import MemberMessage, SendLog
from hub.messaging.sms_simulator import SmsSimulator
from hub.web.app import create_app
from kiosk.devtools.ports import free_port
from kiosk.domain.cart import Cart
from kiosk.domain.loyalty import (
    POINTS,
    EarnContext,
    Kind,
    LoyaltyRules,
    MemberPayment,
    price_cart,
    sale_ledger,
)
from kiosk.domain.loyalty.campaigns import CampaignSpec, CouponTemplate, Target, in_holdout
from kiosk.domain.loyalty.rules import ExpiryRule
from kiosk.store import members
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.sync.schema import batch
from tests.hub.members.test_loyalty import CONSENT, KEY, RICE, TZ, on_terminal

DAY1 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=TZ)
RULES = LoyaltyRules(expiry=ExpiryRule(months=1, remind_days=7))
GIFT = CouponTemplate(
    kind="threshold", name_zh="生日满50减10", min_spend_fen=5000, off_fen=1000, valid_days=30
)


def held_out_member() -> str:
    """A member id the birthday campaign's 10% holdout draws (found, not assumed)."""
    return next(f"m-h{n}" for n in range(1000) if in_holdout("c-birthday", f"m-h{n}", 10))


def received_member() -> str:
    return next(f"m-b{n}" for n in range(1000) if not in_holdout("c-birthday", f"m-b{n}", 10))


@pytest.fixture(autouse=True)
def hub_rules() -> Iterator[None]:
    loyalty.configure(RULES, KEY)
    yield
    loyalty.configure(LoyaltyRules(), None)


def member_sale(terminal: Terminal, member_id: str, sale_id: str, when: dt.datetime) -> None:
    """One bag of rice (¥50) sold to ``member_id`` at ``when``, paid in cash."""
    priced = price_cart(Cart().add(RICE, 1), (), when, member_id)
    stamp = members.new_stamp(terminal, when)
    earned, entries = sale_ledger(
        member_id, sale_id, priced, MemberPayment(), RULES, EarnContext(day=when.date()), stamp
    )
    sale = members.MemberSale(member_id, sale_id, priced, tuple(entries), earned.points)
    commit_sale(
        Cart().add(RICE, 1), [PaymentIntent("cash", priced.total_fen)], terminal, when, sale_id, member=sale
    )


def shop(terminal: Terminal) -> None:
    """m-1 earns 500 points on day 1 and is born on 15 December; the dormant one shopped weekly
    until 10 November; the held-out one is also born on 15 December."""
    born = dt.date(1990, 12, 15)
    start = DAY1 - dt.timedelta(days=60)
    members.register_member(
        KEY, terminal, start, "13800000001", CONSENT, birthday=born, member_id=received_member()
    )
    members.register_member(KEY, terminal, start, "13800000002", CONSENT, member_id="m-dormant")
    members.register_member(
        KEY, terminal, start, "13800000003", CONSENT, birthday=born, member_id=held_out_member()
    )
    stamp = members.new_stamp(terminal, DAY1)
    gift = stamp.entry(member_id=received_member(), account=POINTS, kind=Kind.ADJUST, amount=500)
    members.adjust(terminal, DAY1, [gift], "opening gift")
    for n, day in enumerate((20, 27, 34, 41)):  # 20 Oct, 27 Oct, 3 Nov, 10 Nov: a weekly shopper
        member_sale(
            terminal,
            "m-dormant",
            f"s-{n}",
            dt.datetime(2026, 10, 1, 11, tzinfo=TZ) + dt.timedelta(days=day - 1),
        )


def ingest(device: str, events: list) -> None:  # type: ignore[type-arg]
    ingest_batch(f"pos/{device}/up/events", batch(device, events), DAY1, TZ)


def campaign(campaign_id: str, trigger: str, greeting: str = "") -> None:
    spec = CampaignSpec(
        name_zh=campaign_id, coupon=GIFT, target=Target(kind="all"), trigger=trigger, greeting_zh=greeting
    )
    campaigns.create_campaign(spec, "owner", DAY1 - dt.timedelta(days=1), campaign_id=campaign_id)


class Inbox:
    """What a real SMTP server (aiosmtpd) received: (recipients, parsed mail)."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], email.message.Message]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        self.mails.append(
            (list(envelope.rcpt_tos), email.message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


def mail_id(kind: str, occasion: str) -> str:
    """The Message-ID of m-1's mail about ``kind`` on ``occasion``: the queue's message id."""
    return f"<{messages.message_id(kind, occasion, received_member(), 'email')}@member-kiosk>"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=free_port())
    server.start()
    yield inbox, server.port
    server.stop()


def test_a_simulated_month_runs_every_job_once_a_day(hub_db, tmp_path: Path, smtp, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    ingest("K01", on_terminal(tmp_path, "K01", shop))
    campaign("c-birthday", "birthday", greeting="生日快乐！送您一张满50减10券。")
    campaign("c-winback", "winback")
    consents = {received_member(): (True, "m1@example.com"), held_out_member(): (True, "held@example.com"),
                "m-dormant": (False, "away@example.com")}  # fmt: skip
    for member_id, (granted, address) in consents.items():
        messages.set_consent(member_id, granted, "marketing-2026-12", "kiosk", "member", DAY1, email=address)
    with SmsSimulator("sim-token") as gateway:
        monkeypatch.setenv("HUB_SMS_TOKEN", "sim-token")
        channels = {"smtp_host": "127.0.0.1", "smtp_port": str(port), "smtp_from": "shop@example.com",
                    "sms_url": gateway.url, "shop_name": "好邻居"}  # fmt: skip
        for key, value in channels.items():
            job_settings.put(key, value)
        jobs = [j for j in catalog.all_jobs() if j.name != "backup"]  # the backup job has its own test
        for day in range(32):  # 1 December 2026 to 1 January 2027, one check at 10:00 each day
            now = DAY1 + dt.timedelta(days=day)
            outcomes = runner.run_due(jobs, runner.JobContext(now, TZ, data_dir=tmp_path))
            assert sorted(o.status for o in outcomes) == ["ok"] * len(jobs), (now, outcomes)
            later = runner.run_due(jobs, runner.JobContext(now + dt.timedelta(hours=1), TZ))
            assert [(o.job, o.status) for o in later] == [("send_messages", "ok")]  # only the sender is due

    # exactly the consented member who received: the birthday greeting, then the expiry reminder
    assert [(to, mail["Subject"], mail["Message-ID"]) for to, mail in inbox.mails] == [
        (
            ["m1@example.com"],
            "c-birthday",
            mail_id("campaign:c-birthday", "2026"),
        ),
        (
            ["m1@example.com"],
            "好邻居：积分到期提醒",
            mail_id("expiry_reminder", "2027-01-01"),
        ),
    ]
    # the built-in templates (the owner edited none); m-1 gave no name
    reminder = "会员，您好：\n\n您有 500 积分将于 1月1日 过期，欢迎到店使用。\n\n好邻居"
    assert inbox.mails[1][1].get_body(("plain",)).get_content().replace("\r\n", "\n").strip() == reminder
    assert [(sms["to"], sms["text"]) for sms in gateway.delivered] == [
        ("+8613800000001", "【好邻居】生日快乐！送您一张满50减10券。 回T退订"),  # the campaign's own greeting
        ("+8613800000001", "【好邻居】会员，您有 500 积分将于 1月1日 过期，欢迎到店使用。回T退订"),
    ]
    assert sorted((m.channel, m.status, m.attempts) for m in MemberMessage.select()) == [
        ("email", "sent", 1), ("email", "sent", 1), ("sms", "sent", 1), ("sms", "sent", 1)
    ]  # fmt: skip
    assert JobRun.select().count() == 32 * len(jobs) + 32
    expired = HubLedgerEntry.select().where(HubLedgerEntry.kind == Kind.EXPIRE)
    # the dormant member's points (earned 20 Oct to 10 Nov, one month each): two overdue lots on
    # the first check, then each on its day; m-1's 500 of 1 December on 1 January
    assert sorted((e.at[:10], e.member_id, e.amount) for e in expired) == [
        ("2026-12-01", "m-dormant", -50),
        ("2026-12-01", "m-dormant", -50),
        ("2026-12-03", "m-dormant", -50),
        ("2026-12-10", "m-dormant", -50),
        ("2027-01-01", received_member(), -500),
    ]
    reminders = MemberMessage.select().where(MemberMessage.kind == "expiry_reminder")
    # the dormant member said no to messages: their expiring points are not reminded
    assert sorted((str(m.queued_at)[:10], m.member_id, m.channel) for m in reminders) == [
        ("2026-12-25", received_member(), "email"),
        ("2026-12-25", received_member(), "sms"),
    ]
    mine = reminders.where(MemberMessage.member_id == received_member()).first()
    assert mine.body_zh == reminder

    birthday = HubCoupon.select().where(HubCoupon.campaign_id == "c-birthday")
    assert [(c.member_id, str(c.issued_at)[:10]) for c in birthday] == [(received_member(), "2026-12-15")]
    groups = CampaignMember.select().where(CampaignMember.campaign_id == "c-birthday")
    assert sorted((g.member_id, g.occasion, g.group) for g in groups) == sorted(
        [(received_member(), "2026", "target"), (held_out_member(), "2026", "holdout")]
    )
    greetings = MemberMessage.select().where(MemberMessage.kind == "campaign:c-birthday")
    assert sorted(m.member_id for m in greetings) == [received_member()] * 2  # email and SMS, not the holdout
    assert MemberMessage.select().where(MemberMessage.member_id == held_out_member()).count() == 0

    winback = HubCoupon.select().where(HubCoupon.campaign_id == "c-winback")
    assert [(c.member_id, str(c.issued_at)[:10]) for c in winback] == [("m-dormant", "2026-12-01")]
    occasions = CampaignMember.select().where(CampaignMember.campaign_id == "c-winback")
    assert [(g.member_id, g.occasion) for g in occasions] == [("m-dormant", "after:2026-11-10")]


def test_no_marketing_consent_no_message(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", shop))
    messages.set_consent(received_member(), False, "marketing-2026-12", "my-data", "member", DAY1)
    when = dt.datetime(2026, 12, 26, 10, tzinfo=TZ)
    outcome = runner.run_job(catalog.job_named("expiry_reminders"), runner.JobContext(when, TZ))
    assert (outcome.status, outcome.result.figures if outcome.result else None) == (
        "ok",
        {"reminders": 1, "queued": 0},
    )
    assert MemberMessage.select().count() == 0


def test_two_runners_racing_run_a_period_once(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", shop))
    job = catalog.job_named("points_expiry")
    when = dt.datetime(2027, 1, 1, 10, tzinfo=TZ)
    start = threading.Barrier(2)
    outcomes: list[runner.Outcome] = []

    def race() -> None:
        start.wait()
        try:
            outcomes.append(runner.run_job(job, runner.JobContext(when, TZ)))
        finally:
            hub_db.close()  # this thread's own connection

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o.status for o in outcomes) == ["ok", "taken"]
    # m-1's lot and the dormant member's four, each written once
    assert HubLedgerEntry.select().where(HubLedgerEntry.kind == Kind.EXPIRE).count() == 5
    assert [(r.job, r.period, r.status, r.attempts) for r in JobRun.select()] == [
        ("points_expiry", "2027-01-01", "ok", 1)
    ]


def test_a_failed_job_is_retried_then_shown(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []

    def broken(ctx: runner.JobContext) -> runner.JobResult:
        calls.append(ctx.now.isoformat())
        raise RuntimeError("printer on fire")

    job = runner.Job("broken", "坏任务", "Broken", broken, hour=3)
    for minute in range(5):
        runner.run_due([job], runner.JobContext(DAY1 + dt.timedelta(minutes=minute), TZ))
    assert len(calls) == runner.MAX_ATTEMPTS
    [failed] = runner.failed_jobs()
    assert (failed.job, failed.period, failed.status, failed.attempts, failed.summary) == (
        "broken",
        "2026-12-01",
        "failed",
        3,
        "RuntimeError: printer on fire",
    )


def test_a_dry_run_changes_nothing(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", shop))
    when = dt.datetime(2027, 1, 1, 10, tzinfo=TZ)
    outcome = runner.run_job(catalog.job_named("points_expiry"), runner.JobContext(when, TZ, dry_run=True))
    assert (outcome.status, outcome.summary) == (
        "dry-run",
        "2 位会员 700 积分过期 / 700 points expired for 2 members",
    )
    assert HubLedgerEntry.select().where(HubLedgerEntry.kind == Kind.EXPIRE).count() == 0
    assert JobRun.select().count() == 0
    assert HubMember.select().count() == 3


def test_the_backup_job_seals_a_copy_and_keeps_the_newest(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", shop))
    job = catalog.job_named("backup")
    job_settings.put("backup_keep", "2")
    first = runner.run_job(job, runner.JobContext(DAY1, TZ, data_dir=tmp_path))
    assert first.status == "failed" and "hub backup-key" in first.summary  # no owner key yet
    make_keys(tmp_path / "owner.key", tmp_path / BACKUP_PUBLIC_KEY)
    for day in range(1, 5):
        outcome = runner.run_job(job, runner.JobContext(DAY1 + dt.timedelta(days=day), TZ, data_dir=tmp_path))
        assert outcome.status == "ok", outcome.summary
    kept = sorted(p.name for p in (tmp_path / "backups").iterdir())
    suffix = "db" if hub_db.__class__.__name__ == "SqliteDatabase" else "pgdump"
    # the newest two, and the month's first (the retention rule keeps one a month for a year)
    assert kept == [f"hub-202612{d:02d}-100000.{suffix}.sealed" for d in (2, 4, 5)]
    sealed = (tmp_path / "backups" / kept[-1]).read_bytes()
    assert sealed.startswith(MAGIC) and b"sale" not in sealed


@pytest.mark.parametrize("hub_db_url", ["sqlite"], indirect=True)  # no database work: once is enough
def test_the_backup_job_without_a_key_says_what_to_do_in_both_languages_without_a_traceback(
    hub_db, hub_db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from hub.cli import main as hub_main
    from hub.reports.overview import alerts

    public = tmp_path / BACKUP_PUBLIC_KEY
    reason = (
        f"没有备份公钥 {public}，未做备份。请在 hub 上运行 hub backup-key --private <私钥文件>，"
        f"并把私钥保存在 hub 以外的地方 / no backup key ({public} is missing): no backup was taken. "
        "Run `hub backup-key --private <file>` on the hub and keep the private key away from it"
    )
    job = catalog.job_named("backup")
    dry = runner.run_job(job, runner.JobContext(DAY1, TZ, dry_run=True, data_dir=tmp_path))
    assert (dry.status, dry.summary) == ("failed", reason)
    outcome = runner.run_job(job, runner.JobContext(DAY1, TZ, data_dir=tmp_path))
    assert (outcome.status, outcome.summary) == ("failed", reason)
    assert JobRun.get(JobRun.job == "backup").summary == reason  # what /jobs shows
    assert "Traceback" not in caplog.text and "cannot run: no backup key" in caplog.text
    assert [(a.link, a.en) for a in alerts(DAY1) if a.link == "/jobs"] == [
        ("/jobs", "Scheduled job failed: backup (2026-12-01, 1 attempt(s))")
    ]
    assert not (tmp_path / "backups").exists()  # nothing half-made
    cli = CliRunner().invoke(
        hub_main, ["jobs", "run", "backup", "--db", hub_db_url, "--data-dir", str(tmp_path / "other")]
    )
    assert cli.exit_code == 1 and "no backup key" in cli.output and "Traceback" not in cli.output


def test_a_busy_gateway_is_retried_and_a_repeated_send_is_one_sms(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", shop))
    messages.set_consent(received_member(), True, "marketing-2026-12", "kiosk", "member", DAY1)
    with transaction():
        messages.queue(
            received_member(), "note", "1", ("店庆三天", "Three-day sale"), DAY1, channels=("sms",)
        )
    with SmsSimulator() as gateway:
        sms = {"sms": SmsGateway(gateway.url, "sim-token", "好邻居")}
        gateway.fail_next = 2
        first = sender.send_due(DAY1, TZ, sms)
        too_early = sender.send_due(DAY1 + dt.timedelta(minutes=4), TZ, sms)  # back-off: 5 minutes
        second = sender.send_due(DAY1 + dt.timedelta(minutes=5), TZ, sms)  # then 30 minutes
        third = sender.send_due(DAY1 + dt.timedelta(minutes=35), TZ, sms)
        assert [(r.sent, r.retry) for r in (first, too_early, second, third)] == [
            (0, 1),
            (0, 0),
            (0, 1),
            (1, 0),
        ]
        [row] = MemberMessage.select()
        assert (row.status, row.attempts, row.provider_id) == ("sent", 3, "sim-1")
        assert [log.ok for log in SendLog.select().order_by(SendLog.id)] == [False, False, True]
        # a sender that died after the gateway took the SMS, before recording it: sent again, one SMS
        MemberMessage.update(status="sending", next_try_at=DAY1).execute()
        again = sender.send_due(DAY1 + dt.timedelta(hours=2), TZ, sms)
        assert (again.sent, len(gateway.delivered), gateway.requests) == (1, 1, 4)


def test_stop_replies_withdraw_consent_and_nothing_more_is_queued(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", shop))
    messages.set_consent(received_member(), True, "marketing-2026-12", "kiosk", "member", DAY1)
    with transaction():
        assert messages.stop_by_reply("13800000001", "好的", DAY1) is None
        assert messages.stop_by_reply("+86 138 0000 0001", " 退订 ", DAY1) == received_member()
        assert messages.stop_by_reply("13899999999", "T", DAY1) is None  # no such member
    assert not messages.has_consent(received_member())
    assert messages.queue(received_member(), "note", "2", ("新品", "New"), DAY1) == 0
    assert is_stop("td") and is_stop("STOP") and not is_stop("stop it")


def test_the_marketing_answer_given_at_the_kiosk_reaches_the_hub(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def join(terminal: Terminal) -> None:
        for n, answer in enumerate((True, False, None)):
            consent = members.Consent(
                "privacy-2026-01", "S01/K01", marketing=answer, lang="en" if n else "zh"
            )
            members.register_member(KEY, terminal, DAY1, f"1370000000{n}", consent, member_id=f"m-{answer}")

    ingest("K01", on_terminal(tmp_path, "K01", join))
    answers = {m: messages.consent_state(m) for m in ("m-True", "m-False", "m-None")}
    assert {
        m: (row.granted, row.version, row.where, row.lang) if row else None for m, row in answers.items()
    } == {
        "m-True": (True, "kiosk-marketing-2026-12", "S01/K01", "zh"),
        "m-False": (False, "kiosk-marketing-2026-12", "S01/K01", "en"),  # joined on the English screen
        "m-None": None,  # not asked (an older terminal): nothing is sent until the member says yes
    }
    assert [messages.has_consent(m) for m in answers] == [True, False, False]


def test_the_gateway_forwards_a_stop_reply_to_the_hub(hub_db, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", shop))
    messages.set_consent(received_member(), True, "marketing-2026-12", "kiosk", "member", DAY1)
    monkeypatch.setenv("HUB_SMS_TOKEN", "sim-token")
    client = TestClient(create_app(TZ))
    hook = "/api/v1/sms/inbound"
    assert client.post(hook, json={"from": "+8613800000001", "text": "T"}).status_code == 401
    wrong = client.post(
        hook, json={"from": "+8613800000001", "text": "T"}, headers={"Authorization": "Bearer x"}
    )
    assert wrong.status_code == 401 and messages.has_consent(received_member())
    auth = {"Authorization": "Bearer sim-token"}
    assert client.post(hook, content=b"T", headers=auth).status_code == 422
    assert client.post(hook, json={"from": "+8613800000001", "text": "谢谢"}, headers=auth).json() == {
        "stopped": False
    }
    assert client.post(hook, json={"from": "+8613800000001", "text": "退订"}, headers=auth).json() == {
        "stopped": True
    }
    assert not messages.has_consent(received_member())


def test_a_managers_automatic_campaign_issues_and_sends_only_to_their_stores_members(
    hub_db, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", shop))  # every member joined at S01
    for store in ("S01", "S02"):
        spec = CampaignSpec(name_zh=store, coupon=GIFT, target=Target(kind="all"), trigger="winback",
                            greeting_zh="好久不见", holdout_percent=0)  # fmt: skip
        campaigns.create_campaign(spec, f"manager-{store}", DAY1, f"c-{store}", stores=frozenset({store}))
    messages.set_consent(
        "m-dormant", True, "marketing-2026-12", "kiosk", "member", DAY1, email="a@example.com"
    )
    with transaction():
        auto.run_automatic(DAY1, TZ)
    issued = HubCoupon.select(HubCoupon.campaign_id, HubCoupon.member_id)
    assert list(issued.tuples()) == [("c-S01", "m-dormant")]
    sent = sorted((m.kind, m.member_id, m.channel) for m in MemberMessage.select())
    assert sent == [("campaign:c-S01", "m-dormant", "email"), ("campaign:c-S01", "m-dormant", "sms")]
