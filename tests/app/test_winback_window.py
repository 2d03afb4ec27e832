"""Win-back at the tap, in a real Kivy window under Xvfb: a member the hub judged dormant taps
their card at a terminal that never saw them, and the cart greets them by their masked name with
the win-back coupon the hub sent, applied to this sale.

The member, their visits and the coupon go the real way: a second terminal's database, the hub's
ingest and its ``campaigns`` job, the member copy the hub sends (``member_states``), applied by
the terminal's ``hub_copy`` before the app starts. The app then runs without any network.
"""

import base64
import datetime as dt
import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from hub.campaigns import runs as campaigns
from hub.campaigns.auto import run_automatic
from hub.db import transaction
from hub.db.schema import open_hub_database
from hub.ingest.batch import ingest_batch
from hub.members import ledger as loyalty
from hub.members.feed import member_states
from hub.members.models import HubMember
from kiosk.config import DEMO_ENCRYPTION_KEY
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.domain.loyalty.campaigns import CampaignSpec, CouponTemplate, Target
from kiosk.store import members, open_database, outbox
from kiosk.store.connection import database as kiosk_database
from kiosk.store.members import hub_copy
from kiosk.store.sales import Terminal
from kiosk.sync.schema import batch
from tests.app.test_kiosk_window import DUMPLINGS, WATER, run_kiosk, zh
from tests.hub.jobs.test_jobs import member_sale

TZ = ZoneInfo("Asia/Shanghai")
CARD = "0099887766"
MEMBER = "m-away"
WINBACK = CouponTemplate(kind="threshold", name_zh="满20减6", min_spend_fen=2000, off_fen=600, valid_days=14)


def member_from_k02(work: Path, now: dt.datetime) -> list[dict[str, Any]]:
    """王芳 joins at store K02, shops weekly for a month, then stays away five weeks."""
    from kiosk.store.pii import PiiKey

    key = PiiKey(base64.b64decode(DEMO_ENCRYPTION_KEY))
    db = open_database(work / "K02.db")
    try:
        terminal = Terminal(store="S01", device="K02", boot="K02-boot")
        start = now - dt.timedelta(days=70)
        consent = members.Consent(version="privacy-2026-01", where="S01/K02")
        members.register_member(key, terminal, start, "13911112222", consent, name="王芳", member_id=MEMBER)
        members.link_card(terminal, start, MEMBER, CARD)
        for week in range(5):  # every 7 days until 35 days ago: dormant after 3 x 7 = 21 days
            member_sale(terminal, MEMBER, f"k02-{week}", start + dt.timedelta(days=7 * week))
        return outbox.pending(limit=1000)
    finally:
        db.close()


@pytest.fixture(scope="module")
def tapped(tmp_path_factory: pytest.TempPathFactory, display: str) -> tuple[dict[str, Any], Path]:
    from kiosk.store.pii import PiiKey

    work = tmp_path_factory.mktemp("winback")
    now = dt.datetime.now(TZ)
    hub = open_hub_database(f"sqlite:///{work / 'hub.db'}")
    loyalty.configure(LoyaltyRules(), PiiKey(base64.b64decode(DEMO_ENCRYPTION_KEY)))
    try:
        ingest_batch("pos/K02/up/events", batch("K02", member_from_k02(work, now)), now, TZ)
        spec = CampaignSpec(name_zh="回归礼", coupon=WINBACK, target=Target(kind="all"), trigger="winback",
                            holdout_percent=0)  # fmt: skip
        with transaction():
            campaigns.create_campaign(spec, "owner", now, campaign_id="c-winback")
            done = run_automatic(now, TZ)
        assert (done.concerned, done.issued) == (1, 1)
        states = member_states([HubMember.get_by_id(MEMBER)], "K01")
        # the trigger travels beside the coupon's body: an older terminal reads the body strictly
        [held] = states[0]["coupons"]
        assert (held["occasion"], "occasion" in held["body"]) == ("winback", False)
    finally:
        loyalty.configure(LoyaltyRules(), None)
        hub.close()
    kiosk_db = open_database(work / "kiosk.db")  # K01: the member copy arrives before the app runs
    try:
        with kiosk_database.atomic():
            assert hub_copy.apply_states(states) == 1
    finally:
        kiosk_db.close()
    shots = Path(os.environ.get("KIOSK_SCREENSHOTS", work / "shots"))
    steps = [
        {"scan": DUMPLINGS}, {"scan": WATER}, {"observe": "before"},
        {"card": CARD}, {"observe": "member"}, {"shot": "winback"},
        {"tap": "cart:lang"}, {"observe": "member_en"}, {"tap": "cart:lang"},
    ]  # fmt: skip
    return run_kiosk(work, display, {"steps": steps, "screenshots": str(shots)}), shots


def test_a_dormant_member_is_greeted_with_the_win_back_offer_applied(
    tapped: tuple[dict[str, Any], Path],
) -> None:
    report, shots = tapped
    screens = report["screens"]
    member = screens["member"]
    assert member["texts"]["welcome_back"] == zh("王*，好久不见！回归礼「满20减6」本单可用")
    assert member["member"].endswith(zh("可用券：满20减6"))
    assert (member["subtotal"], member["discount"]) == (screens["before"]["subtotal"], "-¥6.00")
    assert screens["member_en"]["texts"]["welcome_back"] == (
        "Welcome back, 王*! Your ¥6.00 off over ¥20.00 is ready for this purchase"
    )
    for lang in ("zh", "en"):  # looked at: docs/screenshots/kiosk-winback-{zh,en}.png
        with Image.open(shots / f"kiosk-winback-{lang}.png") as image:
            assert image.size == (800, 480)
