"""The catalog page and API: find a product, change its price, name or category, switch it off, add one,
and publish the catalog to the terminals.

``/catalog?q=奶&category=dairy`` (zh by default, ``&lang=en``); posts go to
``/catalog/{sku}``, ``/catalog`` (new) and ``/catalog/publish``. The API is under
``/api/v1/catalog``. A change reaches the terminals with the next published release.
"""

import datetime as dt
import socket
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from hub.catalog import csvfile, images
from hub.catalog import edits as catalog_admin
from hub.catalog import prices as store_prices
from hub.catalog import releases as cat
from hub.catalog.models import ProductImage
from hub.catalog.releases import CatalogProduct
from hub.ingest.batch import STORE_OF
from hub.web import auth, i18n
from hub.web.pages import TEMPLATES, form_fields, language, page_context
from hub.web.uploads import parse_multipart

SHOWN_MAX = 200  # rows on one page; the search narrows it down

Publisher = Callable[[], tuple[int, int]]  # publish the catalog now -> (release version, terminals)


class ProductChange(BaseModel):
    """Fields to change; absent fields stay as they are."""

    by: str = Field(min_length=1, description="owner or staff id, recorded in the audit")
    price: str | None = Field(default=None, description="Yuan as typed, e.g. '12.50'.")
    name_zh: str | None = None
    name_en: str | None = None
    category: str | None = None
    active: bool | None = None


class NewProduct(BaseModel):
    """A product to add."""

    by: str = Field(min_length=1, description="owner or staff id, recorded in the audit")
    sku: str
    barcode: str | None = None
    name_zh: str
    name_en: str = ""
    price: str = Field(description="Yuan as typed, e.g. '12.50'.")
    category: str = ""


class StorePriceChange(BaseModel):
    """A store's own price for a product; an empty ``price`` removes it (the catalog price applies)."""

    store: str = Field(min_length=1, max_length=32)
    sku: str = Field(min_length=1, max_length=40)
    price: str = Field(default="", max_length=20, description="Yuan as typed, e.g. '12.50'; '' removes it.")


def _own_store(request: Request, store: str) -> None:
    """A manager sets prices only for their own stores."""
    mine = auth.visible_stores(request)
    if mine is not None and store.strip() and store.strip() not in mine:
        raise HTTPException(
            403, f"店长只能改自己门店的价格（{store[:32]} 不是） / a manager prices only their own stores"
        )


def _as_dict(p: CatalogProduct) -> dict[str, Any]:
    return {
        k: getattr(p, k) for k in ("sku", "barcode", "name_zh", "name_en", "price_fen", "category", "active")
    }


def _matching(q: str, category: str) -> Any:
    query = CatalogProduct.select().order_by(CatalogProduct.category, CatalogProduct.sku)
    if category:
        query = query.where(CatalogProduct.category == category)
    if q:
        like = f"%{q}%"
        query = query.where(
            CatalogProduct.name_zh.contains(q)
            | CatalogProduct.name_en.contains(q)
            | (CatalogProduct.sku**like)
            | (CatalogProduct.barcode**like)
        )
    return query


def router(
    tz: ZoneInfo, publisher: Publisher | None = None, now: Callable[[], dt.datetime] | None = None
) -> APIRouter:
    """Routes of the catalog page and API; ``publisher`` sends the catalog out (``hub serve`` gives one)."""
    routes = APIRouter()

    def clock() -> dt.datetime:
        return now() if now else dt.datetime.now(dt.UTC)

    def render(
        request: Request,
        banner: str = "",
        error: str = "",
        status: int = 200,
        problems: list[str] | None = None,
    ) -> HTMLResponse:
        context = page_context(request, tz)
        q = request.query_params.get("q", "").strip()
        category = request.query_params.get("category", "")
        query = _matching(q, category)
        categories = [
            c
            for (c,) in CatalogProduct.select(CatalogProduct.category)
            .distinct()
            .order_by(CatalogProduct.category)
            .tuples()
        ]
        pending = catalog_admin.unpublished()
        mine = auth.visible_stores(request)
        names = {p.sku: p for p in CatalogProduct.select()}
        own = [
            (store, sku, fen, names.get(sku))
            for store, skus in store_prices.store_prices().items()
            if mine is None or store in mine
            for sku, fen in skus.items()
        ]
        shown = list(query.limit(SHOWN_MAX))
        context.update(
            pictures=images.with_images([p.sku for p in shown]),
            store_prices=own,
            products=shown,
            shown_total=query.count(),
            total=CatalogProduct.select().count(),
            q=q,
            category=category,
            categories=[c for c in categories if c],
            pending=pending,
            publisher=publisher is not None,
            banner=banner,
            error=error,
            problems=problems or [],
            yuan=lambda fen: f"{fen // 100}.{fen % 100:02d}",
        )
        return TEMPLATES.TemplateResponse(request, "catalog.html", context, status_code=status)

    def back(request: Request, **params: str) -> RedirectResponse:
        lang = "&lang=en" if language(request) == "en" else ""
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return RedirectResponse(f"/catalog?{query}{lang}", status_code=303)

    def message(request: Request, bad: catalog_admin.CatalogError) -> str:
        return bad.en if language(request) == "en" else bad.zh

    @routes.get("/catalog", response_class=HTMLResponse)
    def catalog_page(request: Request) -> HTMLResponse:
        lang = language(request)
        done = request.query_params.get("done", "")
        banner = ""
        if done.startswith("saved:"):
            banner = i18n.t("catalog_saved", lang).format(sku=done[6:])
        elif done.startswith("added:"):
            banner = i18n.t("added", lang).format(sku=done[6:])
        elif done.startswith("imported:"):
            added, _, changed = done[9:].partition(":")
            banner = i18n.t("catalog_imported", lang, added=added, changed=changed)
        elif done.startswith("published:"):
            version, _, count = done[10:].partition(":")
            banner = i18n.t("published", lang).format(v=version, n=count)
        return render(request, banner=banner)

    @routes.post("/catalog/publish", response_class=HTMLResponse, response_model=None)
    def publish_page(request: Request) -> HTMLResponse | RedirectResponse:
        if publisher is None:
            raise HTTPException(status_code=503, detail="no broker configured for publishing")
        try:
            version, count = publisher()
        except (ConnectionError, OSError, RuntimeError) as exc:
            lang = language(request)
            return render(request, error=i18n.t("publish_failed", lang) + str(exc), status=502)
        return back(request, done=f"published:{version}:{count}")

    @routes.get("/catalog.csv")
    def catalog_csv() -> Response:
        """Every product as CSV (sku, barcode, name_zh, name_en, price in yuan, category, active 1/0)."""
        return Response(
            csvfile.export_text(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="catalog.csv"'},
        )

    @routes.post("/catalog/import", response_class=HTMLResponse, response_model=None)
    async def import_page(request: Request) -> HTMLResponse | RedirectResponse:
        """A catalog CSV from the page's upload form: every row checked, a bad file refused whole."""
        lang = language(request)
        upload = parse_multipart(request.headers.get("content-type", ""), await request.body())
        _name, data = upload.files.get("file", ("", b""))
        who = getattr(request.state, "principal", None)
        try:
            text = csvfile.decode(data)
            added, changed = csvfile.import_text(text, clock(), who.name if who else "owner")
        except csvfile.CsvRefused as refused:
            shown = [p.say(lang) for p in refused.problems[: csvfile.MAX_SHOWN]]
            error = i18n.t("import_refused", lang, n=len(refused.problems))
            return render(request, error=error, status=400, problems=shown)
        return back(request, done=f"imported:{added}:{changed}")

    @routes.post("/catalog/store-price", response_class=HTMLResponse, response_model=None)
    async def store_price_page(request: Request) -> HTMLResponse | RedirectResponse:
        """Set (or with an empty price remove) a store's own price of a product."""
        form = await form_fields(request)
        store, sku = form.get("store", ""), form.get("sku", "")
        _own_store(request, store)
        try:
            catalog_admin.set_store_price(store, sku, form.get("price", ""), clock(), form.get("by", "owner"))
        except catalog_admin.CatalogError as bad:
            return render(request, error=message(request, bad), status=400)
        return back(request, done=f"saved:{sku.strip()}")

    @routes.get("/api/v1/catalog/store-prices", tags=["catalog"])
    def store_prices_api(request: Request) -> dict[str, Any]:
        """Every store's own prices (fen): ``{"S02": {"sku": 720}}``; a manager sees their stores'."""
        mine = auth.visible_stores(request)
        every = store_prices.store_prices()
        return {"store_prices": {s: p for s, p in every.items() if mine is None or s in mine}}

    @routes.put("/api/v1/catalog/store-prices", tags=["catalog"])
    def store_price_api(request: Request, change: StorePriceChange) -> dict[str, Any]:
        """Set a store's own price of a product (yuan as text; '' removes it); audited. Terminals get it
        with the next published release."""
        _own_store(request, change.store)
        who = auth.principal(request)
        try:
            fen = catalog_admin.set_store_price(
                change.store, change.sku, change.price, clock(), who.name if who else "api"
            )
        except catalog_admin.CatalogError as bad:
            raise HTTPException(
                status_code=404 if "No product" in bad.en else 422, detail=f"{bad.zh} / {bad.en}"
            ) from None
        return {"store": change.store.strip(), "sku": change.sku.strip(), "price_fen": fen}

    @routes.post("/catalog/image", response_class=HTMLResponse, response_model=None)
    async def image_page(request: Request) -> HTMLResponse | RedirectResponse:
        """A product's picture from the page's upload form (sku, file): checked, then stored."""
        upload = parse_multipart(request.headers.get("content-type", ""), await request.body())
        sku = upload.fields.get("sku", "").strip()
        _name, data = upload.files.get("file", ("", b""))
        who = auth.principal(request)
        try:
            images.save_image(sku, data, clock(), who.name if who else "owner")
        except catalog_admin.CatalogError as bad:
            return render(request, error=f"{sku[:40]}: {message(request, bad)}", status=400)
        return back(request, done=f"saved:{sku}", q=sku)

    @routes.get("/catalog/{sku}/image")
    def image_file(sku: str) -> Response:
        """The product's picture, with the type its bytes showed and nosniff."""
        picture = ProductImage.get_or_none(ProductImage.sku == sku)
        if picture is None:
            raise HTTPException(404, f"没有商品图片 {sku[:40]} / no image for {sku[:40]!r}")
        return Response(
            bytes(picture.data),
            media_type=picture.content_type,
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600",
                     "Content-Security-Policy": "default-src 'none'"},
        )  # fmt: skip

    @routes.post("/catalog/{sku}", response_class=HTMLResponse, response_model=None)
    async def save_product(request: Request, sku: str) -> HTMLResponse | RedirectResponse:
        form = await form_fields(request)
        try:
            catalog_admin.update_product(
                sku, clock(), form.get("by", "owner"), price=form.get("price"), name_zh=form.get("name_zh"),
                name_en=form.get("name_en"), category=form.get("category"), active=form.get("active") == "1",
            )  # fmt: skip
        except catalog_admin.CatalogError as bad:
            return render(request, error=f"{sku}: {message(request, bad)}", status=400)
        return back(request, done=f"saved:{sku}", q=sku)

    @routes.post("/catalog", response_class=HTMLResponse, response_model=None)
    async def add_page(request: Request) -> HTMLResponse | RedirectResponse:
        form = await form_fields(request)
        try:
            product = catalog_admin.add_product(
                {
                    "sku": form.get("sku", "").strip(),
                    "barcode": form.get("barcode", "").strip() or None,
                    "name_zh": form.get("name_zh", "").strip(),
                    "name_en": form.get("name_en", "").strip(),
                    "price_fen": catalog_admin.price_from_text(form.get("price", "")),
                    "category": form.get("category", "").strip(),
                },
                clock(),
                form.get("by", "owner"),
            )
        except catalog_admin.CatalogError as bad:
            return render(request, error=message(request, bad), status=400)
        return back(request, done=f"added:{product.sku}", q=product.sku)

    @routes.get("/api/v1/catalog", tags=["catalog"])
    def catalog_api(q: str = "", category: str = "") -> dict[str, Any]:
        """Products (all, or those matching ``q`` / ``category``) and what is not yet published."""
        pending = catalog_admin.unpublished()
        return {
            "products": [_as_dict(p) for p in _matching(q, category)],
            "unpublished": {
                "release": pending.release,
                "added": pending.added,
                "changed": pending.changed,
                "removed": pending.removed,
                "behind": dict(pending.behind),
            },
        }

    @routes.patch("/api/v1/catalog/{sku}", tags=["catalog"])
    def change_api(sku: str, change: ProductChange) -> dict[str, Any]:
        """Change a product's price (yuan as text), names, category or on/off; audited."""
        try:
            fields = change.model_dump(exclude={"by"})
            product = catalog_admin.update_product(sku, clock(), change.by, **fields)
        except catalog_admin.CatalogError as bad:
            raise HTTPException(
                status_code=404 if "No product" in bad.en else 422, detail=f"{bad.zh} / {bad.en}"
            ) from None
        return _as_dict(product)

    @routes.post("/api/v1/catalog", tags=["catalog"], status_code=201)
    def add_api(new: NewProduct) -> dict[str, Any]:
        """Add a product (new SKU and barcode); audited."""
        try:
            fields = new.model_dump(exclude={"by", "price"})
            product = catalog_admin.add_product(
                {**fields, "price_fen": catalog_admin.price_from_text(new.price)}, clock(), new.by
            )
        except catalog_admin.CatalogError as bad:
            raise HTTPException(status_code=422, detail=f"{bad.zh} / {bad.en}") from None
        return _as_dict(product)

    return routes


def broker_publisher(
    host: str, port: int, username: str | None = None, password: str | None = None, ca_file: str | None = None
) -> Publisher:
    """Publish like ``hub config publish``: a new release, retained, to every known terminal."""

    def publish() -> tuple[int, int]:
        targets = cat.known_devices()
        if not targets:
            raise RuntimeError("还没有任何终端 / no terminal known yet")
        try:  # a broker that is down is found before a release number is spent
            socket.create_connection((host, port), timeout=5).close()
        except OSError:
            raise ConnectionError(
                f"无法连接消息服务器 {host}:{port} / cannot reach the broker at {host}:{port}"
            ) from None
        release = cat.new_release(dt.datetime.now(dt.UTC))
        cat.publish_release(release, targets, host, port, username, password, ca_file, registry=STORE_OF)
        return release.version, len(targets)

    return publish
