"""The jobs page: each job with its last run, result and next run; a failed job stands out; the
owner runs one now or as a dry run. Served by the real app, read as HTML and in headless Chromium.
"""

import datetime as dt
import re
from pathlib import Path

from PIL import Image

from hub.devtools.serving import serving
from hub.jobs import failed_jobs
from hub.jobs import settings as job_settings
from hub.web.app import create_app
from kiosk.devtools import browser
from tests.hub.members.test_loyalty import TZ

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=TZ)


def row(html: str, name: str) -> str:
    match = re.search(rf'<tr id="job-{name}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, f"no row for {name}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_jobs_page_shows_runs_failures_and_dry_runs(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("a file where the data directory should be")
    app = create_app(TZ, data_dir=not_a_folder, clock=lambda: NOW)
    client = signed_in(app)
    failed = client.post("/jobs/backup/run", follow_redirects=False)
    assert failed.status_code == 303
    ran = client.post("/jobs/points_expiry/run?lang=en")
    assert "Ran: points never expire: nothing to do" in ran.text
    again = client.post("/jobs/points_expiry/run?lang=en")
    assert "Already run today: not run again." in again.text
    assert [j.job for j in failed_jobs()] == ["backup"]

    html = client.get("/jobs").text
    assert '<p class="banner error" id="failed-alert">有定时任务失败，请查看。</p>' in html
    # failed once: tried again within a minute
    assert re.match(
        r"数据备份 backup 02:00 2026-12-07 10:00 失败 没有备份公钥 .*backup-key .* "
        r"待运行（一分钟内） 试运行 立即运行$",
        row(html, "backup"),
    )
    assert row(html, "points_expiry") == (
        "积分过期 points_expiry 03:00 2026-12-07 10:00 成功 积分永不过期，无需处理 "
        "2026-12-08 03:00 试运行 立即运行"
    )
    assert row(html, "retention").startswith("不活跃会员匿名化 retention 04:00 从未运行")

    saved = client.post("/jobs/settings?lang=en", data={"retention_months": "24"})
    assert (
        'id="done">Saved.' in saved.text
        and 'name="retention_months" inputmode="numeric" value="24"' in saved.text
    )
    assert job_settings.get_int("retention_months") == 24
    refused = client.post("/jobs/settings", data={"retention_months": "two years"})
    assert refused.status_code == 422 and "请填写不小于 0 的整数" in refused.text
    dry = client.post("/jobs/retention/run", data={"dry_run": "1"})
    assert "试运行（未做任何修改）：将匿名化 0 位超过 24 个月未活动的会员" in dry.text
    assert row(dry.text, "retention").startswith("不活跃会员匿名化 retention 04:00 从未运行")

    with serving(app) as port:
        for lang in ("zh", "en"):
            shot = browser.screenshot(
                f"http://127.0.0.1:{port}/jobs?lang={lang}", tmp_path / f"jobs-{lang}.png", 1280, 900
            )
            with Image.open(shot) as image:
                assert image.size == (1280, 900)
                # the failed row is tinted red (#fef2f2) somewhere in the table band
                assert (254, 242, 242) in {
                    image.getpixel((x, y))[:3] for x in range(40, 600, 20) for y in range(150, 700, 4)
                }
