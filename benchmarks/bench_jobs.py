"""Daily jobs at the hub: how long each holds the database (SQLite: the one write lock, so the
ingest waits that long) for N members.

Prints one JSON object (``harness.emit``). ``python benchmarks/bench_jobs.py [N] [DB URL]``; the
default is 5,000 members (50,000 with ``BENCH_FULL=1``) on a throwaway SQLite file. Each member has
four weekly visits ending 30 days ago (so a win-back campaign concerns them all) and one points lot
earned 13 months ago (so the 12-month expiry takes it). Baseline, in the same run: the owner's
manual campaign over the same members (``run_campaign``, one coupon each), the work the win-back
job does plus the trigger rules. One round each: a first run changes the data a second run sees.
"""

import datetime as dt
import os
import sys
import tempfile
import time
from zoneinfo import ZoneInfo

import harness

from hub.campaigns import runs as campaigns
from hub.db import transaction
from hub.db.schema import open_hub_database
from hub.jobs import catalog, runner
from hub.members import ledger as loyalty
from hub.members.models import HubLedgerEntry, HubMember, MemberSale
from kiosk.domain.loyalty import CouponKind, LoyaltyRules
from kiosk.domain.loyalty.campaigns import CampaignSpec, CouponTemplate, Target
from kiosk.domain.loyalty.rules import ExpiryRule

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 7, 9, 30, tzinfo=TZ)
COUPON = CouponTemplate(
    kind=CouponKind.THRESHOLD, name_zh="回归礼", min_spend_fen=2000, off_fen=600, valid_days=14
)


def seed(count: int) -> None:
    """``count`` members with weekly visits and one old points lot each."""
    members, sales, entries = [], [], []
    earned = (NOW - dt.timedelta(days=400)).isoformat()
    for i in range(count):
        member_id = f"m-{i:06d}"
        members.append({"id": member_id, "phone_index": f"idx-{i}", "phone_enc": "x", "created_at": earned})
        for week in range(4):
            day = (NOW - dt.timedelta(days=30 + 7 * week)).date().isoformat()
            sales.append({"sale_id": f"s-{i}-{week}", "member_id": member_id, "day": day, "paid_fen": 5000,
                          "points": 50})  # fmt: skip
        entries.append({"id": f"e-{i}", "member_id": member_id, "account": "points", "kind": "earn",
                        "amount": 100, "at": earned, "device": "K01", "seq": i + 1, "prev": "", "hash": "",
                        "event_id": "seed"})  # fmt: skip
    with transaction():
        for model, rows in ((HubMember, members), (MemberSale, sales), (HubLedgerEntry, entries)):
            for start in range(0, len(rows), 500):
                model.insert_many(rows[start : start + 500]).execute()


def timed(work) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    result = work()
    return time.perf_counter() - began, result


def job(name: str, at: dt.datetime) -> runner.Outcome:
    outcome = runner.run_job(catalog.job_named(name), runner.JobContext(at, TZ))
    assert outcome.status == "ok", outcome.summary
    return outcome


def main(count: int, url: str) -> None:
    db = open_hub_database(url)
    loyalty.configure(LoyaltyRules(expiry=ExpiryRule(months=12, remind_days=30)), None)
    seed(count)
    with transaction():
        campaigns.create_campaign(
            CampaignSpec(name_zh="回归礼", coupon=COUPON, target=Target(kind="all"), trigger="winback"),
            "bench",
            NOW,
        )
        manual = campaigns.create_campaign(
            CampaignSpec(name_zh="会员日", coupon=COUPON, target=Target(kind="all"), holdout_percent=10),
            "bench",
            NOW,
        )
    base_s, _ = timed(lambda: _manual(manual))
    first_s, first = timed(lambda: job("campaigns", NOW))
    again_s, _ = timed(lambda: job("campaigns", NOW + dt.timedelta(days=1)))
    expiry_s, expired = timed(lambda: job("points_expiry", NOW))
    remind_s, _ = timed(lambda: job("expiry_reminders", NOW))
    db.close()
    size = f"{count:,} members"
    figures = [
        harness.figure(
            f"campaigns job, first run (win-back coupons to every member), {size}",
            round(first_s, 3), "s", baseline="manual campaign run over the same members",
            baseline_value=round(base_s, 3), ratio=round(first_s / base_s, 2),
            note="time ratio (lower is better); the job also reads every member's visits for the rhythm",
        ),
        harness.figure(f"campaigns job, a later day (nothing new), {size}", round(again_s, 3), "s"),
        harness.figure(f"points_expiry job ({count:,} lots expire), {size}", round(expiry_s, 3), "s"),
        harness.figure(f"expiry_reminders job (nothing due), {size}", round(remind_s, 3), "s"),
    ]  # fmt: skip
    harness.emit(
        "jobs",
        figures,
        members=count,
        database=url.split(":", 1)[0],
        first_run=first.result.figures if first.result else {},
        expired=expired.result.figures if expired.result else {},
        load_average=os.getloadavg()[0],
    )


def _manual(campaign_id: str) -> None:
    with transaction():
        campaigns.run_campaign(campaign_id, "bench", NOW, TZ)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else (50_000 if harness.full_size() else 5_000)
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as work:
        main(n, sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{work}/hub.db")
