"""The hub's scheduled jobs: what each does, and when (local time of the shop).

Every job is idempotent by itself and runs in the runner's transaction (:mod:`hub.jobs.runner`);
in a dry run it changes nothing the database cannot roll back (no files, no sends).
"""

import datetime as dt

from peewee import fn

from hub.accounts.audit import anchor as audit_anchor
from hub.campaigns.auto import run_automatic
from hub.db import database
from hub.db.backup import BACKUP_PUBLIC_KEY, BackupUnavailable, take_backup
from hub.db.sealing import SealError
from hub.jobs import settings as job_settings
from hub.jobs.models import JobRun
from hub.jobs.runner import RUNNER_ID, Job, JobContext, JobProblem, JobResult
from hub.members import data_keys as member_data_keys
from hub.members.book import erase_member, evaluate_tiers, member_balances
from hub.members.expiry import expire_due_points
from hub.members.expiry_reminders import expiring_points
from hub.members.key_store import key_store_of
from hub.members.models import HubLedgerEntry, HubMember, MemberSale
from hub.members.settings import settings
from hub.members.tag_rules import apply_rules
from hub.messaging import queue as messages
from hub.messaging import sender, templates
from hub.reports import together
from hub.rules import store as rules_store
from kiosk.domain.loyalty import PRINCIPAL
from kiosk.domain.loyalty.dates import add_months
from kiosk.domain.loyalty.tiers import is_evaluation_date


def points_expiry(ctx: JobContext) -> JobResult:
    """积分过期: write the expire entries due today (oldest points first)."""
    if not settings.rules.expiry.months:
        return JobResult("积分永不过期，无需处理", "points never expire: nothing to do")
    done = expire_due_points(ctx.now.astimezone(ctx.tz))
    return JobResult(
        f"{done.members} 位会员 {done.points} 积分过期",
        f"{done.points} points expired for {done.members} members",
        {"members": done.members, "entries": done.entries, "points": done.points},
    )


def expiry_reminders(ctx: JobContext) -> JobResult:
    """积分到期提醒: tell members (who agreed to messages) whose points expire within the reminder days."""
    days = settings.rules.expiry.remind_days
    found = expiring_points(ctx.today, days)
    queued = 0
    shop = job_settings.get("shop_name")
    for reminder in found:
        date = reminder.expires_on
        facts = templates.Facts(
            name=messages.masked_name(reminder.member_id), points=reminder.points, expiry=date
        )
        store = messages.home_store(reminder.member_id)
        texts = {
            c: templates.compose("expiry_reminder", c, facts, shop, store=store) for c in messages.CHANNELS
        }
        queued += messages.queue_rendered(
            reminder.member_id, "expiry_reminder", date.isoformat(), texts, ctx.now
        )
    return JobResult(
        f"{len(found)} 条到期提醒，新排队 {queued} 条消息",
        f"{len(found)} expiring balances, {queued} new messages queued",
        {"reminders": len(found), "queued": queued},
        tuple(f"{r.member_id} {r.expires_on} {r.points}" for r in found),
    )


TIER_CATCH_UP_DAYS = 31  # an evaluation date the hub was off on is evaluated within a month


def _evaluation_due(today: dt.date) -> dt.date | None:
    """Today when it is an evaluation date; else the latest one of the last month that has no run
    (the hub was off that day), which is then marked done in the job's transaction."""
    if is_evaluation_date(today, settings.rules.tiers):
        return today
    for back in range(1, TIER_CATCH_UP_DAYS + 1):
        day = today - dt.timedelta(days=back)
        if not is_evaluation_date(day, settings.rules.tiers):
            continue
        ran = JobRun.select().where(JobRun.job == "tier_evaluation", JobRun.period == day.isoformat())
        if ran.exists():
            return None
        stamp = dt.datetime.now(dt.UTC)
        JobRun.insert(
            job="tier_evaluation", period=day.isoformat(), status="ok", claim="catch-up", runner=RUNNER_ID,
            started_at=stamp, finished_at=stamp, summary=f"caught up on {today}",
        ).execute()  # fmt: skip
        return day
    return None


def tier_evaluation(ctx: JobContext) -> JobResult:
    """等级评定: on evaluation dates, grace then downgrade (upgrades happen at each sale); an
    evaluation date missed while the hub was off is evaluated, as of that date, at the next run."""
    day = _evaluation_due(ctx.today)
    if day is None:
        return JobResult("今天不是等级评定日", "not an evaluation date")
    changed = evaluate_tiers(day)
    late = f"（补做 {day} 的评定）" if day != ctx.today else ""
    late_en = f" (the evaluation of {day}, caught up)" if day != ctx.today else ""
    return JobResult(
        f"{len(changed)} 位会员等级变化{late}",
        f"{len(changed)} members changed tier{late_en}",
        {"changed": len(changed)},
        tuple(f"{member} -> {tier}" for member, tier in sorted(changed.items())),
    )


def campaigns(ctx: JobContext) -> JobResult:
    """自动营销: birthday, anniversary, holiday, win-back, near-tier and thank-you campaigns."""
    done = run_automatic(ctx.now, ctx.tz)
    return JobResult(
        f"{done.campaigns} 个自动活动：发券 {done.issued} 张，对照组 {done.held_out} 人",
        f"{done.campaigns} automatic campaigns: {done.issued} coupons issued, {done.held_out} held out",
        {
            "campaigns": done.campaigns,
            "concerned": done.concerned,
            "issued": done.issued,
            "held_out": done.held_out,
            "messages": done.messages,
        },
    )


def behaviour_tags(ctx: JobContext) -> JobResult:
    """自动标签: the owner's tag rules (bought X N times in D days) given and taken away."""
    done = apply_rules(ctx.today, ctx.now)
    return JobResult(
        f"{done.rules} 条标签规则：新加 {done.added} 个标签，移除 {done.removed} 个",
        f"{done.rules} tag rules: {done.added} tags given, {done.removed} taken away",
        {"rules": done.rules, "added": done.added, "removed": done.removed},
        tuple(f"{tag}: {n}" for tag, n in sorted(done.members_by_tag.items())),
    )


def bought_together(ctx: JobContext) -> JobResult:
    """常一起买: the association rules from the last 90 days of baskets, recomputed."""
    found = together.recompute(ctx.today, ctx.now)
    return JobResult(
        f"{len(found)} 条“常一起买”规则",
        f"{len(found)} often-bought-together rules",
        {"rules": len(found)},
    )


def inactive_members(today: dt.date, months: int) -> tuple[list[str], list[str]]:
    """Members with no sale and no ledger entry for ``months`` months (joined before that):
    (to anonymise, kept because they still hold stored value)."""
    cutoff = add_months(today, -months)
    recent_sale = {
        m
        for (m,) in MemberSale.select(MemberSale.member_id)
        .where(MemberSale.day > cutoff.isoformat())
        .tuples()
    }
    last_entry = dict(
        HubLedgerEntry.select(HubLedgerEntry.member_id, fn.MAX(HubLedgerEntry.at))
        .group_by(HubLedgerEntry.member_id)
        .tuples()
    )
    erase, keep = [], []
    query = HubMember.select(HubMember.id, HubMember.created_at).where(
        HubMember.merged_into.is_null(), HubMember.erased_at.is_null()
    )
    for member_id, created_at in query.order_by(HubMember.id).tuples():
        latest = max(created_at, last_entry.get(member_id) or "")
        if member_id in recent_sale or latest[:10] > cutoff.isoformat():
            continue
        if member_balances(member_id).get(PRINCIPAL, 0) > 0:
            keep.append(member_id)  # their own money: never anonymise it away
        else:
            erase.append(member_id)
    return erase, keep


def retention(ctx: JobContext) -> JobResult:
    """数据保留: anonymise members inactive longer than the owner's period (off until set)."""
    months = job_settings.get_int("retention_months")
    if not months:
        return JobResult("未设置保留期限，不处理", "no retention period set: nothing anonymised")
    erase, keep = inactive_members(ctx.today, months)
    for member_id in erase:
        erase_member(member_id, ctx.now)
    verb = ("将匿名化", "would anonymise") if ctx.dry_run else ("已匿名化", "anonymised")
    return JobResult(
        f"{verb[0]} {len(erase)} 位超过 {months} 个月未活动的会员；{len(keep)} 位仍有储值余额，保留",
        f"{verb[1]} {len(erase)} members inactive over {months} months; kept {len(keep)} with stored value",
        {"anonymised": len(erase), "kept": len(keep)},
        tuple(erase),
    )


def backup(ctx: JobContext) -> JobResult:
    """备份: a consistent copy of the hub database sealed for the owner's key
    (``<data dir>/backup.pub``, :func:`hub.db.backup.take_backup`) in ``<data dir>/backups``,
    kept by the retention rule (the newest ``backup_keep``, and one a month for a year)."""
    folder, public = ctx.data_dir / "backups", ctx.data_dir / BACKUP_PUBLIC_KEY
    if not public.exists():  # the owner has not made the backup keys: say so, every night, until they do
        raise JobProblem(
            f"没有备份公钥 {public}，未做备份。请在 hub 上运行 hub backup-key --private <私钥文件>，"
            "并把私钥保存在 hub 以外的地方",
            f"no backup key ({public} is missing): no backup was taken. Run `hub backup-key --private "
            "<file>` on the hub and keep the private key away from it",
        )
    if ctx.dry_run:
        return JobResult(f"将备份到 {folder}", f"would back up to {folder}", {}, (str(folder),))
    try:
        done = take_backup(
            database.obj,
            folder,
            public,
            ctx.now.astimezone(ctx.tz),
            job_settings.get_int("backup_keep"),
            key_store_of(ctx.data_dir),
        )
    except (SealError, BackupUnavailable) as exc:  # their messages are in both languages already
        raise JobProblem(f"备份未完成：{exc}", f"backup not taken: {exc}") from exc
    newest = audit_anchor()  # sealed into this backup; printed so the owner can keep it elsewhere too
    mark = f"; audit anchor {newest}" if newest else ""
    return JobResult(
        f"已备份到 {done.path}（{done.size} 字节），删除旧备份 {len(done.removed)} 个{mark}",
        f"backed up to {done.path} ({done.size} bytes), {len(done.removed)} old backups removed{mark}",
        {"bytes": done.size, "removed": len(done.removed)},
    )


def data_keys(ctx: JobContext) -> JobResult:
    """会员数据密钥: members registered before data keys each get one, in batches (docs/security.md,
    "Crypto-shredding"); nothing to do once every member has one."""
    key, store = settings.key, settings.key_store
    if key is None or store is None:
        return JobResult(
            "没有业务密钥或会员密钥库，无需处理", "no business key or member key store: nothing to do", {}
        )
    if ctx.dry_run:
        left = member_data_keys.without_data_key()
        return JobResult(
            f"将为 {left} 位会员生成数据密钥", f"would give {left} members a data key", {"left": left}
        )
    done = member_data_keys.give_all(key, store)
    return JobResult(
        f"已为 {done.moved} 位会员生成数据密钥，无法读取 {len(done.unreadable)} 位",
        f"{done.moved} members given a data key, {len(done.unreadable)} unreadable",
        {"moved": done.moved, "unreadable": len(done.unreadable)},
    )


def send_messages(ctx: JobContext) -> JobResult:
    """发送消息: the queued messages through e-mail and SMS, consent checked again, retried."""
    done = sender.send_due(ctx.now, ctx.tz, sender.channels_from_settings(), ctx.dry_run)
    if ctx.dry_run:
        return JobResult(
            f"将发送 {len(done.lines)} 条消息",
            f"would send {len(done.lines)} messages",
            {},
            tuple(done.lines),
        )
    return JobResult(
        f"已发送 {done.sent} 条，稍后重试 {done.retry} 条，失败 {done.failed} 条，跳过 {done.skipped} 条",
        f"{done.sent} sent, {done.retry} to retry, {done.failed} failed, {done.skipped} skipped",
        {"sent": done.sent, "retry": done.retry, "failed": done.failed, "skipped": done.skipped,
         "postponed": done.postponed},
    )  # fmt: skip


JOBS: list[Job] = [
    Job("data_keys", "会员数据密钥", "Member data keys", data_keys, hour=1, transactional=False),
    Job("backup", "数据备份", "Backup", backup, hour=2),
    Job("points_expiry", "积分过期", "Points expiry", points_expiry, hour=3),
    Job("tier_evaluation", "等级评定", "Tier evaluation", tier_evaluation, hour=3),
    Job("retention", "不活跃会员匿名化", "Retention", retention, hour=4),
    Job("bought_together", "常一起买", "Bought together", bought_together, hour=5),
    Job("behaviour_tags", "自动标签", "Behaviour tags", behaviour_tags, hour=8),  # before campaigns
    Job("expiry_reminders", "积分到期提醒", "Expiry reminders", expiry_reminders, hour=9),
    Job("campaigns", "自动营销活动", "Automatic campaigns", campaigns, hour=9),
    Job("send_messages", "发送消息", "Send messages", send_messages, every_minutes=5, transactional=False),
]


def all_jobs() -> list[Job]:
    """Every job the hub runs, in the order a check runs them."""
    return list(JOBS)


def job_named(name: str) -> Job:
    """The job called ``name``; KeyError lists the names that exist."""
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(f"no job {name!r}; jobs: {', '.join(j.name for j in JOBS)} / 没有该任务")


def jobs_with_fresh_rules() -> list[Job]:
    """:func:`all_jobs`, after loading the owner's newest rules (saved by any hub process)."""
    rules_store.refresh()
    return all_jobs()
