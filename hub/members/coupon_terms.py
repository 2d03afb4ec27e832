"""The hub re-checks the coupons of every incoming member sale against the coupons it issued.

Validity at the sale's time, owner, stacking, minimum spend and the amount each
coupon took off are checked with :func:`kiosk.domain.loyalty.coupon_check.recheck_coupons`;
each disagreement becomes a reconciliation item (``coupon_terms``,
``coupon_stacking``, ``coupon_amount``) and the sale stays booked as sold.
Coupons the hub did not issue (made on a terminal) cannot be judged and are
only watched for double use.
"""

import datetime as dt
from dataclasses import replace
from typing import Any

from hub.campaigns.runs import issued_coupons
from hub.members.book import resolve
from hub.members.feed import touch
from hub.members.models import HubCoupon, Reconciliation
from kiosk.domain.loyalty.coupon_check import AppliedCoupon, CouponFinding, recheck_coupons
from kiosk.domain.loyalty.pricing import PricedLine


def sale_lines(data: dict[str, Any]) -> list[PricedLine]:
    """The sale's lines as priced after the member discount (before any coupon)."""
    tier = next((d["per_line"] for d in data.get("discounts", []) if d["source"] == "tier"), None)
    earn = data.get("earn_lines", [])
    lines = []
    for i, line in enumerate(data["lines"]):
        total = int(line["total_fen"])
        lines.append(
            PricedLine(
                sku=line["sku"],
                category=earn[i]["category"] if i < len(earn) else "",
                quantity=int(line["quantity"]),
                unit_fen=int(line["unit_price_fen"]),
                list_fen=total,
                net_fen=total - (int(tier[i]) if tier is not None else 0),
            )
        )
    return lines


def recheck_sale(event: dict[str, Any], now: dt.datetime) -> list[CouponFinding]:
    """Re-check the sale's hub-issued coupons, record findings, and mark them used by this sale."""
    data = event["data"]
    coupon_ids = [str(c) for c in data.get("coupons", [])]
    known = {
        cid: replace(c, member_id=resolve(c.member_id), used=False)
        for cid, c in issued_coupons(coupon_ids).items()
    }
    if not known:
        return []
    applied = [
        AppliedCoupon(str(d["source"]), int(d["amount_fen"]), tuple(int(x) for x in d["per_line"]))
        for d in data.get("discounts", [])
        if d["source"] in coupon_ids
    ]
    at = dt.datetime.fromisoformat(event["ts"])
    try:
        findings = recheck_coupons(sale_lines(data), applied, known, at, resolve(data["member_id"]))
    except (IndexError, ValueError) as exc:  # discounts that do not fit the lines: report, keep the sale
        findings = [
            CouponFinding(cid, "terms", 0, 0, f"could not re-check: discounts do not fit the lines ({exc})")
            for cid in known
        ]
    for finding in findings:
        Reconciliation.create(
            kind=f"coupon_{finding.problem}",
            member_id=data["member_id"],
            sale_id=data["sale_id"],
            device=event["device"],
            expected=finding.expected_fen,
            got=finding.applied_fen,
            detail=f"coupon {finding.coupon_id}: {finding.detail}",
            found_at=now,
        )
    used = (
        HubCoupon.update(used_sale_id=data["sale_id"])
        .where(HubCoupon.id.in_(list(known)), HubCoupon.used_sale_id.is_null())
        .execute()
    )
    if used:
        touch(resolve(data["member_id"]))  # other terminals learn the coupon is spent
    return findings
