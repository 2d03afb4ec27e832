"""The owner's loyalty rules and tier ladder in the hub's JSON API under ``/api/v1``."""

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from hub import rules_store
from hub.db import transaction


class RulesChange(BaseModel):
    """New rules (the whole set, as ``GET /api/v1/rules`` returns it) and who saves them."""

    model_config = ConfigDict(extra="forbid")

    rules: dict[str, Any] = Field(description="LoyaltyRules: earn, holidays, redeem, tiers, ...")
    by: str = Field(min_length=1, description="owner or staff id, recorded in the audit")


def tier_ladder() -> list[dict[str, Any]]:
    """The current tiers, lowest first, with names, thresholds and benefits."""
    _, rules = rules_store.current()
    basis = rules.tiers.basis
    return [
        {
            "code": t.code,
            "name_zh": t.name_zh,
            "name_en": t.name_en or t.name_zh,
            "threshold": t.threshold,
            "basis": basis,
            "window_months": rules.tiers.window_months,
            "discount_percent": t.discount_percent,
            "points_multiplier": t.points_multiplier,
            "birthday_gift_points": t.birthday_gift_points,
        }
        for t in rules.tiers.tiers
    ]


router = APIRouter(prefix="/api/v1", tags=["rules"])


@router.get("/rules")
def get_rules() -> dict[str, Any]:
    """The current rules and their version (0: the defaults, never saved), with the change history."""
    version, rules = rules_store.current()
    return {"version": version, "rules": rules.model_dump(mode="json"), "history": rules_store.history()}


@router.put("/rules")
def put_rules(change: RulesChange) -> dict[str, Any]:
    """Save new rules as the next version (audited). Refused with 422 naming each bad field
    (zh-CN and English); nothing is saved then. Terminals get them with the next config release."""
    try:
        with transaction():
            version = rules_store.save_rules(change.rules, change.by, dt.datetime.now(dt.UTC))
    except rules_store.RulesRefused as exc:
        raise HTTPException(422, {"message": str(exc), "problems": exc.problems}) from exc
    return {"version": version}


@router.get("/tiers")
def get_tiers() -> list[dict[str, Any]]:
    """The tier ladder (会员等级), lowest first: names zh/en, threshold (points or fen of spend in
    the rolling window), discount, points multiplier and birthday gift."""
    return tier_ladder()
