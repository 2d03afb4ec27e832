"""Flash sales (秒杀) in the hub's JSON API under ``/api/v1``: define one, list them with the
per-terminal shares and what each terminal sold."""

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hub.campaigns import flash
from hub.catalog.releases import known_devices
from hub.db import transaction


class FlashSaleIn(BaseModel):
    """A flash sale to define; ``devices`` defaults to every terminal the hub has heard from."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$", description="stable id")
    sku: str = Field(min_length=1, description="the catalog product")
    price_fen: int = Field(ge=1, description="the flash price, below the product's price")
    cap: int = Field(ge=1, le=1_000_000, description="units in all, across every terminal")
    starts_at: AwareDatetime = Field(description="start, with its time zone")
    ends_at: AwareDatetime = Field(description="end, with its time zone")
    devices: list[str] = Field(default_factory=list, description="terminals sharing the cap")
    by: str = Field(min_length=1, description="recorded in the audit (the signed-in caller wins)")


router = APIRouter(prefix="/api/v1", tags=["campaigns"])


@router.get("/flash-sales")
def list_flash_sales() -> dict[str, Any]:
    """Every flash sale: cap, shares per terminal, units sold at the flash price per terminal."""
    return {"flash_sales": flash.summary(dt.datetime.now(dt.UTC))}


@router.post("/flash-sales", status_code=201)
def define_flash_sale(body: FlashSaleIn) -> dict[str, Any]:
    """Define a flash sale; its shares go to the terminals with the next config release (publish).
    Refused with 422 and the reason in zh-CN and English; nothing is saved then."""
    devices = body.devices or known_devices()
    try:
        with transaction():
            row = flash.define(
                body.id, body.sku, body.price_fen, body.cap, body.starts_at, body.ends_at,
                devices, body.by, dt.datetime.now(dt.UTC),
            )  # fmt: skip
    except flash.FlashSaleRefused as exc:
        raise HTTPException(422, {"message": str(exc)}) from exc
    return {"id": row.id, "allocations": flash.allocate(body.cap, devices)}
