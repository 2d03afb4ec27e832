"""Members on the terminal: registration, cards, ledger writes, coupons, member sales.

Every change writes its outbox event in the same transaction as the change
(``member.registered``, ``card.linked``, ``ledger.adjusted``; a member sale's
entries ride in its ``sale.completed``). Rules come from
:mod:`kiosk.domain.loyalty`; this module only stores and reads.
"""

import dataclasses
import datetime as dt
import itertools
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kiosk.domain.loyalty import (
    BONUS,
    POINTS,
    PRINCIPAL,
    Coupon,
    CouponKind,
    CouponNotApplicable,
    Kind,
    LedgerEntry,
    LoyaltyError,
    OfflineSpend,
    PricedCart,
    RiskDecision,
    Split,
    Stamp,
    chain,
    check_offline_spend,
    normalize_phone,
    refund_reversals,
    top_up,
)
from kiosk.domain.loyalty.count_cards import (
    CountCard,
    CountCardProduct,
    check_visit,
    sell_count_card,
)
from kiosk.domain.loyalty.coupons import coupons_to_restore
from kiosk.domain.loyalty.expiry import expire_entries
from kiosk.domain.loyalty.ledger import GENESIS, count_account
from kiosk.domain.loyalty.points import redeem_reward
from kiosk.domain.loyalty.rules import ExpiryRule, Reward, RiskCap, StoredValueRule
from kiosk.store.db import database
from kiosk.store.member_models import (
    CountCardRow,
    CouponRow,
    LedgerHead,
    LedgerRow,
    Member,
    MemberCard,
)
from kiosk.store.models import Outbox
from kiosk.store.outbox import append_event
from kiosk.store.pii import PiiKey
from kiosk.store.sales import Terminal


class CardTaken(LoyaltyError):
    """The card is already linked to another member."""


@dataclass(frozen=True)
class Consent:
    """The privacy consent the member accepted: text version, when, where (store/device)."""

    version: str
    where: str


@dataclass(frozen=True)
class Registration:
    """The member a phone belongs to, and whether this call created them."""

    member: Member
    created: bool


def _ts(now: dt.datetime) -> str:
    return now.isoformat(timespec="milliseconds")


def new_stamp(terminal: Terminal, now: dt.datetime) -> Stamp:
    """A stamp for entries made now on this terminal, with fresh UUIDs."""
    return Stamp(terminal.device, _ts(now), (str(uuid.uuid4()) for _ in itertools.count()))


def find_by_phone(key: PiiKey, phone: str) -> Member | None:
    """The member with this phone (any format; normalised first), or None."""
    index = key.blind_index(normalize_phone(phone))
    return Member.get_or_none(Member.phone_index == index)


def find_by_card(uid: str) -> Member | None:
    """The member a card belongs to (following a hub merge), or None."""
    card = MemberCard.get_or_none(MemberCard.uid == uid)
    if card is None:
        return None
    member = Member.get_or_none(Member.id == card.member_id)
    while member is not None and member.merged_into:
        member = Member.get_or_none(Member.id == member.merged_into)
    return member


def register_member(
    key: PiiKey,
    terminal: Terminal,
    now: dt.datetime,
    phone: str,
    consent: Consent,
    *,
    name: str = "",
    birthday: dt.date | None = None,
    gender: str = "",
    member_id: str | None = None,
) -> Registration:
    """Register a member, or return the one who already has this phone (no new event then)."""
    e164 = normalize_phone(phone)
    index = key.blind_index(e164)
    member_id = member_id or str(uuid.uuid4())
    ts = _ts(now)
    with database.atomic("IMMEDIATE"):
        existing = Member.get_or_none(Member.phone_index == index)
        if existing is not None:
            return Registration(existing, False)
        fields = {
            "id": member_id,
            "phone_index": index,
            "phone_enc": key.encrypt(e164, f"{member_id}:phone"),
            "name_enc": key.encrypt(name, f"{member_id}:name") if name else "",
            "birthday_enc": key.encrypt(birthday.isoformat(), f"{member_id}:birthday") if birthday else "",
            "gender": gender,
            "home_store": terminal.store,
            "source": "kiosk",
            "consent_version": consent.version,
            "consent_at": ts,
            "consent_where": consent.where,
            "created_at": ts,
        }
        member = Member.create(**fields)
        _event(terminal, ts, "member.registered", {"member": fields})
    return Registration(member, True)


def profile(key: PiiKey, member: Member) -> dict[str, str]:
    """The member's personal data in clear, for their own screen: phone, name, birthday."""
    return {
        "phone": key.decrypt(member.phone_enc, f"{member.id}:phone"),
        "name": key.decrypt(member.name_enc, f"{member.id}:name") if member.name_enc else "",
        "birthday": key.decrypt(member.birthday_enc, f"{member.id}:birthday") if member.birthday_enc else "",
    }


def link_card(
    terminal: Terminal, now: dt.datetime, member_id: str, uid: str, kind: str = "nfc"
) -> MemberCard:
    """Link card ``uid`` to the member; linking it again to the same member changes nothing."""
    ts = _ts(now)
    with database.atomic("IMMEDIATE"):
        card = MemberCard.get_or_none(MemberCard.uid == uid)
        if card is not None:
            if card.member_id != member_id:
                raise CardTaken(f"card {uid} belongs to another member / 该卡已绑定其他会员")
            return card
        card = MemberCard.create(uid=uid, member_id=member_id, kind=kind, linked_at=ts)
        data = {"uid": uid, "member_id": member_id, "kind": kind, "linked_at": ts}
        _event(terminal, ts, "card.linked", data)
    return card


def _event(terminal: Terminal, ts: str, type: str, data: dict[str, Any]) -> str:
    event_id = str(uuid.uuid4())
    append_event(event_id=event_id, device=terminal.device, boot=terminal.boot, ts=ts, type=type, data=data)
    return event_id


def write_ledger(entries: Iterable[LedgerEntry], event_id: str) -> list[LedgerEntry]:
    """Chain ``entries`` after this device's ledger head and insert them (inside a transaction)."""
    if not database.in_transaction():
        raise RuntimeError("write_ledger must run inside the change's own transaction")
    head, _ = LedgerHead.get_or_create(id=1, defaults={"seq": 0, "hash": GENESIS})
    linked = chain(entries, head.seq, head.hash)
    if not linked:
        return []
    rows = [{**e.to_dict(), "event_id": event_id} for e in linked]
    LedgerRow.insert_many(rows).execute()
    LedgerHead.update(seq=linked[-1].seq, hash=linked[-1].hash).where(LedgerHead.id == 1).execute()
    return linked


def adjust(
    terminal: Terminal, now: dt.datetime, entries: list[LedgerEntry], reason: str
) -> list[LedgerEntry]:
    """Write ``entries`` and their ``ledger.adjusted`` event in one transaction."""
    event_id = str(uuid.uuid4())
    with database.atomic("IMMEDIATE"):
        linked = write_ledger(entries, event_id)
        data = {"reason": reason, "entries": [e.to_dict() for e in linked]}
        append_event(
            event_id=event_id,
            device=terminal.device,
            boot=terminal.boot,
            ts=_ts(now),
            type="ledger.adjusted",
            data=data,
        )
    return linked


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


def ledger_entries(member_id: str | None = None) -> list[LedgerEntry]:
    """This terminal's ledger entries (of one member, or all), in sequence order."""
    query = LedgerRow.select()
    if member_id is not None:
        query = query.where(LedgerRow.member_id == member_id)
    return _entries(query)


_ENTRY_FIELDS = frozenset(f.name for f in dataclasses.fields(LedgerEntry))


def _entries(query: Any) -> list[LedgerEntry]:
    rows = query.order_by(LedgerRow.seq).dicts()
    return [LedgerEntry.from_dict({k: v for k, v in r.items() if k in _ENTRY_FIELDS}) for r in rows]


def member_balances(member_id: str) -> dict[str, int]:
    """The member's balance on every account this terminal knows, as sums of entries."""
    rows = (
        LedgerRow.select(LedgerRow.account, LedgerRow.amount).where(LedgerRow.member_id == member_id).tuples()
    )
    totals: dict[str, int] = {}
    for account, amount in rows:
        totals[account] = totals.get(account, 0) + amount
    return totals


def offline_spent(member_id: str) -> OfflineSpend:
    """Points and stored value the member spent here in entries the hub has not acked yet."""
    rows: list[tuple[str, int]] = list(
        LedgerRow.select(LedgerRow.account, LedgerRow.amount)
        .join(Outbox, on=(Outbox.id == LedgerRow.event_id))
        .where(
            LedgerRow.member_id == member_id,
            LedgerRow.kind.in_([Kind.REDEEM.value, Kind.SPEND.value]),
            Outbox.sent_at.is_null(),
        )
        .tuples()
    )
    points = sum(-amount for account, amount in rows if account == POINTS)
    fen = sum(-amount for account, amount in rows if account in (PRINCIPAL, BONUS))
    return OfflineSpend(points, fen)


def add_coupon(coupon: Coupon) -> None:
    """Store a coupon the member holds (from the hub, a campaign or registration)."""
    body = dataclasses.asdict(coupon)
    body.update(
        kind=str(coupon.kind),
        valid_from=coupon.valid_from.isoformat(),
        valid_until=coupon.valid_until.isoformat(),
        skus=sorted(coupon.skus),
        categories=sorted(coupon.categories),
    )
    CouponRow.insert(
        id=coupon.id,
        member_id=coupon.member_id,
        body=json.dumps(body, ensure_ascii=False),
        single_use=coupon.single_use,
    ).on_conflict_ignore().execute()


def _coupon(row: CouponRow) -> Coupon:
    body = json.loads(row.body)
    body.update(
        kind=CouponKind(body["kind"]),
        valid_from=dt.datetime.fromisoformat(body["valid_from"]),
        valid_until=dt.datetime.fromisoformat(body["valid_until"]),
        skus=frozenset(body["skus"]),
        categories=frozenset(body["categories"]),
        used=row.used_sale_id is not None,
    )
    return Coupon(**body)


def member_coupons(member_id: str) -> list[Coupon]:
    """Every coupon of the member (used ones included, flagged ``used``)."""
    return [_coupon(r) for r in CouponRow.select().where(CouponRow.member_id == member_id)]


@dataclass(frozen=True)
class MemberSale:
    """The loyalty side of a sale, built before the commit and written inside it.

    Pass it to :func:`kiosk.store.sales.commit_sale` as ``member=``; the sale's
    payments must then add up to ``priced.total_fen``.
    """

    member_id: str
    sale_id: str
    priced: PricedCart
    entries: tuple[LedgerEntry, ...]
    earned_points: int
    tier_code: str | None = None

    @property
    def discount_fen(self) -> int:
        """Member discount and coupons together."""
        return self.priced.discount_fen

    def write(self, sale_id: str, event_id: str, ts: str) -> dict[str, Any]:
        """Store entries and coupon use; return what the ``sale.completed`` event adds."""
        if sale_id != self.sale_id or any(e.sale_id != sale_id for e in self.entries):
            raise ValueError(f"member sale was built for {self.sale_id}, committed as {sale_id}")
        for coupon_id in self.priced.coupon_ids:
            used = (
                CouponRow.update(used_sale_id=sale_id, used_at=ts)
                .where(CouponRow.id == coupon_id, CouponRow.used_sale_id.is_null())
                .execute()
            )
            if CouponRow.get_or_none(CouponRow.id == coupon_id) and not used:
                raise CouponNotApplicable(f"coupon {coupon_id} was already used / 优惠券已使用")
        linked = write_ledger(self.entries, event_id)
        if self.tier_code:
            Member.update(tier_code=self.tier_code, tier_grace_until=None).where(
                Member.id == self.member_id
            ).execute()
        return {
            "member_id": self.member_id,
            "ledger": [e.to_dict() for e in linked],
            "coupons": list(self.priced.coupon_ids),
            "discounts": [dataclasses.asdict(d) for d in self.priced.discounts],
            "net_lines": [line.net_fen for line in self.priced.lines],
            "earn_lines": [
                {"sku": x.sku, "category": x.category, "net_fen": x.net_fen} for x in self.priced.earn_lines()
            ],
            "earned_points": self.earned_points,
            "tier": self.tier_code,
        }


def sale_entries(sale_id: str) -> list[LedgerEntry]:
    """The ledger entries a sale wrote (not its refund reversals), in sequence order."""
    query = LedgerRow.select().where(
        LedgerRow.sale_id == sale_id, LedgerRow.kind != Kind.REFUND_REVERSAL.value
    )
    return _entries(query)


def refund_member_sale(
    terminal: Terminal,
    now: dt.datetime,
    sale_id: str,
    sale_total_fen: int,
    refunded_before_fen: int,
    refund_fen: int,
    refund_id: str,
) -> list[LedgerEntry]:
    """Reverse earned points and restore spent points and stored value for a (partial) refund.

    ``refunded_before_fen`` is what earlier refunds of the sale returned. The
    refund that completes a full refund also gives the sale's coupons back.
    """
    entries = refund_reversals(
        sale_entries(sale_id),
        sale_total_fen,
        refunded_before_fen,
        refund_fen,
        new_stamp(terminal, now),
        f"refund:{refund_id}",
    )
    refunded = refunded_before_fen + refund_fen
    with database.atomic("IMMEDIATE"):
        linked = adjust(terminal, now, entries, f"refund:{refund_id}")
        used = [r.id for r in CouponRow.select().where(CouponRow.used_sale_id == sale_id)]
        for coupon_id in coupons_to_restore(tuple(used), sale_total_fen, refunded):
            CouponRow.update(used_sale_id=None, used_at=None).where(CouponRow.id == coupon_id).execute()
    return linked


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
    terminal: Terminal, now: dt.datetime, member_id: str, reward: Reward, quantity: int = 1
) -> list[LedgerEntry]:
    """Spend points on a reward from the catalogue (积分兑换)."""
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
        return adjust(terminal, now, [entry], f"reward:{reward.id}")


def check_member_spend(
    member_id: str,
    asked: OfflineSpend,
    online: bool,
    cap: RiskCap,
    override_by: str = "",
) -> RiskDecision:
    """May the member spend ``asked`` here now? Offline, counts what is still unacked.

    An ``overridden`` decision carries the audit record; the caller writes it as
    an ``audit.action`` event with the sale.
    """
    return check_offline_spend(online, offline_spent(member_id), asked, cap, override_by)
