"""Flash sales (秒杀) in the hub's JSON API under ``/api/v1``: define one, list them with the
per-terminal shares and what each terminal sold."""

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hub.campaigns import flash
from hub.catalog.prices import store_of_device
from hub.catalog.releases import known_devices
from hub.db import transaction
from hub.fleet.devices import StoreBook
from hub.web.auth import visible_stores


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


def router(data_dir: Path) -> APIRouter:
    """``GET`` and ``POST /api/v1/flash-sales``; a manager lists and defines only sales whose
    terminals all sell for their stores (the device registry in ``data_dir`` places them)."""
    routes = APIRouter(prefix="/api/v1", tags=["campaigns"])
    book = StoreBook(data_dir)

    def store_of(device: str) -> str | None:
        return store_of_device(device, [book])

    @routes.get("/flash-sales")
    def list_flash_sales(request: Request) -> dict[str, Any]:
        """Every flash sale (a manager's: their stores' only): cap, shares per terminal, units sold
        at the flash price per terminal."""
        stores = visible_stores(request)
        sales = flash.summary(dt.datetime.now(dt.UTC))
        return {"flash_sales": [s for s in sales if stores is None or flash.within(s, stores, store_of)]}

    @routes.post("/flash-sales", status_code=201)
    def define_flash_sale(body: FlashSaleIn, request: Request) -> dict[str, Any]:
        """Define a flash sale; its shares go to the terminals with the next config release (publish).
        Refused with 422 and the reason in zh-CN and English; a manager's naming another store's
        terminal (or none) with 403. Nothing is saved then."""
        stores = visible_stores(request)
        if stores is not None:
            try:
                flash.check_reach(body.devices, stores, store_of)
            except flash.FlashSaleRefused as exc:
                raise HTTPException(403, {"message": str(exc)}) from exc
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

    return routes
