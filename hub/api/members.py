"""Member profiles in the hub's JSON API under ``/api/v1``: attributes the owner defines, tags, profile."""

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from hub.accounts import audit as owner_audit
from hub.campaigns import runs as campaigns
from hub.db import transaction
from hub.members import attributes as member_attributes
from hub.members import ledger as loyalty
from hub.members.book import consent_record, register_at_hub
from hub.members.models import HubMember
from hub.messaging import queue as messages
from kiosk.domain.loyalty import InvalidPhone
from kiosk.domain.loyalty.attributes import AttributeSpec
from kiosk.domain.loyalty.coupons import coupon_to_dict
from kiosk.domain.loyalty.registration import MARKETING_VERSION
from kiosk.store.pii import PiiError

router = APIRouter(prefix="/api/v1", tags=["members"])


class NewAttribute(AttributeSpec):
    """An attribute to define (or relabel), and who does it."""

    by: str = Field(min_length=1, description="owner or staff id, recorded in the audit")


class AttributeValues(BaseModel):
    """Attribute values to set on a member; an empty string clears one."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, str] = Field(description="attribute code -> value as text")
    by: str = Field(min_length=1, description="owner or staff id, recorded in the audit")


class Tags(BaseModel):
    """The member's tags, replacing the ones they have."""

    model_config = ConfigDict(extra="forbid")

    tags: list[str] = Field(description='e.g. ["VIP", "宝妈"]; at most 20 characters each')
    by: str = Field(min_length=1, description="owner or staff id, recorded in the audit")


class NewMember(BaseModel):
    """A member registered at the hub (front desk, owner) with the consent they gave there."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, description="any format; +86 when without a country code")
    name: str = Field(default="", max_length=20, description="how to call them, e.g. 王女士")
    birthday: dt.date | None = None
    home_store: str = ""
    consent_version: str = Field(min_length=1, description="the consent text's version the member agreed to")
    consent_where: str = Field(min_length=1, description="where it was given, e.g. hub/front-desk")
    marketing: bool | None = Field(
        default=None,
        description="the separate answer to marketing messages (null: not asked, nothing is sent)",
    )
    email: str = Field(
        default="", max_length=200, description="where e-mail offers go, when marketing is true"
    )
    by: str = Field(min_length=1, description="owner or staff id, recorded in the audit")


def _member(member_id: str) -> HubMember:
    member = HubMember.get_or_none(HubMember.id == member_id)
    if member is None:
        raise HTTPException(404, f"no member {member_id} / 会员不存在")
    return member


def _refused(exc: member_attributes.AttributeErrors) -> JSONResponse:
    return JSONResponse({"detail": "invalid values / 填写有误", "errors": exc.problems}, status_code=422)


@router.get("/attributes")
def attributes() -> list[dict[str, Any]]:
    """The attributes the owner defined (code, labels, type, options)."""
    return [s.model_dump(mode="json") for s in member_attributes.attribute_specs()]


@router.post("/attributes", status_code=201, response_model=None)
def define(request: NewAttribute) -> dict[str, Any] | JSONResponse:
    """Define an attribute, or change its labels and options (audited)."""
    spec = AttributeSpec.model_validate(request.model_dump(exclude={"by"}))
    try:
        with transaction():
            member_attributes.define_attribute(spec, request.by, dt.datetime.now(dt.UTC))
    except member_attributes.AttributeErrors as exc:
        return _refused(exc)
    return spec.model_dump(mode="json")


@router.put("/members/{member_id}/attributes", response_model=None)
def set_attributes(member_id: str, request: AttributeValues) -> dict[str, str] | JSONResponse:
    """Set attribute values, all or nothing; 422 with one bilingual message per bad value."""
    _member(member_id)
    try:
        with transaction():
            return member_attributes.set_attributes(
                member_id, request.values, request.by, dt.datetime.now(dt.UTC)
            )
    except member_attributes.AttributeErrors as exc:
        return _refused(exc)


@router.put("/members/{member_id}/tags", response_model=None)
def set_tags(member_id: str, request: Tags) -> list[str] | JSONResponse:
    """Replace the member's tags; 422 with a bilingual message for a bad tag."""
    _member(member_id)
    try:
        with transaction():
            return member_attributes.set_tags(member_id, request.tags, request.by, dt.datetime.now(dt.UTC))
    except member_attributes.AttributeErrors as exc:
        return _refused(exc)


@router.post("/members", status_code=201, response_model=None)
def register(request: NewMember) -> dict[str, Any] | JSONResponse:
    """Register a member at the hub (201); a phone already a member links to them (200, ``created`` false).

    422 for a bad phone, 503 when the hub has no business data key to encrypt the profile.
    """
    now = dt.datetime.now(dt.UTC)
    try:
        with transaction():
            done = register_at_hub(
                request.phone, request.name, request.birthday,
                (request.consent_version, request.consent_where), request.home_store, now,
            )  # fmt: skip
            if done.created:
                owner_audit.record(request.by, "member.registered", f"member:{done.member_id}", now)
            if done.created and request.marketing is not None:
                answer = (request.marketing, MARKETING_VERSION, request.consent_where)
                messages.set_consent(done.member_id, *answer, request.by, now, email=request.email or None)
    except InvalidPhone as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)
    except PiiError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=503)
    body = {"member_id": done.member_id, "created": done.created}
    return body if done.created else JSONResponse(body, status_code=200)


@router.get("/members/{member_id}")
def member(member_id: str) -> dict[str, Any]:
    """One member without personal data: the profile, where they came from and their consent record.

    ``consent`` is ``{"version", "at", "where"}`` (the consent text's version, the
    time it was given, ``store/device``), or null when none was recorded (imported
    members). ``erased_at`` is set once the member's personal data was erased.
    """
    row = _member(member_id)
    return {
        **profile(member_id),
        "source": row.source,
        "merged_into": row.merged_into,
        "erased_at": row.erased_at,
        "consent": consent_record(row),
    }


@router.get("/members/{member_id}/profile")
def profile(member_id: str) -> dict[str, Any]:
    """Tier, balances, tags, attribute values and hub-issued coupons of one member (no personal data)."""
    member = _member(member_id)
    return {
        "member_id": member_id,
        "resolved": loyalty.resolve(member_id),
        "tier": member.tier_code,
        "home_store": member.home_store,
        "created_at": member.created_at,
        "balances": loyalty.member_balances(member_id),
        "tags": member_attributes.member_tags(member_id),
        "attributes": member_attributes.member_attributes(member_id),
        "coupons": [coupon_to_dict(c) for c in campaigns.member_coupons(member_id)],
    }
