"""Money the business owes: points and stored value outstanding, their movement, and what stores
owe each other when value issued in one is used in another (通存通兑).

Everything is read from the member ledger (``hub_ledger_entry``), the only source of balances.
Each member's entries are walked in time order and every credit becomes a *lot* of the store whose
terminal wrote it (a top-up at S01 is S01's principal; points earned at S02 are S02's points).
A debit takes the oldest lots first (FIFO). So:

- the outstanding liability of a store is what is left of its lots: points (valued at the rules'
  redemption rate), principal and bonus stored value separately; their total is exactly the sum
  of the ledger's entries, because a debit larger than the lots left makes a negative lot of the
  store that took it (an earn reversed after the points were spent: flagged, never hidden);
- a spend or a redemption at store B that takes a lot of store A is value A issued and B gave
  out: A owes B. Whether that is settled is the owner's rule (:class:`StoreRule`): between two
  direct-run stores (直营) it nets to zero inside the company; when a franchise store (加盟) is
  involved, the face value is settled at the franchise store's rate (the redeeming store's if both
  are franchises).

A terminal's store comes from the sales it booked (``sales_hour``); a terminal that never sold is
shown under its own id.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from peewee import CharField, IntegerField, Model, fn

from hub.db import database
from hub.members.models import HubLedgerEntry
from hub.members.settings import settings as loyalty_settings
from hub.reports.summary import SalesHour
from kiosk.domain.loyalty import BONUS, POINTS, PRINCIPAL, Kind

ACCOUNTS = (POINTS, PRINCIPAL, BONUS)
DIRECT, FRANCHISE = "direct", "franchise"


class StoreRule(Model):
    """The owner's settlement rule for one store: direct-run or franchise, and a franchise's rate
    in basis points of face value (9500 = 95 %). A store without a row is direct-run."""

    store = CharField(primary_key=True)
    kind = CharField(default=DIRECT)
    rate_bp = IntegerField(default=10000)

    class Meta:
        database = database
        table_name = "settlement_store_rule"


MODELS: list[type[Model]] = [StoreRule]


class RuleError(ValueError):
    """A settlement rule that cannot be saved; ``zh`` and ``en`` say what to change."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def store_rules() -> dict[str, StoreRule]:
    """Every store's rule that the owner set."""
    return {rule.store: rule for rule in StoreRule.select()}


def set_store_rule(store: str, kind: str, rate_percent: str) -> StoreRule:
    """Save ``store``'s rule; the rate is a percentage with up to two decimals (``95``, ``97.5``)."""
    store = store.strip()
    if not store:
        raise RuleError("请填写门店编号。", "Give the store's code.")
    if kind not in (DIRECT, FRANCHISE):
        raise RuleError(
            f"门店类型只能是直营或加盟（收到 {kind!r}）。", f"A store is direct or franchise, not {kind!r}."
        )
    try:
        whole, _, cents = rate_percent.strip().partition(".")
        if len(cents) > 2 or not whole.isdigit() or (cents and not cents.isdigit()):
            raise ValueError(rate_percent)
        rate_bp = int(whole) * 100 + int(cents.ljust(2, "0") or 0)
    except ValueError:
        raise RuleError(
            f"结算比例要写成 0 到 100 的百分数，最多两位小数，例如 95 或 97.5（收到 {rate_percent!r}）。",
            f"The rate is a percentage from 0 to 100 with at most two decimals, e.g. 95 or 97.5 "
            f"(got {rate_percent!r}).",
        ) from None
    if rate_bp > 10000:
        raise RuleError("结算比例不能超过 100%。", "The rate cannot be above 100 %.")
    StoreRule.insert(store=store, kind=kind, rate_bp=rate_bp).on_conflict(
        conflict_target=[StoreRule.store], update={StoreRule.kind: kind, StoreRule.rate_bp: rate_bp}
    ).execute()
    return StoreRule.get_by_id(store)


def device_stores() -> dict[str, str]:
    """Each terminal's store, from the sales it booked."""
    rows = SalesHour.select(SalesHour.device, SalesHour.store).distinct().tuples()
    return dict(rows)


def points_value_fen(points: int) -> int:
    """Points at the rules' redemption value, in fen, rounded toward zero (100 points = ¥1 by default)."""
    per_yuan = loyalty_settings.rules.redeem.points_per_yuan
    value = abs(points) * 100 // per_yuan
    return value if points >= 0 else -value


@dataclass
class _Lot:
    store: str
    left: int


@dataclass
class Walk:
    """The ledger walked up to a day: lots left per account and store, and cross-store flows."""

    # (account, store) -> units left (points or fen)
    outstanding: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    # (issuing store, redeeming store, account) -> units used in the settlement range
    flows: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))


def walk(until: dt.date, flows_from: dt.date | None = None) -> Walk:
    """Walk every member's ledger up to ``until`` (inclusive, the entry's own day); flows counted
    from ``flows_from`` on."""
    stores = device_stores()
    end = (until + dt.timedelta(days=1)).isoformat()
    start = flows_from.isoformat() if flows_from else ""
    e = HubLedgerEntry
    rows = (
        e.select(e.member_id, e.account, e.kind, e.amount, e.at, e.device)
        .where(e.account.in_(ACCOUNTS), e.at < end)
        .order_by(e.member_id, e.account, e.at, e.device, e.seq)
        .tuples()
    )
    out = Walk()
    lots: dict[tuple[str, str], list[_Lot]] = defaultdict(list)
    owed: dict[tuple[str, str], list[_Lot]] = defaultdict(list)  # taken beyond the lots: deficits
    for member, account, kind, amount, at, device in rows.iterator():
        store = stores.get(device, device)
        key = (member, account)
        if amount > 0:
            left = _take(owed[key], amount)  # a credit first makes good what was overdrawn
            if left:
                lots[key].append(_Lot(store, left))
            continue
        queue = lots[key]
        need = -amount
        while need and queue:
            lot = queue[0]
            taken = min(need, lot.left)
            if kind in (Kind.SPEND, Kind.REDEEM) and lot.store != store and at[:10] >= start:
                out.flows[(lot.store, store, account)] += taken
            lot.left -= taken
            need -= taken
            if not lot.left:
                queue.pop(0)
        if need:
            owed[key].append(_Lot(store, need))
    for key, queue in lots.items():
        for lot in queue:
            out.outstanding[(key[1], lot.store)] += lot.left
    for key, queue in owed.items():
        for lot in queue:
            out.outstanding[(key[1], lot.store)] -= lot.left
    return out


def _take(queue: list[_Lot], amount: int) -> int:
    """Take up to ``amount`` from the oldest lots of ``queue``; return what could not be taken."""
    while amount and queue:
        taken = min(amount, queue[0].left)
        queue[0].left -= taken
        amount -= taken
        if not queue[0].left:
            queue.pop(0)
    return amount


@dataclass(frozen=True)
class LiabilityRow:
    """What one store (or all: ``store`` "") owes members: points and stored value outstanding."""

    store: str
    points: int
    principal_fen: int
    bonus_fen: int

    @property
    def points_value_fen(self) -> int:
        """The points at the redemption value."""
        return points_value_fen(self.points)

    @property
    def total_fen(self) -> int:
        """Points value, principal and bonus together."""
        return self.points_value_fen + self.principal_fen + self.bonus_fen


def liability(as_of: dt.date) -> list[LiabilityRow]:
    """Outstanding points and stored value per issuing store at the end of ``as_of``, and the total
    (last row, store "")."""
    done = walk(as_of)
    stores = sorted({store for _account, store in done.outstanding} | set(device_stores().values()))
    rows = [LiabilityRow(s, *(done.outstanding.get((account, s), 0) for account in ACCOUNTS)) for s in stores]
    total = LiabilityRow(
        "", sum(r.points for r in rows), sum(r.principal_fen for r in rows), sum(r.bonus_fen for r in rows)
    )
    return [*rows, total]


MOVEMENTS = ("issued", "redeemed", "expired", "refunded", "adjusted")
_MOVEMENT_OF = {
    Kind.EARN: "issued",
    Kind.TOP_UP: "issued",
    Kind.REDEEM: "redeemed",
    Kind.SPEND: "redeemed",
    Kind.EXPIRE: "expired",
    Kind.REFUND_REVERSAL: "refunded",
    Kind.ADJUST: "adjusted",
    Kind.MERGE: "adjusted",
}


@dataclass(frozen=True)
class Movement:
    """One account's balance over a period: opening, each kind of movement (signed), closing."""

    account: str
    opening: int
    issued: int
    redeemed: int
    expired: int
    refunded: int
    adjusted: int
    closing: int


def movement(first: dt.date, last: dt.date) -> list[Movement]:
    """Points, principal and bonus: the balance before ``first``, what moved by kind until ``last``,
    the balance after (signed sums of the ledger; ``opening`` + the movements = ``closing``)."""
    e = HubLedgerEntry
    begin, end = first.isoformat(), (last + dt.timedelta(days=1)).isoformat()
    opening = dict(e.select(e.account, fn.SUM(e.amount)).where(e.at < begin).group_by(e.account).tuples())
    moved: dict[tuple[str, str], int] = defaultdict(int)
    rows = (
        e.select(e.account, e.kind, fn.SUM(e.amount))
        .where(e.at >= begin, e.at < end)
        .group_by(e.account, e.kind)
        .tuples()
    )
    for account, kind, amount in rows:
        moved[(account, _MOVEMENT_OF.get(Kind(kind), "adjusted"))] += int(amount)
    out = []
    for account in ACCOUNTS:
        start = int(opening.get(account) or 0)
        parts = [moved[(account, m)] for m in MOVEMENTS]
        out.append(Movement(account, start, *parts, start + sum(parts)))
    return out


@dataclass(frozen=True)
class SettlementRow:
    """What ``owes`` owes ``to`` for value ``owes`` issued and ``to`` gave out in the period."""

    owes: str
    to: str
    points: int
    principal_fen: int
    bonus_fen: int
    rule: str  # "internal" (both direct-run: nets to zero) or "franchise"
    rate_bp: int  # the rate applied (0 for internal)

    @property
    def face_fen(self) -> int:
        """Points at the redemption value plus principal and bonus."""
        return points_value_fen(self.points) + self.principal_fen + self.bonus_fen

    @property
    def settled_fen(self) -> int:
        """What is paid: the face value at the rate (rounded down to the fen), 0 inside the company."""
        return self.face_fen * self.rate_bp // 10000


@dataclass(frozen=True)
class NetRow:
    """Two stores' settlement netted: ``payer`` pays ``payee`` ``amount_fen``."""

    payer: str
    payee: str
    amount_fen: int


def settlement(first: dt.date, last: dt.date) -> tuple[list[SettlementRow], list[NetRow]]:
    """The period's statement: each (issuing store, redeeming store) pair, and the net per two stores."""
    rules = store_rules()
    flows = walk(last, first).flows
    pairs = sorted({(owes, to) for owes, to, _account in flows})
    rows = []
    for owes, to in pairs:
        a, b = rules.get(owes), rules.get(to)
        if (a is None or a.kind == DIRECT) and (b is None or b.kind == DIRECT):
            rule, rate = "internal", 0
        else:
            # the franchise store's contract rate; the redeeming store's when both are franchises
            franchise = b if b is not None and b.kind == FRANCHISE else a
            rule, rate = "franchise", franchise.rate_bp if franchise is not None else 10000
        used = [flows.get((owes, to, account), 0) for account in ACCOUNTS]
        rows.append(SettlementRow(owes, to, *used, rule, rate))
    net: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        x, y = sorted((row.owes, row.to))
        net[(x, y)] += row.settled_fen if row.owes == x else -row.settled_fen
    nets = [NetRow(x, y, v) if v >= 0 else NetRow(y, x, -v) for (x, y), v in sorted(net.items()) if v]
    return rows, nets
