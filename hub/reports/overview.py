"""The owner's home page figures: today and this week beside the same days last week, the terminals, alerts.

Every figure comes from the report summary rows (:mod:`hub.reports.summary`) and the small status
tables (terminals, quarantine, reconciliation), so the home page stays fast however long the
history is. Other parts of the hub add their own alerts through :data:`ALERT_SOURCES` (stock,
scheduled jobs) without this module importing them.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from peewee import fn

from hub.fleet import presence as fleet
from hub.ingest.models import Quarantine
from hub.jobs.runner import failed_jobs
from hub.members import reconciliation
from hub.members.models import HubMember
from hub.reports.queries import RangeSummary, range_summary


@dataclass(frozen=True)
class Period:
    """One block of the home page: a period's figures and the same days a week earlier."""

    key: str  # "today" or "week"
    first: dt.date
    last: dt.date
    now: RangeSummary
    before: RangeSummary
    new_members: int
    new_members_before: int

    @property
    def walk_ins(self) -> int:
        """Sales without a member."""
        return self.now.sales - self.now.member_sales


def change_pct(now: int, before: int) -> int | None:
    """The change from ``before`` to ``now`` in whole percent (rounded toward zero), None from zero."""
    if not before:
        return None
    return int((now - before) * 100 / before)


def new_members(first: dt.date, last: dt.date) -> int:
    """Members who joined from ``first`` to ``last`` (the terminal's local day of joining), merged ones not
    counted twice."""
    day = fn.SUBSTR(HubMember.created_at, 1, 10)
    return (
        HubMember.select()
        .where(day >= first.isoformat(), day <= last.isoformat(), HubMember.merged_into.is_null())
        .count()
    )


def periods(today: dt.date) -> list[Period]:
    """Today against the same weekday last week, and this week so far (Monday to today) against
    the same days of last week."""
    week = dt.timedelta(days=7)
    monday = today - dt.timedelta(days=today.weekday())
    out = []
    for key, first in (("today", today), ("week", monday)):
        out.append(
            Period(
                key,
                first,
                today,
                range_summary(first, today),
                range_summary(first - week, today - week),
                new_members(first, today),
                new_members(first - week, today - week),
            )
        )
    return out


@dataclass(frozen=True)
class Terminals:
    """How many terminals are online (synced lately, presence online) and which are not."""

    online: int
    offline: list[str]
    paper: list[tuple[str, str]]  # (device, printer state) for paper out or low


def terminals(now: dt.datetime) -> Terminals:
    """The fleet at a glance: a terminal is offline when it says so or has not synced lately."""
    online, offline, paper = 0, [], []
    for row in fleet.fleet(now):
        if row.state == "online" and not row.stale:
            online += 1
        else:
            offline.append(row.device)
        if row.printer in ("paper_out", "paper_low"):
            paper.append((row.device, row.printer))
    return Terminals(online, offline, paper)


@dataclass(frozen=True)
class Alert:
    """Something the owner should look at, with where to look."""

    kind: str
    zh: str
    en: str
    link: str
    severe: bool = True


# Other parts of the hub (stock, scheduled jobs) add ``(now) -> [Alert]`` functions here.
ALERT_SOURCES: list[Callable[[dt.datetime], list[Alert]]] = []


def alerts(now: dt.datetime, fleet_now: Terminals | None = None) -> list[Alert]:
    """Every alert, most urgent kinds first; each links to the page that resolves it."""
    seen = fleet_now or terminals(now)
    out = []
    if seen.offline:
        names = "、".join(seen.offline[:5]) + ("…" if len(seen.offline) > 5 else "")
        out.append(
            Alert(
                "offline",
                f"{len(seen.offline)} 台终端离线或未同步：{names}",
                f"{len(seen.offline)} terminal(s) offline or not syncing: {names.replace('、', ', ')}",
                "/fleet",
            )
        )
    for device, state in seen.paper:
        out_of = state == "paper_out"
        out.append(
            Alert(
                "paper",
                f"{device} 打印机{'缺纸' if out_of else '纸将用完'}",
                f"{device}: printer {'out of paper' if out_of else 'paper low'}",
                "/fleet",
                severe=out_of,
            )
        )
    quarantined = Quarantine.select().where(Quarantine.resolved_at.is_null()).count()
    if quarantined:
        out.append(
            Alert(
                "quarantine",
                f"{quarantined} 条消息在隔离区等待处理",
                f"{quarantined} message(s) waiting in quarantine",
                "/quarantine",
            )
        )
    open_items = reconciliation.counts()["open"]
    if open_items:
        out.append(
            Alert(
                "reconciliation",
                f"{open_items} 条对账事项待处理",
                f"{open_items} reconciliation item(s) open",
                "/reconciliation",
                severe=False,
            )
        )
    for job in failed_jobs():
        out.append(
            Alert(
                "job",
                f"定时任务失败：{job.job}（{job.period}，已试 {job.attempts} 次）",
                f"Scheduled job failed: {job.job} ({job.period}, {job.attempts} attempt(s))",
                "/jobs",
            )
        )
    for source in ALERT_SOURCES:
        out.extend(source(now))
    return out
