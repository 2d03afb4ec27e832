"""The count card kinds (次卡种类) the terminals sell: kept inside the loyalty rules like the
reward list, so every change is a new, audited rules version and reaches the terminals with the
next config release (``hub config publish``).

The owner edits every kind; a store manager only kinds sold in their own stores (a kind with no
stores is sold everywhere, so it is the owner's). What a person typed is checked here before the
rules are: the sku and store codes against a short pattern, the price in yuan, the services
against the catalog; each problem is one zh-CN/English line naming the field.
"""

import datetime as dt
import re
from typing import Any

from hub.accounts import audit as owner_audit
from hub.catalog.models import CatalogProduct
from hub.rules import store as rules_store
from hub.rules.store import RulesRefused
from hub.web.i18n import N_, t
from kiosk.domain.loyalty.rules import CountCardKind
from kiosk.domain.money import parse_yuan

__all__ = ["KindForm", "kinds", "put_kind", "remove_kind"]

#: What a sku or a store code may be made of (they reach pages, ledgers and file names).
CODE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")

#: The form's fields, as the page posts them.
KindForm = dict[str, str]


def kinds() -> tuple[int, tuple[CountCardKind, ...]]:
    """The current rules version and its count card kinds, in the owner's order."""
    version, rules = rules_store.current()
    return version, rules.count_cards


def _line(field: str, key: str, **values: object) -> str:
    return f"{field}: {t(key, 'zh', **values)} / {t(key, 'en', **values)}"


def _codes(text: str) -> list[str]:
    """``"wash, wax"`` or ``"wash，wax"`` as ``["wash", "wax"]`` (Chinese commas too)."""
    return [part.strip() for part in re.split(r"[,，\s]+", text) if part.strip()]


def parse_form(form: KindForm) -> dict[str, Any]:
    """The kind the form describes, as the rules hold it; raise :class:`RulesRefused` naming each
    field a person must fix (nothing is saved)."""
    problems: list[str] = []
    sku = form.get("sku", "").strip()
    if not CODE.match(sku):
        problems.append(_line("sku", N_("cc_problem_code")))
    try:
        price_fen = int(parse_yuan(form.get("price", "")))
    except ValueError:
        problems.append(_line("price", N_("cc_problem_price")))
        price_fen = 0
    services = _codes(form.get("services", ""))
    stores = _codes(form.get("stores", ""))
    for field, codes in (("services", services), ("stores", stores)):
        problems += [_line(field, N_("cc_problem_code")) for code in codes if not CODE.match(code)][:1]
    known = {p.sku for p in CatalogProduct.select(CatalogProduct.sku).where(CatalogProduct.sku.in_(services))}
    missing = [code for code in services if CODE.match(code) and code not in known]
    if missing:
        problems.append(_line("services", N_("cc_problem_not_in_catalog"), skus=", ".join(missing)))
    if problems:
        raise RulesRefused(problems)
    return {
        "sku": sku, "name_zh": form.get("name_zh", "").strip(), "name_en": form.get("name_en", "").strip(),
        "visits": form.get("visits", "").strip(), "price_fen": price_fen,
        "valid_days": form.get("valid_days", "").strip() or "0", "valid_months": 12,
        "services": services, "stores": stores,
    }  # fmt: skip


def _may_edit(stores: tuple[str, ...] | list[str], mine: frozenset[str] | None) -> bool:
    """Whether someone limited to ``mine`` (None: every store) may edit a kind sold in ``stores``."""
    return mine is None or (bool(stores) and set(stores) <= mine)


def _refuse_others(stores: tuple[str, ...] | list[str], mine: frozenset[str] | None) -> None:
    if not _may_edit(stores, mine):
        yours = ", ".join(sorted(mine or ()))
        raise RulesRefused([_line("stores", N_("cc_problem_not_your_stores"), stores=yours)])


def put_kind(form: KindForm, mine: frozenset[str] | None, by: str, now: dt.datetime) -> int:
    """Add the kind ``form`` describes at the end, or replace the kind with its sku in place; return
    the new rules version. ``mine``: the caller's stores (None: the owner's every store). Call inside
    a transaction; a refused kind raises :class:`RulesRefused` and saves nothing."""
    item = parse_form(form)
    _refuse_others(item["stores"], mine)
    _, rules = rules_store.current()
    kept = [k.model_dump(mode="json") for k in rules.count_cards]
    skus = [k["sku"] for k in kept]
    if item["sku"] in skus:
        existing = rules.count_cards[skus.index(item["sku"])]
        _refuse_others(existing.stores, mine)  # a manager cannot take over another store's card
        item["valid_months"] = existing.valid_months  # kept for cards sold before days were set
        kept[skus.index(item["sku"])] = item
    else:
        kept.append(item)
    version = rules_store.save_rules(rules.model_dump(mode="json") | {"count_cards": kept}, by, now)
    shown = {k: item[k] for k in ("visits", "price_fen", "valid_days", "services", "stores")}
    owner_audit.record(by, "count_card_kind.saved", item["sku"], now, version=version, **shown)
    return version


def remove_kind(sku: str, mine: frozenset[str] | None, by: str, now: dt.datetime) -> int:
    """Take the kind ``sku`` off the list (terminals stop selling it with the next release; cards
    already sold keep their visits). Returns the new rules version."""
    _, rules = rules_store.current()
    found = [k for k in rules.count_cards if k.sku == sku]
    if not found:
        raise RulesRefused([_line("sku", N_("cc_problem_unknown"), sku=sku)])
    _refuse_others(found[0].stores, mine)
    kept = [k.model_dump(mode="json") for k in rules.count_cards if k.sku != sku]
    version = rules_store.save_rules(rules.model_dump(mode="json") | {"count_cards": kept}, by, now)
    owner_audit.record(by, "count_card_kind.removed", sku, now, version=version)
    return version


def editable(kind: CountCardKind, mine: frozenset[str] | None) -> bool:
    """Whether the page offers ``kind``'s change and remove buttons to someone limited to ``mine``."""
    return _may_edit(kind.stores, mine)
