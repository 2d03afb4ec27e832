"""Count cards (次卡): a product that sells a number of visits for a service, with expiry."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from kiosk.domain.loyalty.dates import add_months
from kiosk.domain.loyalty.errors import CardExpired, InsufficientBalance
from kiosk.domain.loyalty.pricing import PricedLine

#: The category of a count card's own sale line (a card is never paid with a visit of another).
CARD_CATEGORY = "count_card"


@dataclass(frozen=True)
class CountCardProduct:
    """What the catalog sells: ``visits`` of ``service_skus`` valid for ``valid_months``, or for
    ``valid_days`` when that is set."""

    sku: str
    name_zh: str
    visits: int
    valid_months: int
    service_skus: frozenset[str]
    valid_days: int = 0


@dataclass(frozen=True)
class CountCard:
    """A member's count card: visits bought, last valid day."""

    id: str
    member_id: str
    product_sku: str
    visits: int
    service_skus: frozenset[str]
    expires_on: dt.date


def sell_count_card(product: CountCardProduct, card_id: str, member_id: str, on: dt.date) -> CountCard:
    """The card a sale of ``product`` on ``on`` creates; valid through the day before the anniversary
    (``valid_days`` set: through the last of that many days, the day of sale the first)."""
    if product.valid_days:
        last_day = on + dt.timedelta(days=product.valid_days - 1)
    else:
        last_day = add_months(on, product.valid_months) - dt.timedelta(days=1)
    return CountCard(card_id, member_id, product.sku, product.visits, product.service_skus, last_day)


def check_visit(card: CountCard, remaining: int, service_sku: str, on: dt.date, visits: int = 1) -> None:
    """Raise unless ``visits`` of ``service_sku`` can be taken from ``card`` on ``on``.

    ``remaining`` is the card's ledger balance (visits bought minus visits used).
    """
    if on > card.expires_on:
        raise CardExpired(f"count card expired on {card.expires_on} / 次卡已过期")
    if service_sku not in card.service_skus:
        raise InsufficientBalance(f"count card does not cover {service_sku} / 此次卡不适用该项目")
    if visits > remaining:
        raise InsufficientBalance(f"{remaining} visits left, {visits} asked / 剩余次数不足")


def line_visit(
    card: CountCard, remaining: int, lines: Sequence[PricedLine], paid_skus: Sequence[str], on: dt.date
) -> tuple[str, int]:
    """The cart line one more visit of ``card`` pays (次卡抵扣): its sku and one unit's fen after discounts.

    ``paid_skus`` has one sku per visit already taken in this sale, ``remaining`` is the card's
    visits less those. The units of a line share its net fen exactly (the last takes the odd fen).
    Raises like :func:`check_visit`, or :class:`InsufficientBalance` when no unpaid unit is covered.
    """
    for line in lines:
        done = list(paid_skus).count(line.sku)
        if line.sku in card.service_skus and line.category != CARD_CATEGORY and done < line.quantity:
            check_visit(card, remaining, line.sku, on)
            share = line.net_fen * (done + 1) // line.quantity - line.net_fen * done // line.quantity
            return line.sku, share
    raise InsufficientBalance("no item in the cart this card covers / 购物车中没有此次卡适用的商品")
