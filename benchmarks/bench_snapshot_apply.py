"""A new terminal applying the hub's member snapshot, against a raw executemany of the same rows.

The pages are what ``GET /api/v1/devices/{d}/members`` sends, already parsed (the HTTP fetch
and the hub's share are measured end to end by ``bench_member_snapshot.py``): 1,000 member
states a page, each with its encrypted profile, one card, points and stored-value balances,
and a coupon for one member in four. Two fresh kiosk databases (WAL, ``synchronous=FULL``):

- product: ``hub_copy.apply_snapshot_page`` per page, as the sync agent calls it (one
  transaction per page: version check, merged-duplicate check, members, cards, balances,
  coupons, member versions);
- baseline: a raw sqlite3 connection writing the same rows from the same states with
  hand-written ``executemany``, one transaction per page.

Pages alternate between the two (page 1 product, page 1 raw, page 2 product ...); the
ratio is raw time / product time, with its spread over groups of 10 pages.

``python benchmarks/bench_snapshot_apply.py [--members 100000]``; ``BENCH_FULL=1``: 1,000,000.
"""

import argparse
import datetime as dt
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import app_logging, emit, figure, full_size, spread

from kiosk.domain.loyalty import POINTS, PRINCIPAL, Coupon, CouponKind
from kiosk.domain.loyalty.coupons import coupon_to_dict
from kiosk.store import open_database
from kiosk.store.connection import database
from kiosk.store.member_models import Member
from kiosk.store.members import hub_copy

PAGE = 1000
NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
ENC = "q0x3c2QhYmFzZTY0LW5vbmNlK2NpcGhlcnRleHQrdGFnLTQ4LWJ5dGVzLWxvbmc="  # a ciphertext's length


def page(first: int) -> list[dict[str, Any]]:
    """Member states ``first`` .. ``first + PAGE - 1`` as the hub's snapshot page has them."""
    states = []
    for n in range(first, first + PAGE):
        mid = f"m-{n:07d}"
        member = {"id": mid, "phone_index": f"{n:064x}", "phone_enc": ENC, "name_enc": ENC,
                  "birthday_enc": "", "gender": "", "tier_code": "gold" if n % 5 == 0 else "",
                  "tier_grace_until": None, "home_store": "S01", "source": "import", "consent_version": "v1",
                  "consent_at": "2026-01-01", "consent_where": "S01/K01",
                  "created_at": "2026-01-01T08:00:00+00:00", "merged_into": None, "pin_hash": ""}  # fmt: skip
        coupons = []
        if n % 4 == 0:
            coupon = Coupon(id=f"c-{n}", kind=CouponKind.THRESHOLD, name_zh="满30减5", min_spend_fen=3000,
                            off_fen=500, valid_from=NOW, valid_until=NOW + dt.timedelta(days=30),
                            member_id=mid)  # fmt: skip
            coupons.append({"body": coupon_to_dict(coupon), "used_sale_id": None})
        states.append({
            "id": mid, "version": n + 1, "erased": False, "member": member,
            "cards": [{"uid": f"CARD{n:08d}", "member_id": mid, "kind": "nfc", "linked_at": "2026-01-01"}],
            "coupons": coupons, "balances": {POINTS: n % 3000, PRINCIPAL: n % 500 * 100}, "through_seq": 0,
        })  # fmt: skip
    return states


COLUMNS = [f.column_name for f in Member._meta.sorted_fields]


def raw_apply(conn: sqlite3.Connection, states: list[dict[str, Any]]) -> None:
    """The same rows as ``apply_snapshot_page``, hand-written, one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        f"INSERT OR REPLACE INTO member ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
        [tuple(s["member"][c] for c in COLUMNS) for s in states],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO member_card (uid, member_id, kind, linked_at) VALUES (?, ?, ?, ?)",
        [(c["uid"], c["member_id"], c["kind"], c["linked_at"]) for s in states for c in s["cards"]],
    )
    conn.executemany(
        "INSERT INTO member_snapshot (member_id, account, amount, through_seq) VALUES (?, ?, ?, ?)",
        [(s["id"], a, v, s["through_seq"]) for s in states for a, v in s["balances"].items()],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO coupon_row (id, member_id, body, single_use) VALUES (?, ?, ?, 1)",
        [(c["body"]["id"], s["id"], json.dumps(c["body"], ensure_ascii=False)) for s in states
         for c in s["coupons"]],
    )  # fmt: skip
    conn.executemany(
        "INSERT OR REPLACE INTO member_hub_version (member_id, version) VALUES (?, ?)",
        [(s["id"], s["version"]) for s in states],
    )
    conn.execute("COMMIT")


def main() -> None:
    """Apply every page to both databases, alternating; print one JSON object."""
    app_logging()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000 if full_size() else 100_000)
    args = parser.parse_args()
    ours: list[float] = []
    raws: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-snapshot-") as tmp:
        open_database(Path(tmp) / "raw.db")
        database.close()
        raw = sqlite3.connect(Path(tmp) / "raw.db", isolation_level=None)
        raw.execute("PRAGMA journal_mode=wal")
        raw.execute("PRAGMA synchronous=full")
        open_database(Path(tmp) / "kiosk.db")
        for first in range(0, args.members, PAGE):
            states = page(first)
            started = time.perf_counter()
            applied = hub_copy.apply_snapshot_page(states)
            ours.append(time.perf_counter() - started)
            assert applied == len(states)
            started = time.perf_counter()
            raw_apply(raw, states)
            raws.append(time.perf_counter() - started)
        hub_copy.finish_snapshot(args.members, NOW)
        counts = [
            database.execute_sql(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("member", "coupon_row")
        ]
        assert counts == [args.members, len(range(0, args.members, 4))], counts
        raw.close()
        database.close()
    groups = [(sum(raws[i : i + 10]), sum(ours[i : i + 10])) for i in range(0, len(ours), 10)]
    ratios = [r / o for r, o in groups]
    ratio = sum(raws) / sum(ours)
    figures = [
        figure(
            f"member snapshot applied on a new terminal, {args.members:,} members",
            round(args.members / sum(ours)),
            "members/s",
            baseline="raw sqlite3 executemany of the same rows, one transaction per page",
            baseline_value=round(args.members / sum(raws)),
            ratio=ratio,
            rounds=spread(ratios),
            goal="ratio >= 0.60",
            met=ratio >= 0.60,
            note=f"{sum(ours):.1f} s vs {sum(raws):.1f} s raw; rounds: groups of 10 pages",
        )
    ]
    emit(
        "snapshot_apply", figures, members=args.members, page=PAGE, seconds=round(sum(ours), 2),
        raw_seconds=round(sum(raws), 2), page_ms_median=round(statistics.median(ours) * 1000, 1),
        raw_page_ms_median=round(statistics.median(raws) * 1000, 1),
    )  # fmt: skip


if __name__ == "__main__":
    main()
