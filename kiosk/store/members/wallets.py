"""Stored value top-ups, count cards, points expiry and reward redemption."""

import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence

from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import (
    BONUS,
    POINTS,
    PRINCIPAL,
    Kind,
    LedgerEntry,
    Split,
    top_up,
)
from kiosk.domain.loyalty.count_cards import (
    CountCard,
    CountCardProduct,
    check_visit,
    sell_count_card,
)
from kiosk.domain.loyalty.expiry import expire_entries
from kiosk.domain.loyalty.ledger import count_account
from kiosk.domain.loyalty.points import redeem_reward
from kiosk.domain.loyalty.rules import CountCardKind, ExpiryRule, Reward, StoredValueRule
from kiosk.store.connection import database
from kiosk.store.member_models import (
    CountCardRow,
)
from kiosk.store.members.ledger import (
    adjust,
    ledger_entries,
    member_balances,
    new_stamp,
)
from kiosk.store.sales import Approval, PaymentIntent, Sale, Terminal, commit_sale


def top_up_stored_value(
    terminal: Terminal,
    now: dt.datetime,
    member_id: str,
    amount_fen: int,
    rule: StoredValueRule,
    staff: str,
) -> Split:
    """Record an attendant's top-up: principal plus the bonus tier it reaches (充100送20)."""
    split = top_up(amount_fen, rule)
    stamp = new_stamp(terminal, now)
    action = f"top_up:{staff}"
    entries = [
        stamp.entry(
            member_id=member_id,
            account=account,
            kind=Kind.TOP_UP,
            amount=amount,
            action=action,
            rule=rule_text,
        )
        for account, amount, rule_text in [
            (PRINCIPAL, split.principal, "principal"),
            (BONUS, split.bonus, f"bonus for {amount_fen} fen"),
        ]
        if amount
    ]
    adjust(terminal, now, entries, "top_up")
    return split


def issue_count_card(
    terminal: Terminal,
    now: dt.datetime,
    member_id: str,
    product: CountCardProduct,
    sale_id: str,
    card_id: str | None = None,
) -> CountCard:
    """Create the count card a sale of ``product`` bought, with its visits on the ledger."""
    card = sell_count_card(product, card_id or str(uuid.uuid4()), member_id, now.date())
    stamp = new_stamp(terminal, now)
    bought = stamp.entry(
        member_id=member_id,
        account=count_account(card.id),
        kind=Kind.TOP_UP,
        amount=card.visits,
        sale_id=sale_id,
        action="count_card",
        rule=product.sku,
    )
    with database.atomic("IMMEDIATE"):
        CountCardRow.create(
            id=card.id,
            member_id=member_id,
            product_sku=product.sku,
            visits=card.visits,
            service_skus=json.dumps(sorted(card.service_skus)),
            expires_on=card.expires_on.isoformat(),
        )
        adjust(terminal, now, [bought], f"count_card:{product.sku}")
    return card


def count_card_product(kind: CountCardKind) -> CountCardProduct:
    """The card product a kind from the owner's rules describes (a visit covers its services, or its sku)."""
    services = frozenset(kind.services) or frozenset({kind.sku})
    return CountCardProduct(kind.sku, kind.name_zh, kind.visits, kind.valid_months, services, kind.valid_days)


def sell_count_card_sale(
    terminal: Terminal,
    now: dt.datetime,
    member_id: str,
    kind: CountCardKind,
    payments: list[PaymentIntent],
    staff: str,
) -> tuple[Sale, CountCard]:
    """An attendant sold ``kind`` to the member: one transaction holds the sale of the card (its line,
    payments and ``sale.completed``), the attendant's ``audit.action`` (``count_card``), the card and
    its visits on the ledger with their ``ledger.adjusted`` event. Nothing is kept if any part fails."""
    product = Product(kind.sku, "", kind.name_zh, kind.name_en, kind.price_fen, "count_card")
    approval = Approval("count_card", staff, {"member_id": member_id, "sku": kind.sku, "visits": kind.visits})
    with database.atomic("IMMEDIATE"):
        sale = commit_sale(Cart().add(product), payments, terminal, now, approvals=[approval])
        card = issue_count_card(terminal, now, member_id, count_card_product(kind), sale.id)
    return sale, card


def sale_with_cards(
    commit: Callable[[], Sale],
    terminal: Terminal,
    now: dt.datetime,
    member_id: str,
    kinds: Sequence[CountCardKind],
) -> tuple[Sale, list[CountCard]]:
    """Commit a sale (``commit``, paid any way) and issue the member one card for each of ``kinds``
    it sold, with their visits, in one transaction: a failure in either keeps neither."""
    with database.atomic("IMMEDIATE"):
        sale = commit()
        cards = [issue_count_card(terminal, now, member_id, count_card_product(k), sale.id) for k in kinds]
    return sale, cards


def count_card(card_id: str) -> CountCard:
    """A stored count card (raises ``CountCardRow.DoesNotExist`` for an unknown id)."""
    row = CountCardRow.get_by_id(card_id)
    return CountCard(
        row.id,
        row.member_id,
        row.product_sku,
        row.visits,
        frozenset(json.loads(row.service_skus)),
        dt.date.fromisoformat(row.expires_on),
    )


def use_count_card(terminal: Terminal, now: dt.datetime, card_id: str, service_sku: str) -> int:
    """Take one visit of ``service_sku`` off the card; return the visits left."""
    card = count_card(card_id)
    account = count_account(card_id)
    with database.atomic("IMMEDIATE"):
        left = member_balances(card.member_id).get(account, 0)
        check_visit(card, left, service_sku, now.date())
        stamp = new_stamp(terminal, now)
        visit = stamp.entry(
            member_id=card.member_id,
            account=account,
            kind=Kind.SPEND,
            amount=-1,
            action="visit",
            rule=service_sku,
        )
        adjust(terminal, now, [visit], f"visit:{service_sku}")
    return left - 1


def expire_points(
    terminal: Terminal, now: dt.datetime, member_id: str, rule: ExpiryRule
) -> list[LedgerEntry]:
    """Write the expiries due today for the member (oldest points first); none if nothing is due."""
    with database.atomic("IMMEDIATE"):
        entries = expire_entries(ledger_entries(member_id), member_id, rule, new_stamp(terminal, now))
        return adjust(terminal, now, entries, "expiry") if entries else []


def redeem_for_reward(
    terminal: Terminal,
    now: dt.datetime,
    member_id: str,
    reward: Reward,
    quantity: int = 1,
    rules_version: int = 0,
) -> list[LedgerEntry]:
    """Spend points on a reward from the owner's list (积分兑换): one ``redeem`` entry and its
    ``ledger.adjusted`` event in one transaction; the event's ``reward`` block (id, quantity,
    points each, the rules version the terminal ran) is what the hub re-checks."""
    detail = {
        "reward": {
            "id": reward.id,
            "quantity": quantity,
            "points": reward.points,
            "rules_version": rules_version,
        }
    }
    with database.atomic("IMMEDIATE"):
        cost = redeem_reward(member_balances(member_id).get(POINTS, 0), reward, quantity)
        stamp = new_stamp(terminal, now)
        entry = stamp.entry(
            member_id=member_id,
            account=POINTS,
            kind=Kind.REDEEM,
            amount=-cost,
            action=f"reward:{reward.id}",
            rule=f"{quantity} x {reward.points}",
        )
        return adjust(terminal, now, [entry], f"reward:{reward.id}", detail)
