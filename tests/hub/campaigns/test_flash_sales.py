"""Flash sales defined at the hub: shares that add up to the cap, refusals in zh/en, the API."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hub.campaigns import flash
from hub.catalog import releases as hub_catalog
from hub.db import transaction
from hub.web.app import create_app

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 9, 20, 12, 0, tzinfo=dt.UTC)
BODY = {
    "id": "mid-autumn", "sku": "mooncake", "price_fen": 1000, "cap": 10,
    "starts_at": "2026-09-25T10:00:00+08:00", "ends_at": "2026-09-25T12:00:00+08:00",
    "devices": ["K03", "K01", "K02"], "by": "api",
}  # fmt: skip


def catalog() -> None:
    hub_catalog.load_catalog([{"sku": "mooncake", "name_zh": "月饼", "price_fen": 3000}])


def test_shares_add_up_to_exactly_the_cap() -> None:
    assert flash.allocate(10, ["K03", "K01", "K02"]) == {"K01": 4, "K02": 3, "K03": 3}
    assert flash.allocate(7, ["A", "B"]) == {"A": 4, "B": 3}
    for cap in range(3, 40):
        assert sum(flash.allocate(cap, ["A", "B", "C"]).values()) == cap


def test_a_flash_price_not_below_the_price_or_a_cap_too_small_is_refused(hub_db) -> None:  # type: ignore[no-untyped-def]
    catalog()
    start = NOW + dt.timedelta(days=1)
    with pytest.raises(flash.FlashSaleRefused, match="below the normal price"), transaction():
        flash.define("x", "mooncake", 3000, 10, start, start + dt.timedelta(hours=1), ["K01"], "o", NOW)
    with pytest.raises(flash.FlashSaleRefused, match="每台终端 1 件"), transaction():
        flash.define("x", "mooncake", 1000, 1, start, start + dt.timedelta(hours=1), ["K01", "K02"], "o", NOW)
    assert flash.FlashSale.select().count() == 0


def test_the_api_defines_lists_and_the_release_carries_the_shares(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    catalog()
    client = signed_in(create_app(TZ))
    made = client.post("/api/v1/flash-sales", json=BODY)
    assert (made.status_code, made.json()) == (
        201,
        {"id": "mid-autumn", "allocations": {"K01": 4, "K02": 3, "K03": 3}},
    )
    again = client.post("/api/v1/flash-sales", json=BODY)
    assert again.status_code == 422 and "already exists" in again.json()["detail"]["message"]
    (listed,) = client.get("/api/v1/flash-sales").json()["flash_sales"]
    assert (listed["cap"], listed["starts_at"], listed["sold"], listed["sold_total"]) == (
        10, "2026-09-25T02:00:00+00:00", {}, 0
    )  # fmt: skip
    release = hub_catalog.new_release(NOW)
    assert release.campaigns == [
        {"kind": "flash_sale", "id": "mid-autumn", "sku": "mooncake", "price_fen": 1000, "cap": 10,
         "starts_at": "2026-09-25T02:00:00+00:00", "ends_at": "2026-09-25T04:00:00+00:00",
         "allocations": {"K01": 4, "K02": 3, "K03": 3}}
    ]  # fmt: skip
    accountant = signed_in(create_app(TZ), "accountant")
    assert accountant.post("/api/v1/flash-sales", json={**BODY, "id": "b"}).status_code == 403
