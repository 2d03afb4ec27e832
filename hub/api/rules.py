"""Changing the owner's loyalty rules in the hub's JSON API under ``/api/v1`` (reading them:
``GET /api/v1/rules`` and ``/tiers`` in :mod:`hub.api.loyalty`)."""

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from hub.db import transaction
from hub.rules import rewards as rewards_store
from hub.rules import store as rules_store


class RulesChange(BaseModel):
    """New rules (the whole set, as ``GET /api/v1/rules`` returns it) and who saves them."""

    model_config = ConfigDict(extra="forbid")

    rules: dict[str, Any] = Field(description="LoyaltyRules: earn, holidays, redeem, tiers, ...")
    by: str = Field(min_length=1, description="owner or staff id, recorded in the audit")


class RewardsChange(BaseModel):
    """The whole reward list (积分商城), in the order terminals show it, and who saves it."""

    model_config = ConfigDict(extra="forbid")

    rewards: list[dict[str, Any]] = Field(description="Reward: id, name_zh, name_en, points, sku")
    by: str = Field(min_length=1, description="owner or staff id, recorded in the audit")


router = APIRouter(prefix="/api/v1", tags=["rules"])


@router.get("/rules/versions")
def rule_versions() -> dict[str, Any]:
    """The current rules version (0: the defaults, never saved) and every saved version: who, when."""
    version, _ = rules_store.current()
    return {"version": version, "history": rules_store.history()}


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


@router.get("/rewards")
def get_rewards() -> dict[str, Any]:
    """The reward list of the current rules version (what the next config release sends)."""
    version, rewards = rewards_store.reward_list()
    return {"version": version, "rewards": [r.model_dump(mode="json") for r in rewards]}


@router.put("/rewards")
def put_rewards(change: RewardsChange) -> dict[str, Any]:
    """Replace the reward list: saved as the next rules version (audited), or refused with 422
    naming each bad field (zh-CN and English) and nothing saved."""
    try:
        with transaction():
            version = rewards_store.replace_rewards(change.rewards, change.by, dt.datetime.now(dt.UTC))
    except rules_store.RulesRefused as exc:
        raise HTTPException(422, {"message": str(exc), "problems": exc.problems}) from exc
    return {"version": version}
