"""Campaign run cost: issue one coupon to each of N members, then run again (issues nothing).

Prints one JSON object. ``python benchmarks/bench_campaign.py [N] [DB URL]``;
the default is 5,000 members on a throwaway SQLite file. Members are inserted
directly (no PII needed for target ``all``); the run is the real
:func:`hub.campaigns.runs.run_campaign` in one transaction.
"""

import datetime as dt
import json
import os
import sys
import tempfile
import time
from zoneinfo import ZoneInfo

from hub.campaigns import runs as campaigns
from hub.db import transaction
from hub.db.schema import open_hub_database
from hub.members.models import HubCoupon, HubMember
from kiosk.domain.loyalty import CouponKind
from kiosk.domain.loyalty.campaigns import CampaignSpec, CouponTemplate, Target

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=TZ)
SPEC = CampaignSpec(
    name_zh="会员日",
    coupon=CouponTemplate(
        kind=CouponKind.THRESHOLD, name_zh="满100减20", min_spend_fen=10000, off_fen=2000, valid_days=14
    ),
    target=Target(kind="all"),
)


def main(count: int, url: str) -> dict[str, object]:
    """Seed ``count`` members at ``url``, time a first and a second run."""
    db = open_hub_database(url)
    rows = [
        {"id": f"m-{i:06d}", "phone_index": f"idx-{i}", "phone_enc": "x", "created_at": NOW.isoformat()}
        for i in range(count)
    ]
    with transaction():
        for start in range(0, count, 500):
            HubMember.insert_many(rows[start : start + 500]).execute()
        camp = campaigns.create_campaign(SPEC, "bench", NOW)
    timings = []
    for _ in range(2):
        began = time.perf_counter()
        with transaction():
            result = campaigns.run_campaign(camp, "bench", NOW, TZ)
        timings.append((time.perf_counter() - began, result.issued))
    coupons = HubCoupon.select().count()
    db.close()
    return {
        "members": count,
        "database": url.split(":", 1)[0],
        "first_run_s": round(timings[0][0], 3),
        "first_run_issued": timings[0][1],
        "second_run_s": round(timings[1][0], 3),
        "second_run_issued": timings[1][1],
        "coupons": coupons,
        "load_average": os.getloadavg()[0],
    }


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory(prefix="bench-campaign-") as work:
        target = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{work}/hub.db"
        print(json.dumps(main(n, target)))
