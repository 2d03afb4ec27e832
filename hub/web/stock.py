"""The stock pages and API: stock per store, a product's movements, documents, thresholds, the reorder list.

Pages (zh by default, ``&lang=en``): ``/stock`` (per store and product, ``?store=S01``),
``/stock/new?kind=receive|adjust|count|transfer`` (a document: one product a line),
``/stock/product/{sku}`` (its movements and its low-stock level per store), ``/stock/reorder``
(below the level, with the quantity that brings it back to the target); every table as CSV
(``/stock.csv?table=levels|reorder|moves|documents``). The JSON API is under ``/api/v1/stock``.

Who: the owner reads and writes every store, a manager only their own stores (a transfer: both),
the accountant reads (``hub.accounts.roles``, area ``stock``). The home page's low-stock alert
links to the reorder list (:func:`low_stock_alerts`, in ``hub.reports.overview.ALERT_SOURCES``).
"""

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from hub.catalog import csvfile as catalog_csv
from hub.catalog.models import CatalogProduct
from hub.reports import overview
from hub.reports.summary import SalesHour
from hub.stock import csvfile as stock_file
from hub.stock import ledger
from hub.stock.models import StockDocument, StockLevel, StockThreshold
from hub.web import auth, exports, i18n
from hub.web.i18n import N_
from hub.web.pages import TEMPLATES, form_fields, language, page_context
from hub.web.uploads import parse_multipart

DOCUMENT_KINDS = ("receive", "adjust", "count", "transfer")
KIND_NAMES = {
    "sale": N_("stock_kind_sale"),
    "refund": N_("stock_kind_refund"),
    "receive": N_("stock_kind_receive"),
    "adjust": N_("stock_kind_adjust"),
    "count": N_("stock_kind_count"),
    "transfer": N_("stock_kind_transfer"),
}
# the help above each document's form, chosen by kind in the template ('stock_help_' ~ kind)
HELP = (N_("stock_help_receive"), N_("stock_help_adjust"), N_("stock_help_count"), N_("stock_help_transfer"))
SHOWN_MAX = 500  # rows on one page; the CSV has them all


def low_stock_alerts(now: dt.datetime) -> list[overview.Alert]:
    """One alert when products are below their low-stock level, linking to the reorder list."""
    short = ledger.reorder_list()
    if not short:
        return []
    names = "、".join(f"{x.store} {x.name_zh or x.sku}" for x in short[:3]) + ("…" if len(short) > 3 else "")
    names_en = ", ".join(f"{x.store} {x.name_en or x.sku}" for x in short[:3]) + (
        "…" if len(short) > 3 else ""
    )
    return [
        overview.Alert(
            "stock",
            f"{len(short)} 种商品低于库存下限：{names}",
            f"{len(short)} product(s) below their low-stock level: {names_en}",
            "/stock/reorder",
            severe=False,
        )
    ]


if low_stock_alerts not in overview.ALERT_SOURCES:
    overview.ALERT_SOURCES.append(low_stock_alerts)


def known_stores() -> list[str]:
    """Every store the hub has heard of: from sales, stock and thresholds."""
    stores = {s for (s,) in SalesHour.select(SalesHour.store).distinct().tuples()}
    stores |= {s for (s,) in StockLevel.select(StockLevel.store).distinct().tuples()}
    stores |= {s for (s,) in StockThreshold.select(StockThreshold.store).distinct().tuples()}
    return sorted(stores)


def _mine(request: Request) -> frozenset[str] | None:
    return auth.visible_stores(request)


def _readable(request: Request) -> list[str] | None:
    """The stores to show: the ``store`` asked for (when the caller may see it), else all the caller's."""
    mine = _mine(request)
    chosen = request.query_params.get("store", "").strip()
    if chosen:
        if mine is not None and chosen not in mine:
            raise HTTPException(403, f"店长只能查看自己的门店（{','.join(sorted(mine))}） / not your store")
        return [chosen]
    return sorted(mine) if mine is not None else None


def _may_write(request: Request, *stores: str) -> None:
    mine = _mine(request)
    # an empty store is not another store's: the document's own check refuses it with its reason
    others = [s for s in stores if mine is not None and s and s not in mine]
    if others:
        raise HTTPException(
            403,
            f"店长只能改自己门店的库存（{'、'.join(others)} 不是） / "
            f"a manager changes only their own stores' stock (not {', '.join(others)})",
        )


def _writer(request: Request) -> bool:
    who = auth.principal(request)
    return who is not None and "stock:write" in who.permissions


def _level_dict(x: ledger.Level) -> dict[str, Any]:
    return {
        "store": x.store, "sku": x.sku, "name_zh": x.name_zh, "name_en": x.name_en, "on_hand": x.on_hand,
        "low": x.low, "target": x.target, "is_low": x.is_low, "suggested": x.suggested,
    }  # fmt: skip


class DocumentLine(BaseModel):
    """One product of a document."""

    sku: str = Field(min_length=1, max_length=40)
    quantity: int = Field(description="receive/transfer: ≥ 1; adjust: ± not 0; count: the counted number ≥ 0")


class NewDocument(BaseModel):
    """A receiving, adjustment (with a reason), stock-take or transfer (with ``to_store``)."""

    kind: Literal["receive", "adjust", "count", "transfer"]
    store: str = Field(min_length=1, max_length=32)
    to_store: str = Field(default="", max_length=32)
    reason: str = Field(default="", max_length=200)
    lines: list[DocumentLine] = Field(min_length=1, max_length=ledger.MAX_LINES)


class Threshold(BaseModel):
    """A store's low-stock level and reorder target for one product (0 and 0: no alert)."""

    store: str = Field(min_length=1, max_length=32)
    sku: str = Field(min_length=1, max_length=40)
    low: int = Field(ge=0, le=ledger.MAX_QUANTITY)
    target: int = Field(ge=0, le=ledger.MAX_QUANTITY)


def book_document(
    kind: str, store: str, to_store: str, reason: str, lines: Iterable[ledger.Line], now: dt.datetime, by: str
) -> str:
    """Write one document of ``kind``; StockError (zh/en) when it is refused."""
    if kind == "receive":
        return ledger.receive(store, lines, now, by)
    if kind == "adjust":
        return ledger.adjust(store, lines, reason, now, by)
    if kind == "count":
        return ledger.count(store, lines, now, by)
    if kind == "transfer":
        return ledger.transfer(store, to_store, lines, now, by)
    raise ledger.StockError(f"没有这种单据：{kind[:20]}。", f"No such document: {kind[:20]!r}.")


def router(tz: ZoneInfo, now: Callable[[], dt.datetime] | None = None) -> APIRouter:
    """Routes of the stock pages and API."""
    routes = APIRouter()

    def clock() -> dt.datetime:
        return now() if now else dt.datetime.now(dt.UTC)

    def text(request: Request, bad: ledger.StockError) -> str:
        return bad.en if language(request) == "en" else bad.zh

    def links(request: Request, path: str, **params: str) -> str:
        query = {k: v for k, v in params.items() if v}
        if language(request) == "en":
            query["lang"] = "en"
        return path + ("?" + urlencode(query) if query else "")

    def context(request: Request, **more: Any) -> dict[str, Any]:
        out = page_context(request, tz)
        mine = _mine(request)
        stores = [s for s in known_stores() if mine is None or s in mine]
        if mine is not None:
            stores = sorted(set(stores) | set(mine))
        out.update(
            stores=stores,
            store=request.query_params.get("store", ""),
            writer=_writer(request),
            kind_name=lambda kind: i18n.t(KIND_NAMES.get(kind, "stock_kind_adjust"), language(request)),
            link=lambda path, **params: links(request, path, **params),
            title_key=N_("stock_title"),
            **more,
        )
        return out

    @routes.get("/stock", response_class=HTMLResponse)
    def stock_page(request: Request) -> HTMLResponse:
        lang = language(request)
        stores = _readable(request)
        q = request.query_params.get("q", "").strip()
        rows = ledger.levels(stores)
        if q:
            rows = [x for x in rows if q.lower() in f"{x.sku} {x.name_zh} {x.name_en}".lower()]
        done = request.query_params.get("done", "")
        banner = ""
        if done in DOCUMENT_KINDS:
            banner = i18n.t("stock_saved", lang, kind=i18n.t(KIND_NAMES[done], lang))
        elif done.startswith("imported:"):
            documents, _, limits = done[9:].partition(":")
            banner = i18n.t("stock_imported", lang, documents=documents, limits=limits)
        return stock_view(request, rows, q, banner)

    def stock_view(
        request: Request, rows: list[ledger.Level], q: str, banner: str = "", error: str = "",
        problems: list[str] | None = None, status: int = 200,
    ) -> HTMLResponse:  # fmt: skip
        stores = _readable(request)
        page = context(
            request,
            levels=rows[:SHOWN_MAX],
            total=len(rows),
            q=q,
            low=len([x for x in rows if x.is_low]),
            documents=ledger.documents(stores, limit=20),
            banner=banner,
            error=error,
            problems=problems or [],
        )
        return TEMPLATES.TemplateResponse(request, "stock.html", page, status_code=status)

    @routes.post("/stock/import", response_class=HTMLResponse, response_model=None)
    async def import_stock(request: Request) -> HTMLResponse | RedirectResponse:
        """A stock CSV from the page's upload form, as a stock-take or a receiving (``kind``)."""
        lang = language(request)
        upload = parse_multipart(request.headers.get("content-type", ""), await request.body())
        _name, data = upload.files.get("file", ("", b""))
        kind = upload.fields.get("kind", "count")
        who = auth.principal(request)
        try:
            text = catalog_csv.decode(data)
            documents, limits = stock_file.check(text, kind)
            _may_write(request, *documents, *(store for _, store, *_rest in limits))
            ids, count = stock_file.import_text(text, kind, clock(), who.name if who else "owner")
        except catalog_csv.CsvRefused as refused:
            error = i18n.t("import_refused", lang, n=len(refused.problems))
            shown = [p.say(lang) for p in refused.problems[: catalog_csv.MAX_SHOWN]]
            rows = ledger.levels(_readable(request))
            return stock_view(request, rows, "", error=error, problems=shown, status=400)
        return RedirectResponse(
            links(request, "/stock", done=f"imported:{len(ids)}:{count}"), status_code=303
        )

    def new_page(
        request: Request, kind: str, error: str = "", form: dict[str, str] | None = None
    ) -> HTMLResponse:
        if kind not in DOCUMENT_KINDS:
            kind = "receive"
        page = context(request, kind=kind, kinds=DOCUMENT_KINDS, error=error, form=form or {})
        page["title_key"] = N_("stock_new_title")
        return TEMPLATES.TemplateResponse(request, "stock_new.html", page, status_code=400 if error else 200)

    @routes.get("/stock/new", response_class=HTMLResponse, response_model=None)
    def new_document_page(request: Request) -> HTMLResponse | RedirectResponse:
        if not _writer(request):  # a reader (the accountant) is shown the stock instead
            return RedirectResponse(links(request, "/stock"), status_code=303)
        return new_page(request, request.query_params.get("kind", "receive"))

    @routes.post("/stock/new", response_class=HTMLResponse, response_model=None)
    async def new_document(request: Request) -> HTMLResponse | RedirectResponse:
        form = await form_fields(request)
        kind = form.get("kind", "")
        store, to_store = form.get("store", "").strip(), form.get("to_store", "").strip()
        _may_write(request, store, *([to_store] if kind == "transfer" and to_store else []))
        try:
            lines = ledger.parse_lines(form.get("lines", ""))
            book_document(
                kind, store, to_store, form.get("reason", ""), lines, clock(), form.get("by", "owner")
            )
        except ledger.StockError as bad:
            return new_page(request, kind, error=text(request, bad), form=form)
        return RedirectResponse(links(request, "/stock", store=store, done=kind), status_code=303)

    @routes.get("/stock/product/{sku}", response_class=HTMLResponse)
    def product_page(request: Request, sku: str) -> HTMLResponse:
        stores = _readable(request)
        product = CatalogProduct.get_or_none(CatalogProduct.sku == sku)
        if product is None:
            raise HTTPException(404, f"没有商品 {sku[:40]} / no product {sku[:40]!r}")
        done = request.query_params.get("done", "")
        page = context(
            request,
            product=product,
            levels=ledger.levels(stores, sku=sku),
            moves=ledger.moves_of(sku, stores, limit=200),
            banner=i18n.t("stock_threshold_saved", language(request)) if done == "threshold" else "",
            error="",
        )
        return TEMPLATES.TemplateResponse(request, "stock_product.html", page)

    @routes.post("/stock/threshold", response_class=HTMLResponse, response_model=None)
    async def threshold_form(request: Request) -> HTMLResponse | RedirectResponse:
        form = await form_fields(request)
        store, sku = form.get("store", "").strip(), form.get("sku", "").strip()
        _may_write(request, store)
        lang = language(request)
        try:
            low, target = int(form.get("low", "").strip()), int(form.get("target", "").strip())
        except ValueError:
            bad = ledger.StockError(
                "低库存线和补货目标须为整数。", "The low level and the target must be whole numbers."
            )
        else:
            try:
                ledger.set_threshold(store, sku, low, target, clock(), form.get("by", "owner"))
            except ledger.StockError as refused:
                bad = refused
            else:
                return RedirectResponse(links(request, f"/stock/product/{sku}", done="threshold"), 303)
        product = CatalogProduct.get_or_none(CatalogProduct.sku == sku)
        if product is None:
            raise HTTPException(404, f"没有商品 {sku[:40]} / no product {sku[:40]!r}")
        page = context(
            request, product=product, levels=ledger.levels(_readable(request), sku=sku),
            moves=ledger.moves_of(sku, _readable(request), limit=200), banner="",
            error=bad.en if lang == "en" else bad.zh,
        )  # fmt: skip
        return TEMPLATES.TemplateResponse(request, "stock_product.html", page, status_code=400)

    @routes.get("/stock/reorder", response_class=HTMLResponse)
    def reorder_page(request: Request) -> HTMLResponse:
        page = context(request, rows=ledger.reorder_list(_readable(request)))
        page["title_key"] = N_("stock_reorder_title")
        return TEMPLATES.TemplateResponse(request, "stock_reorder.html", page)

    @routes.get("/stock.csv")
    def stock_csv(request: Request) -> Response:
        """``table``: levels (default), reorder, moves (``sku`` required), documents."""
        stores = _readable(request)
        table = request.query_params.get("table") or "levels"
        suffix = "-" + stores[0] if stores and len(stores) == 1 else ""
        if table in ("levels", "reorder"):
            rows = ledger.levels(stores) if table == "levels" else ledger.reorder_list(stores)
            header = ["store", "sku", "name_zh", "name_en", "on_hand", "low", "target", "suggested"]
            body = [
                [x.store, x.sku, x.name_zh, x.name_en, x.on_hand, x.low if x.low is not None else "",
                 x.target if x.target is not None else "", x.suggested]
                for x in rows
            ]  # fmt: skip
            return exports.csv_response(f"stock-{table}{suffix}", header, body)
        if table == "moves":
            sku = request.query_params.get("sku", "")
            moves = ledger.moves_of(sku, stores, limit=1_000_000)
            header = ["id", "at", "store", "sku", "kind", "quantity", "counted", "ref"]
            body = [[m.id, m.at, m.store, m.sku, m.kind, m.quantity, m.counted, m.ref] for m in moves]
            return exports.csv_response(f"stock-moves-{sku[:40]}{suffix}", header, body)
        if table == "documents":
            docs = ledger.documents(stores, limit=1_000_000)
            header = ["id", "at", "kind", "store", "to_store", "lines", "by", "reason"]
            body = [[d.id, d.at, d.kind, d.store, d.to_store, d.lines, d.by, d.reason] for d in docs]
            return exports.csv_response(f"stock-documents{suffix}", header, body)
        raise HTTPException(
            404,
            f"没有这个表：{table[:20]}（可选 levels、reorder、moves、documents） / no table {table[:20]!r}",
        )

    @routes.get("/api/v1/stock", tags=["stock"])
    def stock_api(request: Request, store: str = "") -> dict[str, Any]:
        """Stock per store and product (``store``: one store), with thresholds and what to reorder."""
        return {"levels": [_level_dict(x) for x in ledger.levels(_readable(request))]}

    @routes.get("/api/v1/stock/reorder", tags=["stock"])
    def reorder_api(request: Request, store: str = "") -> dict[str, Any]:
        """Products below their low-stock level, with the suggested quantity."""
        return {"reorder": [_level_dict(x) for x in ledger.reorder_list(_readable(request))]}

    @routes.get("/api/v1/stock/moves/{sku}", tags=["stock"])
    def moves_api(request: Request, sku: str, store: str = "", limit: int = 500) -> dict[str, Any]:
        """A product's movements, newest first."""
        moves = ledger.moves_of(sku, _readable(request), limit=max(1, min(limit, 10_000)))
        return {
            "sku": sku,
            "moves": [
                {"id": m.id, "at": m.at, "store": m.store, "kind": m.kind, "quantity": m.quantity,
                 "counted": m.counted, "ref": m.ref}
                for m in moves
            ],
        }  # fmt: skip

    @routes.post("/api/v1/stock/documents", tags=["stock"], status_code=201)
    def document_api(request: Request, document: NewDocument) -> dict[str, Any]:
        """Record a receiving, adjustment, stock-take or transfer; a bad line refuses it all (422, zh/en)."""
        stores = [document.store] + ([document.to_store] if document.kind == "transfer" else [])
        _may_write(request, *stores)
        who = auth.principal(request)
        lines = [(x.sku, x.quantity) for x in document.lines]
        try:
            doc = book_document(
                document.kind, document.store, document.to_store, document.reason, lines, clock(),
                who.name if who else "api",
            )  # fmt: skip
        except ledger.StockError as bad:
            raise HTTPException(422, f"{bad.zh} / {bad.en}") from None
        row = StockDocument.get_by_id(doc)
        return {"id": doc, "kind": row.kind, "store": row.store, "to_store": row.to_store, "lines": row.lines}

    @routes.put("/api/v1/stock/thresholds", tags=["stock"])
    def threshold_api(request: Request, threshold: Threshold) -> dict[str, Any]:
        """Set a store's low-stock level and reorder target for a product."""
        _may_write(request, threshold.store)
        who = auth.principal(request)
        try:
            ledger.set_threshold(
                threshold.store,
                threshold.sku,
                threshold.low,
                threshold.target,
                clock(),
                who.name if who else "api",
            )
        except ledger.StockError as bad:
            raise HTTPException(422, f"{bad.zh} / {bad.en}") from None
        return threshold.model_dump()

    return routes
