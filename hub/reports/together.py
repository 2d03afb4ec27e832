"""Often bought together (常一起买): association rules from the real baskets, recomputed daily
by the ``bought_together`` job and read by the owner's page.

A basket is one sale's distinct products (refunds are not subtracted: the shopper chose them
together). Over the last :data:`WINDOW_DAYS` days, for products A and B:

- support = baskets with both / all baskets;
- confidence (A → B) = baskets with both / baskets with A;
- lift = confidence / (baskets with B / all baskets): above 1, A makes B likelier than chance.

A rule is kept when the pair was bought together in at least :data:`MIN_TOGETHER` baskets and its
lift is above 1; each product keeps its best :data:`PER_PRODUCT` rules (highest lift, then
confidence). Figures are stored as whole numbers (basis points, lift × 1000), so SQLite and
PostgreSQL hold the same values.
"""

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from peewee import AutoField, CharField, DateTimeField, IntegerField

from hub.ingest.models import BaseModel, Sale, SaleLine

WINDOW_DAYS = 90
MIN_TOGETHER = 3
PER_PRODUCT = 3


class BoughtTogether(BaseModel):
    """One rule: a basket with ``sku`` also holds ``with_sku`` (the latest computation only)."""

    id = AutoField()
    sku = CharField(index=True)
    with_sku = CharField()
    together = IntegerField()  # baskets holding both
    baskets = IntegerField()  # all baskets in the window
    support_bp = IntegerField()  # basis points: 1234 = 12.34 %
    confidence_bp = IntegerField()
    lift_milli = IntegerField()  # 1500 = lift 1.5
    computed_at = DateTimeField()


MODELS = [BoughtTogether]


@dataclass(frozen=True)
class Rule:
    """A → B with its figures (whole numbers: basis points, lift × 1000)."""

    sku: str
    with_sku: str
    together: int
    baskets: int
    support_bp: int
    confidence_bp: int
    lift_milli: int


def _ratio(top: int, bottom: int, scale: int) -> int:
    """``top / bottom × scale`` rounded half up, in whole numbers."""
    return (top * scale * 2 + bottom) // (bottom * 2)


def rules_from(baskets: Iterable[frozenset[str]], min_together: int = MIN_TOGETHER) -> list[Rule]:
    """Every product's best rules from ``baskets`` (pure: the job feeds it the booked sales)."""
    alone: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    total = 0
    for basket in baskets:
        total += 1
        alone.update(basket)
        pairs.update(itertools.combinations(sorted(basket), 2))
    found: dict[str, list[Rule]] = {}
    for (a, b), n in pairs.items():
        if n < min_together:
            continue
        for x, y in ((a, b), (b, a)):
            lift = _ratio(n * total, alone[x] * alone[y], 1000)
            if lift > 1000:
                rule = Rule(x, y, n, total, _ratio(n, total, 10000), _ratio(n, alone[x], 10000), lift)
                found.setdefault(x, []).append(rule)
    best = []
    for sku in sorted(found):
        ranked = sorted(found[sku], key=lambda r: (-r.lift_milli, -r.confidence_bp, r.with_sku))
        best.extend(ranked[:PER_PRODUCT])
    return best


def baskets_since(first: dt.date, last: dt.date) -> list[frozenset[str]]:
    """The booked sales from ``first`` to ``last`` as baskets of distinct SKUs."""
    query = (
        SaleLine.select(SaleLine.sale, SaleLine.sku)
        .join(Sale)
        .where(Sale.day >= first.isoformat(), Sale.day <= last.isoformat())
        .tuples()
    )
    held: dict[str, set[str]] = {}
    for sale_id, sku in query:
        held.setdefault(sale_id, set()).add(sku)
    return [frozenset(skus) for _, skus in sorted(held.items())]


def recompute(today: dt.date, now: dt.datetime) -> list[Rule]:
    """Replace the stored rules with those of the last :data:`WINDOW_DAYS` days up to ``today``;
    inside the caller's transaction."""
    found = rules_from(baskets_since(today - dt.timedelta(days=WINDOW_DAYS - 1), today))
    BoughtTogether.delete().execute()
    rows = [{**r.__dict__, "computed_at": now} for r in found]
    for start in range(0, len(rows), 500):
        BoughtTogether.insert_many(rows[start : start + 500]).execute()
    return found


def stored_rules() -> list[BoughtTogether]:
    """The rules of the latest computation, strongest first."""
    order = (BoughtTogether.lift_milli.desc(), BoughtTogether.confidence_bp.desc(), BoughtTogether.sku)
    return list(BoughtTogether.select().order_by(*order))
