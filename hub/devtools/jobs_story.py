"""The jobs page and a campaign's results page, for tests and screenshots.

``python -m hub.devtools.jobs_story docs/screenshots`` books 40 members and their sales from a
real terminal database through the real ingest, runs a campaign with a 25 % holdout and the
scheduled jobs over a week (one failing: its data directory is a file), serves the dashboard,
and saves ``hub-jobs-{zh,en}.png`` and ``hub-campaign-results-{zh,en}.png``.
"""

import datetime as dt
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.campaigns import runs as campaigns
from hub.db import transaction
from hub.db.schema import open_hub_database
from hub.devtools.serving import serving
from hub.devtools.shots import page as page_shot
from hub.ingest.batch import ingest_batch
from hub.jobs import catalog, runner
from hub.members import ledger as loyalty
from hub.web.app import create_app
from kiosk.devtools import browser
from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import EarnContext, LoyaltyRules, MemberPayment, price_cart, sale_ledger
from kiosk.domain.loyalty.campaigns import CampaignSpec, CouponTemplate, Target, in_holdout
from kiosk.domain.loyalty.rules import ExpiryRule
from kiosk.store import members, open_database, outbox
from kiosk.store.pii import PiiKey
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.sync.schema import batch

TZ = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 11, 1, 10, 0, tzinfo=TZ)
KEY = PiiKey(bytes(range(32)))
RULES = LoyaltyRules(expiry=ExpiryRule(months=12, remind_days=30))
TEA = Product("tea", "6900000000028", "乌龙茶", "Oolong tea", 4800, "drink")
MEMBERS = [f"m-{n:02d}" for n in range(40)]
CAMPAIGN = "double-eleven"


def _sale(terminal: Terminal, member_id: str, sale_id: str, when: dt.datetime, units: int) -> None:
    cart = Cart().add(TEA, units)
    priced = price_cart(cart, (), when, member_id)
    stamp = members.new_stamp(terminal, when)
    earned, entries = sale_ledger(
        member_id, sale_id, priced, MemberPayment(), RULES, EarnContext(day=when.date()), stamp
    )
    sale = members.MemberSale(member_id, sale_id, priced, tuple(entries), earned.points)
    commit_sale(cart, [PaymentIntent("cash", priced.total_fen)], terminal, when, sale_id, member=sale)


def _book(work: Path, act) -> None:  # type: ignore[no-untyped-def]
    db = open_database(work / "K01.db")
    try:
        act(Terminal(store="S01", device="K01", boot="K01-boot"))
        events = outbox.pending(limit=5000)
    finally:
        db.close()
    ingest_batch("pos/K01/up/events", batch("K01", events), START, TZ)


def seed(work: Path) -> None:
    """Members, a campaign with its holdout, the sales after it, a week of jobs (backup failing)."""
    loyalty.configure(RULES, KEY)

    def join(terminal: Terminal) -> None:
        for n, member_id in enumerate(MEMBERS):
            members.register_member(
                KEY,
                terminal,
                START - dt.timedelta(days=90),
                f"1390000{n:04d}",
                members.Consent("privacy-2026-01", "kiosk"),
                member_id=member_id,
            )

    _book(work, join)
    spec = CampaignSpec(
        name_zh="双十一回馈",
        name_en="Singles' Day thank-you",
        target=Target(kind="all"),
        holdout_percent=25,
        coupon=CouponTemplate(
            kind="threshold", name_zh="满100减20", min_spend_fen=10000, off_fen=2000, valid_days=14
        ),
    )
    with transaction():
        campaigns.create_campaign(spec, "owner", START, campaign_id=CAMPAIGN)
        campaigns.run_campaign(CAMPAIGN, "owner", START, TZ)

    def shop(terminal: Terminal) -> None:
        for n, member_id in enumerate(MEMBERS):
            held = in_holdout(CAMPAIGN, member_id, 25)
            if n % (3 if held else 2) == 0:  # more of those who received come back, and buy more
                _sale(terminal, member_id, f"s-{n}", START + dt.timedelta(days=1 + n % 9), 2 if held else 3)

    _book(work, shop)
    jobs = catalog.all_jobs()
    for day in range(7):
        now = START + dt.timedelta(days=day)
        runner.run_due(jobs, runner.JobContext(now, TZ, data_dir=work / "hub.db"))  # a file: backup fails


def capture(out: Path) -> list[Path]:
    """Seed a throwaway database, serve the dashboard, save the PNGs into ``out``."""
    with tempfile.TemporaryDirectory(prefix="hub-jobs-story-") as work:
        db = open_hub_database(f"sqlite:///{work}/hub.db")
        try:
            seed(Path(work))
            app = create_app(
                TZ, data_dir=Path(work) / "hub.db", clock=lambda: START + dt.timedelta(days=6, hours=1)
            )
            with serving(app) as port:
                shots = []
                for lang, suffix in (("zh", ""), ("en", "?lang=en")):
                    base = f"http://127.0.0.1:{port}"
                    shots.append(
                        browser.screenshot(f"{base}/jobs{suffix}", out / f"hub-jobs-{lang}.png", 1280, 820)
                    )
                    # the whole page, trimmed below its content: the message counts are at the bottom
                    shots.append(
                        page_shot(
                            f"{base}/campaigns/{CAMPAIGN}/results{suffix}",
                            out / f"hub-campaign-results-{lang}.png",
                        )
                    )
                return shots
        finally:
            loyalty.configure(LoyaltyRules(), None)
            db.close()


if __name__ == "__main__":
    for path in capture(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
