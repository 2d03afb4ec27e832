"""The home page: today and this week beside the same days last week, terminals and alerts with links."""

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

from hub.fleet import presence as fleet
from hub.ingest.batch import ingest_batch
from hub.ingest.models import Quarantine, Sale
from hub.jobs.models import JobRun
from hub.reports import overview
from hub.web.app import create_app
from kiosk.sync.schema import batch
from tests.events import sale_chain

TZ = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 11, 24)  # a Tuesday


def _sell() -> None:
    now = dt.datetime.now(dt.UTC)
    k01 = sale_chain("K01", 3, ts="2026-11-24T10:00:00.000+08:00")  # today
    ingest_batch("pos/K01/up/events", batch("K01", k01), now, TZ)
    last = sale_chain("K02", 2, ts="2026-11-17T18:30:00.000+08:00")  # the same Tuesday last week
    monday = sale_chain("K02", 1, start_seq=3, prev=last[-1]["hash"], ts="2026-11-23T09:00:00.000+08:00")
    older = sale_chain("K02", 1, start_seq=4, prev=monday[-1]["hash"], ts="2026-11-15T09:00:00.000+08:00")
    ingest_batch("pos/K02/up/events", batch("K02", last + monday + older), now, TZ)
    status = {"device": "K01", "state": "online", "printer": "paper_out"}
    fleet.record_status("pos/K01/status", json.dumps(status).encode(), now)
    Quarantine.create(topic="pos/K09/up/events", device="K09", reason="bad", payload="{}", received_at=now)


def _count(first: str, last: str) -> tuple[int, int]:
    sales = [s for s in Sale.select() if first <= s.day <= last]  # the raw rows, not the report code
    return len(sales), sum(s.total_fen for s in sales)


def test_today_and_week_beside_last_week_with_alerts(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    _sell()
    today, week = overview.periods(TODAY)
    assert (today.now.sales, today.now.total_fen) == _count("2026-11-24", "2026-11-24") == (3, 1800)
    assert (today.before.sales, today.before.total_fen) == _count("2026-11-17", "2026-11-17") == (2, 1200)
    assert (week.now.sales, week.before.sales) == (_count("2026-11-23", "2026-11-24")[0], 2) == (4, 2)
    assert overview.change_pct(today.now.total_fen, today.before.total_fen) == 50
    assert overview.change_pct(5, 0) is None

    client = signed_in(create_app(TZ, today=lambda: TODAY))
    html = client.get("/").text
    assert re.search(r'id="sales-total">¥18.00<', html) and re.search(r'id="week-count">4<', html)
    assert "▲ 50%" in html and "上周 ¥12.00" in html
    assert re.search(r'id="kiosks">1 / 1<', html)  # K01 online; K02 never sent a status
    kinds = re.findall(r'data-kind="(\w+)"><span>([^<]+)</span><a href="([^"]+)"', html)
    assert kinds == [
        ("offline", "1 台终端离线或未同步：K02", "/fleet"),
        ("paper", "K01 打印机缺纸", "/fleet"),
        ("quarantine", "1 条消息在隔离区等待处理", "/quarantine"),
    ]
    english = client.get("/?lang=en").text
    assert "K01: printer out of paper" in english and 'href="/quarantine?lang=en"' in english
    assert "last week ¥12.00" in english


def test_alert_sources_from_other_parts_show_with_their_link(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    def job_failed(now: dt.datetime) -> list[overview.Alert]:
        return [
            overview.Alert("job", "定时任务失败：积分过期", "Scheduled job failed: points expiry", "/jobs")
        ]

    overview.ALERT_SOURCES.append(job_failed)
    try:
        html = signed_in(create_app(TZ, today=lambda: TODAY)).get("/").text
    finally:
        overview.ALERT_SOURCES.remove(job_failed)
    assert 'data-kind="job"><span>定时任务失败：积分过期</span><a href="/jobs">' in html
    assert 'id="no-alerts"' not in html


def test_a_failed_scheduled_job_is_an_alert_with_its_error_on_the_page(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC)
    JobRun.create(job="backup", period="2026-11-23", status="ok", claim="a", started_at=now)
    JobRun.create(job="backup", period="2026-11-24", status="failed", attempts=3, claim="b", started_at=now,
                  summary="Traceback ...\nOSError: disk full")  # fmt: skip
    JobRun.create(job="points_expiry", period="2026-11-23", status="failed", claim="c", started_at=now)
    JobRun.create(
        job="points_expiry", period="2026-11-24", status="ok", claim="d", started_at=now
    )  # recovered
    html = signed_in(create_app(TZ, today=lambda: TODAY)).get("/").text
    assert re.findall(r'data-kind="job"><span>([^<]+)</span><a href="([^"]+)"', html) == [
        ("定时任务失败：backup（2026-11-24，已试 3 次）", "/jobs")
    ]
    assert 'id="failed-jobs"' in html and "OSError: disk full" in html
