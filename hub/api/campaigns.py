"""Campaigns and reconciliation in the hub's JSON API under ``/api/v1`` (in the OpenAPI document)."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from hub.campaigns import runs as campaigns
from hub.db import transaction
from hub.members import reconciliation
from hub.members.models import HubMember
from hub.web.auth import visible_stores
from hub.web.campaigns import within_reach
from hub.web.pages import RowId
from kiosk.domain.loyalty.campaigns import CampaignSpec
from kiosk.domain.loyalty.coupons import coupon_to_dict


class NewCampaign(CampaignSpec):
    """A campaign to create, and who creates it (for the audit)."""

    by: str = Field(min_length=1, description="owner or staff id, recorded in the audit")


class Actor(BaseModel):
    """Who does it, for the audit."""

    model_config = ConfigDict(extra="forbid")

    by: str = Field(min_length=1, description="owner or staff id, recorded in the audit")


class Switch(Actor):
    """Pause (``false``) or resume (``true``) a campaign."""

    active: bool


class Resolution(Actor):
    """Close a reconciliation item with a note saying what was done."""

    note: str = Field(min_length=1, max_length=500, description="what was checked or done / 处理说明")


def _campaign_json(row: dict[str, Any]) -> dict[str, Any]:
    spec: CampaignSpec = row["spec"]
    return {**row, "spec": spec.model_dump(mode="json"), "created_at": row["created_at"].isoformat()}


def router(tz: ZoneInfo) -> APIRouter:
    """The routes; ``tz`` is the shop's time zone (targeting counts days in it)."""
    routes = APIRouter(prefix="/api/v1", tags=["campaigns"])

    @routes.get("/campaigns")
    def list_campaigns(http: Request) -> list[dict[str, Any]]:
        """Every campaign the caller may see (a manager: their stores'), with coupons issued and used."""
        return [_campaign_json(row) for row in campaigns.campaigns(visible_stores(http))]

    @routes.post("/campaigns", status_code=201)
    def create(request: NewCampaign, http: Request) -> dict[str, str]:
        """Define a campaign: coupon template and target. Run it with ``POST /campaigns/{id}/run``.

        A manager's campaign reaches the members of their stores only; the owner's, every store's.
        """
        spec = CampaignSpec.model_validate(request.model_dump(exclude={"by"}))
        with transaction():
            new_id = campaigns.create_campaign(
                spec, request.by, dt.datetime.now(dt.UTC), stores=visible_stores(http)
            )
        return {"id": new_id}

    @routes.post("/campaigns/{campaign_id}/run")
    def run(campaign_id: str, request: Actor, http: Request) -> dict[str, Any]:
        """Issue one coupon to every targeted member who has none from this campaign yet (audited)."""
        within_reach(http, campaign_id)
        try:
            with transaction():
                result = campaigns.run_campaign(campaign_id, request.by, dt.datetime.now(dt.UTC), tz)
        except campaigns.CampaignError as exc:
            status = 404 if "no campaign" in str(exc) else 409
            raise HTTPException(status, str(exc)) from exc
        return result.__dict__

    @routes.post("/campaigns/{campaign_id}/active")
    def activate(campaign_id: str, request: Switch, http: Request) -> dict[str, Any]:
        """Pause or resume a campaign (audited): a paused campaign neither runs nor issues at registration."""
        within_reach(http, campaign_id)
        try:
            with transaction():
                campaigns.set_active(campaign_id, request.active, request.by, dt.datetime.now(dt.UTC))
        except campaigns.CampaignError as exc:
            raise HTTPException(404, str(exc)) from exc
        return {"campaign_id": campaign_id, "active": request.active}

    @routes.get("/campaigns/{campaign_id}/runs")
    def runs(campaign_id: str, http: Request) -> list[dict[str, Any]]:
        """Every run of the campaign: when, by whom, members targeted, coupons issued."""
        within_reach(http, campaign_id)
        return [
            {"at": r.at.isoformat(), "by": r.by, "targeted": r.targeted, "issued": r.issued}
            for r in campaigns.runs(campaign_id)
        ]

    @routes.get("/members/{member_id}/coupons")
    def member_coupons(member_id: str) -> list[dict[str, Any]]:
        """The coupons the hub issued to the member, with ``used`` set once a sale used one."""
        if HubMember.get_or_none(HubMember.id == member_id) is None:
            raise HTTPException(404, f"no member {member_id} / 会员不存在")
        return [coupon_to_dict(c) for c in campaigns.member_coupons(member_id)]

    @routes.post("/reconciliation/{item_id}/resolve")
    def resolve(item_id: RowId, request: Resolution) -> dict[str, Any]:
        """Mark a reconciliation item resolved with a note (audited); the ledger is not changed."""
        try:
            with transaction():
                item = reconciliation.resolve_item(item_id, request.note, request.by, dt.datetime.now(dt.UTC))
        except reconciliation.ItemError as exc:
            raise HTTPException(404 if "no item" in str(exc) else 409, str(exc)) from exc
        return reconciliation.as_json(item)

    return routes
