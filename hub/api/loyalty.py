"""The loyalty part of the hub's JSON API under ``/api/v1``: balances, ledger,
reconciliation items and member merges. Mounted by :func:`hub.web.app.create_app`."""

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from hub.db import transaction
from hub.members import ledger as loyalty
from hub.members import reconciliation as reconciliation_items
from hub.members.book import settings
from hub.members.models import HubCard, HubMember
from hub.rules import store as rules_store
from hub.web.auth import visible_stores

router = APIRouter(prefix="/api/v1", tags=["loyalty"])


class MergeRequest(BaseModel):
    """Merge ``duplicate`` into ``survivor``; ``by`` names who asked, for the audit."""

    model_config = ConfigDict(extra="forbid")

    survivor: str = Field(description="member id that stays")
    duplicate: str = Field(description="member id merged away")
    by: str = Field(min_length=1, description="owner or staff id, recorded in the audit")


def _member(member_id: str) -> HubMember:
    member = HubMember.get_or_none(HubMember.id == member_id)
    if member is None:
        raise HTTPException(404, f"no member {member_id} / 会员不存在")
    return member


@router.get("/members/{member_id}/balances")
def balances(member_id: str) -> dict[str, Any]:
    """The member's balances (sums of ledger entries), and whom a merged id now means."""
    _member(member_id)
    return {
        "member_id": member_id,
        "resolved": loyalty.resolve(member_id),
        "balances": loyalty.member_balances(member_id),
    }


@router.get("/members/{member_id}/ledger")
def ledger(member_id: str) -> list[dict[str, Any]]:
    """Every ledger entry booked on the member, oldest first."""
    _member(member_id)
    entries = sorted(loyalty.member_entries(member_id), key=lambda e: (e.at, e.device, e.seq))
    return [e.to_dict() for e in entries]


@router.get("/members/{member_id}/cards")
def cards(member_id: str) -> list[dict[str, str]]:
    """The member's cards (NFC UID or printed number), by uid."""
    _member(member_id)
    query = HubCard.select().where(HubCard.member_id == member_id).order_by(HubCard.uid)
    return [{"uid": c.uid, "kind": c.kind, "linked_at": c.linked_at} for c in query]


@router.get("/tiers")
def tiers() -> list[dict[str, Any]]:
    """The owner's tiers, lowest first: code, names (zh, en), threshold, benefits."""
    rules_store.refresh()  # the owner's newest saved version (hub.rules.store)
    return [t.model_dump(mode="json") for t in settings.rules.tiers.tiers]


@router.get("/rules")
def rules() -> dict[str, Any]:
    """Every loyalty rule the hub checks sales against (earn, redeem, expiry, tiers, stored value, caps).

    Change them with ``PUT /api/v1/rules``; ``GET /api/v1/rules/versions`` lists the saved versions.
    """
    rules_store.refresh()
    return settings.rules.model_dump(mode="json")


@router.get("/reconciliation")
def reconciliation(
    kind: str | None = None, status: Literal["open", "resolved", "all"] = "open"
) -> list[dict[str, Any]]:
    """Reconciliation items (earn mismatch, coupon terms, coupon double use, negative balance, ...).

    Open ones oldest first; resolved ones newest first, with the note and who resolved them.
    """
    return [reconciliation_items.as_json(item) for item in reconciliation_items.items(status, kind)]


@router.post("/members/merge")
def merge(request: MergeRequest, http: Request) -> dict[str, Any]:
    """Merge two members (e.g. one person with two phones); balances, cards and an audit row.

    A manager merges only members of their own stores: another store's member is not found.
    """
    if request.survivor == request.duplicate:
        raise HTTPException(422, "cannot merge a member into itself / 不能与自身合并")
    stores = visible_stores(http)
    for member_id in (request.survivor, request.duplicate):
        if stores is not None and _member(member_id).home_store not in stores:
            raise HTTPException(404, f"no member {member_id} / 会员不存在")
    _member(request.survivor)
    if _member(request.duplicate).merged_into:
        raise HTTPException(409, f"{request.duplicate} is already merged / 已合并")
    with transaction():
        moved = loyalty.merge_members(
            request.survivor, request.duplicate, dt.datetime.now(dt.UTC), request.by
        )
    return {"moved": len(moved), "balances": loyalty.member_balances(request.survivor)}


@router.post("/members/{member_id}/erase")
def erase(member_id: str) -> dict[str, Any]:
    """Erase the member's personal data (the member asked); balances and ledger stay, anonymised."""
    _member(member_id)
    with transaction():
        loyalty.erase_member(member_id, dt.datetime.now(dt.UTC))
    return {"member_id": member_id, "erased": True, "balances": loyalty.member_balances(member_id)}
