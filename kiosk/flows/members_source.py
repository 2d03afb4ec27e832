"""The member panel and member payments on the real store (``kiosk.store.members``).

:class:`StoreMemberSource` is the :class:`kiosk.screens.member_view.MemberSource`
the app uses: a card tap or member QR finds the stored member, the cart is
priced with their tier discount and best coupons, and the sale's
:class:`kiosk.store.members.MemberSale` (points redeemed, stored value spent,
points earned, coupons used) commits in the sale's own transaction. No Kivy here.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from kiosk import i18n
from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import (
    BONUS,
    POINTS,
    PRINCIPAL,
    Coupon,
    CouponKind,
    EarnContext,
    EarnLine,
    Kind,
    LedgerEntry,
    LoyaltyRules,
    MemberPayment,
    OfflineSpend,
    PricedCart,
    Split,
    Verdict,
    Visit,
    best_coupons,
    check_usable,
    earn_points,
    expiring_soon,
    mask_name,
    mask_phone,
    sale_ledger,
    spend,
    tier_for,
)
from kiosk.domain.loyalty.count_cards import CARD_CATEGORY, CountCard, line_visit
from kiosk.domain.loyalty.coupons import coupon_names
from kiosk.domain.loyalty.errors import LoyaltyError
from kiosk.domain.loyalty.member_details import DetailsChange
from kiosk.domain.loyalty.rules import (
    BonusTier,
    CountCardKind,
    RegistrationCoupon,
    Reward,
    StoredValueRule,
    Tier,
    TierRule,
)
from kiosk.domain.loyalty.tiers import progress, tier_by_code
from kiosk.domain.member_choices import (
    CouponChoice,
    MemberDraw,
    MemberOptions,
    coupon_choices,
    member_options,
)
from kiosk.screens.member_view import MemberView
from kiosk.store import members
from kiosk.store.member_models import LedgerRow, Member, MemberSnapshot
from kiosk.store.pii import PiiKey
from kiosk.store.sales import PaymentIntent, Sale, Terminal
from kiosk.sync.config import applied_rules_version

STORED_VALUE, POINTS_METHOD, COUNT_CARD_METHOD = "stored_value", "points", "count_card"


@dataclass(frozen=True)
class CountCardChoice:
    """A count card that can pay one more unit in the cart now (次卡抵扣): the card, its names, the
    visits it has left after this sale's, and the line and fen one visit pays."""

    card_id: str
    names: dict[str, str] = field(compare=False)
    left: int
    sku: str
    fen: int


@dataclass(frozen=True)
class MemberTender:
    """What one tap on 储值支付 or 积分抵扣 pays: stored value fen, or points and the fen they are worth."""

    stored_value_fen: int = 0
    points: int = 0
    points_fen: int = 0
    override: dict[str, object] | None = field(default=None, compare=False)
    """With an attendant's offline-cap override: the audit detail the sale must carry."""

    @property
    def total_fen(self) -> int:
        """Fen this tender pays."""
        return self.stored_value_fen + self.points_fen

    def payments(self) -> list[PaymentIntent]:
        """The payment lines of the sale (``stored_value`` / ``points``; points count in the reference)."""
        lines = []
        if self.stored_value_fen:
            lines.append(PaymentIntent(STORED_VALUE, self.stored_value_fen, "member"))
        if self.points_fen:
            lines.append(PaymentIntent(POINTS_METHOD, self.points_fen, f"points:{self.points}"))
        return lines


class NeedsAttendant(LoyaltyError):
    """The member payment is above the terminal's offline cap: an attendant must override.

    ``asked`` is what the payment would spend; the screen shows it on the override keypad.
    """

    def __init__(self, reason: str, asked: OfflineSpend) -> None:
        super().__init__(reason)
        self.asked = asked


def _points_in(tenders: Sequence[PaymentIntent]) -> tuple[int, int]:
    points = sum(int(t.reference.split(":")[1]) for t in tenders if t.method == POINTS_METHOD)
    return points, sum(t.amount_fen for t in tenders if t.method == POINTS_METHOD)


def _stored_in(tenders: Sequence[PaymentIntent]) -> int:
    return sum(t.amount_fen for t in tenders if t.method == STORED_VALUE)


def visits_in(tenders: Sequence[PaymentIntent]) -> tuple[Visit, ...]:
    """The count card visits among ``tenders`` (reference ``<card id>:<service sku>``)."""
    return tuple(
        Visit(*t.reference.split(":", 1), t.amount_fen) for t in tenders if t.method == COUNT_CARD_METHOD
    )


class StoreMemberSource:
    """Members, their cart prices and their member payments, read from and written to the store.

    ``now`` gives the shop's local time; ``online`` says whether the hub is
    reachable (offline, member spending is limited by ``rules.risk``).
    """

    def __init__(
        self,
        key: PiiKey,
        terminal: Terminal,
        now: Callable[[], dt.datetime],
        rules: LoyaltyRules | Callable[[], LoyaltyRules] | None = None,
        online: Callable[[], bool] = lambda: False,
        tier_names_en: dict[str, str] | None = None,
    ) -> None:
        self.key, self.terminal, self.now = key, terminal, now
        self._rules = rules or LoyaltyRules()
        self.online = online
        self.tier_names_en = tier_names_en or {}
        self._last_priced: tuple[tuple[object, ...], PricedCart] | None = None

    @property
    def rules(self) -> LoyaltyRules:
        """The rules in force: fixed ones, or the applied config's (``kiosk.sync.config.RulesFromConfig``)."""
        return self._rules if isinstance(self._rules, LoyaltyRules) else self._rules()

    @rules.setter
    def rules(self, rules: LoyaltyRules) -> None:
        self._rules = rules

    def _tier_text(self, tier: Tier) -> dict[str, str]:
        return {"zh": tier.name_zh, "en": tier.name_en or self.tier_names_en.get(tier.code, tier.name_zh)}

    # --- finding ---------------------------------------------------------------------------
    def find_by_card(self, uid: str) -> MemberView | None:
        """The member whose card has ``uid`` (as read, or upper-cased)."""
        member = members.find_by_card(uid) or members.find_by_card(uid.upper())
        return self.view(member) if member else None

    def find_by_qr(self, payload: str) -> MemberView | None:
        """The member whose member QR is ``payload`` (``member:<id>``)."""
        prefix, _, member_id = payload.partition(":")
        if prefix != "member" or not member_id:
            return None
        member = members.find_by_id(member_id)
        if member is None or members.is_erased(member):  # an erased member's old QR means no one
            return None
        return self.view(member)

    def tier(self, member: Member, points: int) -> Tier:
        """The member's stored tier, or the one their points reach."""
        rule: TierRule = self.rules.tiers
        if member.tier_code:
            return tier_by_code(member.tier_code, rule)
        return tier_for(points if rule.basis == "points" else 0, rule)

    def view(self, member: Member) -> MemberView:
        """The member as the screen shows them: masked, with balances, coupons and tier progress."""
        data = members.profile(self.key, member)
        panel = members.member_panel(member.id, with_entries=self._reminds_expiry())
        held = panel.balances
        points = held.get(POINTS, 0)
        tier = self.tier(member, points)
        ahead = progress(points, self.rules.tiers) if self.rules.tiers.basis == "points" else None
        name = mask_name(data["name"]) if data["name"] else mask_phone(data["phone"])
        usable = self._usable(panel.coupons, member.id)
        return MemberView(
            member_id=member.id,
            name_masked=name,
            phone_masked=mask_phone(data["phone"]),
            tier=self._tier_text(tier),
            points=points,
            stored_value_fen=held.get(PRINCIPAL, 0) + held.get(BONUS, 0),
            coupons=tuple(coupon_names(c) for c in usable),
            next_tier=self._tier_text(ahead[0]) if ahead else None,
            points_to_next_tier=ahead[1] if ahead else 0,
            greeting=self.greeting(member.id, name, data["birthday"], first_purchase=not panel.has_history),
            expiry_notice=self.expiry_notice(member.id, panel.entries),
            welcome_back=welcome_back(name, usable),
        )

    def _reminds_expiry(self) -> bool:
        rule = self.rules.expiry
        return bool(rule.months) and rule.remind_days > 0

    def expiry_notice(self, member_id: str, entries: Sequence[LedgerEntry] | None = None) -> dict[str, str]:
        """The member panel's reminder of the first points to expire within ``rules.expiry.remind_days``.

        Lots come from this terminal's ledger, oldest spent first
        (:func:`kiosk.domain.loyalty.expiring_soon`);
        ``{}`` without an expiry rule or when nothing expires in the window. ``entries`` are
        the member's ledger entries when the caller has read them already.
        """
        rule = self.rules.expiry
        if not self._reminds_expiry():
            return {}
        if entries is None:
            entries = members.ledger_entries(member_id)
        due = expiring_soon(entries, member_id, rule, self.now().date())
        if not due:
            return {}
        day, points = due[0]
        month_name = _MONTHS_EN[day.month - 1]
        return i18n.bilingual(
            "points_expiring", points=points, month=day.month, day=day.day, month_name=month_name
        )

    def greeting(
        self, member_id: str, name: str, birthday: str, first_purchase: bool | None = None
    ) -> dict[str, str]:
        """The thank-you screen's greeting: birthday month first, then a first purchase, else welcome back.

        ``birthday`` is the decrypted ISO date ("" when not given); the month is the shop's.
        ``first_purchase`` is read from the store unless the caller knows it (the panel does).
        """
        if birthday and dt.date.fromisoformat(birthday).month == self.now().month:
            return i18n.bilingual("greeting_birthday", name=name)
        if _first_purchase(member_id) if first_purchase is None else first_purchase:
            return i18n.bilingual("greeting_first_purchase", name=name)
        return i18n.bilingual("greeting_welcome_back", name=name)

    def usable_coupons(self, member_id: str) -> list[Coupon]:
        """The member's coupons that are unused and valid now."""
        return self._usable(members.member_coupons(member_id), member_id)

    def _usable(self, coupons: Sequence[Coupon], member_id: str) -> list[Coupon]:
        usable, now = [], self.now()
        for coupon in coupons:
            try:
                check_usable(coupon, now, member_id)
            except LoyaltyError:
                continue
            usable.append(coupon)
        return usable

    # --- pricing ---------------------------------------------------------------------------
    def priced(self, member: MemberView, cart: Cart, declined: frozenset[str] = frozenset()) -> PricedCart:
        """``cart`` with the member's tier discount and the best combination of their coupons.

        ``declined`` are coupons the shopper keeps for later: they are left out of the choice.
        """
        tier = self.tier(self._row(member.member_id), member.points)
        coupons = tuple(c for c in self.usable_coupons(member.member_id) if c.id not in declined)
        # the cart screen's savings and the pay screen's coupon choices ask for the same price
        # after each change: the search over coupon combinations runs once (docs/perf.md)
        key = (member.member_id, tier.discount_percent, cart, coupons)
        if self._last_priced is not None and self._last_priced[0] == key:
            return self._last_priced[1]
        priced = best_coupons(cart, coupons, self.now(), member.member_id, tier.discount_percent)
        self._last_priced = (key, priced)
        return priced

    def _row(self, member_id: str) -> Member:
        row = members.member_by_id(member_id)
        if row is None:
            raise LookupError(f"member {member_id} is not stored here / 本机没有该会员")
        return row

    def savings_fen(self, member: MemberView, cart: Cart, declined: frozenset[str] = frozenset()) -> int:
        """Fen the member saves on ``cart`` (tier price, coupons but the ``declined`` ones)."""
        return self.priced(member, cart, declined).discount_fen if not cart.is_empty else 0

    def coupon_choices(
        self, member: MemberView, cart: Cart, declined: frozenset[str] = frozenset()
    ) -> tuple[CouponChoice, ...]:
        """Each usable coupon on ``cart``: used in the price, kept for later, or not usable here."""
        if cart.is_empty:
            return ()
        usable = self.usable_coupons(member.member_id)
        if not usable:
            return ()
        priced = self.priced(member, cart, declined)
        discount = self.tier(self._row(member.member_id), member.points).discount_percent
        return coupon_choices(usable, priced, declined, cart, self.now(), member.member_id, discount)

    def _context(self, member: MemberView) -> EarnContext:
        row = self._row(member.member_id)
        birthday = members.profile(self.key, row)["birthday"]
        return EarnContext(
            day=self.now().date(),
            birthday=dt.date.fromisoformat(birthday) if birthday else None,
            tier_multiplier=self.tier(row, member.points).points_multiplier,
        )

    def points_for(self, member: MemberView, paid_fen: int) -> int:
        """Points the member earns when ``paid_fen`` of what is due is paid in money."""
        lines = [EarnLine("", "", paid_fen)] if paid_fen > 0 else []
        return earn_points(lines, 0, self.rules.earn, self._context(member), self.rules.holidays).points

    # --- paying ----------------------------------------------------------------------------
    def member_options(
        self,
        member: MemberView,
        remaining_fen: int,
        due_fen: int,
        taken: Sequence[PaymentIntent],
        wanted_points: int | None = None,
    ) -> MemberOptions:
        """What 储值支付 and 积分抵扣 would pay now (balances less ``taken``), or why not.

        ``wanted_points``: how many points the shopper chose to use (``None``: the most allowed).
        """
        held = members.member_balances(member.member_id)
        used_points, used_points_fen = _points_in(taken)
        return member_options(
            held.get(PRINCIPAL, 0) + held.get(BONUS, 0) - _stored_in(taken),
            held.get(POINTS, 0) - used_points,
            remaining_fen,
            due_fen,
            used_points_fen,
            self.rules.redeem,
            wanted_points,
        )

    def member_tender(
        self,
        member: MemberView,
        remaining_fen: int,
        due_fen: int,
        taken: Sequence[PaymentIntent],
        draw: MemberDraw | str,
        override_by: str = "",
        wanted_points: int | None = None,
    ) -> MemberTender:
        """Stored value or points (``draw``) for up to ``remaining_fen``; raise if over the offline cap.

        ``taken`` are the tenders already on the sale, so a second tap never
        spends the same balance twice, and points stay within the rules' share of
        ``due_fen`` over the whole sale. Raises :class:`NeedsAttendant` above the
        offline cap (unless attendant ``override_by`` approved it: the tender then
        carries the audit detail) and :class:`LoyaltyError` when ``draw`` has nothing to pay with.
        Points pay ``wanted_points`` when the shopper chose fewer than the most allowed.
        """
        options = self.member_options(member, remaining_fen, due_fen, taken, wanted_points)
        if draw == MemberDraw.STORED_VALUE:
            tender = MemberTender(stored_value_fen=options.stored_value_pay_fen)
        else:
            tender = MemberTender(points=options.points.points, points_fen=options.points.fen)
        if tender.total_fen <= 0:
            raise LoyaltyError(f"no {draw} to pay with / 没有可用的储值或积分")
        asked = OfflineSpend(tender.points, tender.stored_value_fen)
        cap = self.rules.risk
        decision = members.check_member_spend(member.member_id, asked, self.online(), cap, override_by)
        if decision.verdict is Verdict.OVERRIDDEN:
            detail = {
                "reason": decision.reason,
                "points": tender.points,
                "stored_value_fen": tender.stored_value_fen,
                "cap_points": cap.offline_points,
                "cap_stored_value_fen": cap.offline_stored_value_fen,
            }
            return replace(tender, override=detail)
        if decision.verdict is not Verdict.ALLOW:
            raise NeedsAttendant(decision.reason, asked)
        return tender

    # --- topping up ------------------------------------------------------------------------
    def change_details(self, member: MemberView, change: DetailsChange, staff: str) -> MemberView:
        """Staff corrected the member's details for them: the change, its ``member.updated`` and the
        ``member_edit`` audit in one transaction; returns the member as the screen now shows them."""
        members.change_details(self.key, self.terminal, self.now(), member.member_id, change, staff)
        return self.view(Member.get_by_id(member.member_id))

    def details_shown(self, member: MemberView) -> tuple[str, bool]:
        """What staff see before correcting: the member's masked name ("" without one), and whether
        a birthday is on record (not the date itself)."""
        data = members.profile(self.key, self._row(member.member_id))
        return (mask_name(data["name"]) if data["name"] else ""), bool(data["birthday"])

    def bonus_tiers(self) -> tuple[BonusTier, ...]:
        """The top-up bonus tiers (充100送20), lowest first."""
        return tuple(sorted(self.rules.stored_value.bonus_tiers, key=lambda t: t.min_fen))

    def top_up(self, member: MemberView, amount_fen: int, staff: str) -> tuple[Split, MemberView]:
        """An attendant took ``amount_fen`` in cash: principal plus bonus onto the member's stored value.

        The ledger entries and their ``ledger.adjusted`` event commit in one
        transaction; returns the split and the member as the screen now shows them.
        """
        split = members.top_up_stored_value(
            self.terminal, self.now(), member.member_id, amount_fen, self.rules.stored_value, staff
        )
        return split, self.view(Member.get_by_id(member.member_id))

    def sale_addon(
        self,
        member: MemberView,
        cart: Cart,
        tenders: Sequence[PaymentIntent] = (),
        sale_id: str = "",
        declined: frozenset[str] = frozenset(),
    ) -> members.MemberSale:
        """The member's part of sale ``sale_id``: coupons (but ``declined``), points redeemed, stored value
        spent, earned."""
        priced = self.priced(member, cart, declined)
        held = members.member_balances(member.member_id)
        sv_rule = self.rules.stored_value
        stored = spend(_stored_in(tenders), Split(held.get(PRINCIPAL, 0), held.get(BONUS, 0)), sv_rule)
        points, points_fen = _points_in(tenders)
        paid = MemberPayment(points=points, points_fen=points_fen, stored=stored, visits=visits_in(tenders))
        stamp = members.new_stamp(self.terminal, self.now())
        earned, entries = sale_ledger(
            member.member_id, sale_id, priced, paid, self.rules, self._context(member), stamp
        )
        version = self.rules_version()
        points_after = held.get(POINTS, 0) + sum(e.amount for e in entries if e.account == POINTS)
        return members.MemberSale(
            member.member_id, sale_id, priced, tuple(entries), earned.points, rules_version=version,
            phone_masked=member.phone_masked, points_after=points_after,
        )  # fmt: skip

    # --- count cards (次卡) ---------------------------------------------------------------------
    def count_card_kinds(self) -> tuple[CountCardKind, ...]:
        """The count cards the owner's rules let an attendant of this store sell, in the owner's order."""
        return tuple(kind for kind in self.rules.count_cards if kind.sold_at(self.terminal.store))

    def sell_count_card(self, member: MemberView, sku: str, staff: str) -> tuple[str, CountCard, MemberView]:
        """An attendant took the card's price in cash: the sale of the card, the attendant's approval and
        the card with its visits commit in one transaction (:func:`members.sell_count_card_sale`).
        Returns the receipt number, the card and the member as the screen now shows them; raises
        :class:`LoyaltyError` when ``sku`` is not (any more) on the owner's list."""
        kind = next((k for k in self.count_card_kinds() if k.sku == sku), None)
        if kind is None:
            raise LoyaltyError(f"count card {sku} is not on the list / 该次卡已下架")
        sale, card = members.sell_count_card_sale(
            self.terminal, self.now(), member.member_id, kind, [PaymentIntent("cash", kind.price_fen)], staff
        )
        return sale.receipt_no, card, self.view(Member.get_by_id(member.member_id))

    def card_product(self, sku: str) -> Product:
        """The cart line that sells count card ``sku`` (paid on the pay screen any way, 次卡 sold by an
        attendant); raises :class:`LoyaltyError` when it is not (any more) sold here."""
        kind = next((k for k in self.count_card_kinds() if k.sku == sku), None)
        if kind is None:
            raise LoyaltyError(f"count card {sku} is not on the list / 该次卡已下架")
        return Product(kind.sku, "", kind.name_zh, kind.name_en, kind.price_fen, CARD_CATEGORY)

    def card_visits(self, sku: str) -> int:
        """The visits count card ``sku`` holds (0 when it left the list)."""
        return next((k.visits for k in self.rules.count_cards if k.sku == sku), 0)

    def cards_in(self, cart: Cart) -> list[CountCardKind]:
        """One kind per count card unit the cart sells; raises :class:`LoyaltyError` when a card line
        is no longer on the owner's list for this store (it would be sold without its card)."""
        kinds = {k.sku: k for k in self.count_card_kinds()}
        lines = [line for line in cart.lines if line.product.category == CARD_CATEGORY]
        gone = [line.product.sku for line in lines if line.product.sku not in kinds]
        if gone:
            raise LoyaltyError(f"count card {', '.join(gone)} is not on the list / 该次卡已下架")
        return [kinds[line.product.sku] for line in lines for _ in range(line.quantity)]

    def commit_with_cards(
        self, commit: Callable[[], Sale], member: MemberView, kinds: Sequence[CountCardKind]
    ) -> Sale:
        """Commit the sale and issue its count cards to ``member`` in one transaction."""
        sale, _cards = members.sale_with_cards(commit, self.terminal, self.now(), member.member_id, kinds)
        return sale

    def use_count_visit(self, member: MemberView, card_id: str) -> int:
        """The member used one visit of their card (its first covered service); returns the visits left.
        Raises :class:`LoyaltyError` for another member's card, an expired card or none left."""
        card = members.count_card(card_id)
        if card.member_id != member.member_id:
            raise LoyaltyError("not this member's card / 不是该会员的次卡")
        return members.use_count_card(self.terminal, self.now(), card_id, min(card.service_skus))

    def count_card_choices(
        self,
        member: MemberView,
        cart: Cart,
        taken: Sequence[PaymentIntent],
        declined: frozenset[str] = frozenset(),
    ) -> list[CountCardChoice]:
        """The member's cards that can pay one more unit in ``cart`` now (``taken``: the sale's tenders)."""
        out = []
        for held in members.count_cards(member.member_id):
            try:
                out.append(self._visit(member, cart, taken, declined, held.card, held.visits_left))
            except LoyaltyError:
                continue  # expired, empty, or nothing in the cart it covers: no button
        return out

    def count_card_tender(
        self,
        member: MemberView,
        cart: Cart,
        taken: Sequence[PaymentIntent],
        card_id: str,
        remaining_fen: int,
        declined: frozenset[str] = frozenset(),
    ) -> PaymentIntent:
        """One visit of the member's card ``card_id`` paying one unit of a line it covers (at most
        ``remaining_fen``); the visit itself is written with the sale (:meth:`sale_addon`).
        Raises :class:`LoyaltyError` for another member's card, an expired or empty card, or a cart
        without an unpaid unit the card covers."""
        held = next((h for h in members.count_cards(member.member_id) if h.card.id == card_id), None)
        if held is None:
            raise LoyaltyError("not this member's card / 不是该会员的次卡")
        choice = self._visit(member, cart, taken, declined, held.card, held.visits_left)
        if min(choice.fen, remaining_fen) <= 0:
            raise LoyaltyError("nothing left to pay / 已无需支付")
        return PaymentIntent(COUNT_CARD_METHOD, min(choice.fen, remaining_fen), f"{card_id}:{choice.sku}")

    def _visit(
        self,
        member: MemberView,
        cart: Cart,
        taken: Sequence[PaymentIntent],
        declined: frozenset[str],
        card: CountCard,
        left: int,
    ) -> CountCardChoice:
        visits = visits_in(taken)
        remaining = left - sum(1 for v in visits if v.card_id == card.id)
        lines = self.priced(member, cart, declined).lines
        sku, fen = line_visit(card, remaining, lines, [v.service_sku for v in visits], self.now().date())
        return CountCardChoice(card.id, self.count_card_names(card.product_sku), remaining, sku, fen)

    def count_card_names(self, sku: str) -> dict[str, str]:
        """A card's names by language from the owner's list (its sku when the kind left the list)."""
        kind = next((k for k in self.rules.count_cards if k.sku == sku), None)
        if kind is None:
            return {"zh": sku, "en": sku}
        return {"zh": kind.name_zh, "en": kind.name_en or kind.name_zh}

    # --- rewards (积分兑换) ---------------------------------------------------------------------
    def redeem_reward(self, member: MemberView, reward_id: str) -> Reward:
        """Spend the member's points on one of the owner's rewards; raise :class:`LoyaltyError` when the
        reward is not (any more) on the list or the points are short, :class:`NeedsAttendant` above the
        offline cap. Booked with its ``ledger.adjusted`` event in one transaction."""
        reward = next((r for r in self.rules.rewards if r.id == reward_id), None)
        if reward is None:
            raise LoyaltyError(f"reward {reward_id} is not on the list / 该礼品已下架")
        asked = OfflineSpend(reward.points, 0)
        decision = members.check_member_spend(member.member_id, asked, self.online(), self.rules.risk)
        if decision.verdict is not Verdict.ALLOW:
            raise NeedsAttendant(decision.reason, asked)
        version = self.rules_version() or 0
        members.redeem_for_reward(self.terminal, self.now(), member.member_id, reward, 1, version)
        return reward

    def rules_version(self) -> int | None:
        """The ``rules.version`` of the applied config whose rules are in force (0: built-in defaults);
        None for fixed rules (tests, tools), whose sales then state no version."""
        if isinstance(self._rules, LoyaltyRules):
            return None
        return applied_rules_version()


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def welcome_back(name: str, usable: Sequence[Coupon]) -> dict[str, str]:
    """The greeting of a member the hub judged dormant: their win-back coupon, ready for this sale.

    The hub issues the coupon (``occasion`` ``winback``) and sends it with the member copy, so the
    greeting works offline too; ``{}`` when the member holds no usable win-back coupon.
    """
    offer = next((c for c in usable if c.occasion == "winback"), None)
    if offer is None:
        return {}
    names = coupon_names(offer)
    return i18n.bilingual("greeting_winback", name=name, coupon=names)


def _first_purchase(member_id: str) -> bool:
    """Nothing on the member's ledger here (no sale, top-up or adjustment) and no balance from the hub."""
    on_ledger = LedgerRow.select().where(LedgerRow.member_id == member_id).exists()
    from_hub = MemberSnapshot.select().where(MemberSnapshot.member_id == member_id).exists()
    return not (on_ledger or from_hub)


def demo_rules() -> LoyaltyRules:
    """The demo shop's rules: 1 point per yuan; 普通 / 金卡 (1000 points) / 铂金卡 (2000 points);
    a new member gets 新会员满20减3 (30 days); top-ups 充100送20, 充200送50; four rewards
    (200, 600, 1000 and 2500 points); two count cards (洗车5次卡 ¥99, 咖啡10次卡 ¥150)."""
    tiers = TierRule(
        basis="points",
        tiers=(
            Tier(code="normal", name_zh="普通会员", threshold=0),
            Tier(code="gold", name_zh="金卡会员", threshold=1000),
            Tier(code="platinum", name_zh="铂金卡", threshold=2000),
        ),
    )
    welcome = RegistrationCoupon(name_zh="新会员满20减3", min_spend_fen=2000, off_fen=300, valid_days=30)
    bonuses = (BonusTier(min_fen=10000, bonus_fen=2000), BonusTier(min_fen=20000, bonus_fen=5000))
    stored_value = StoredValueRule(bonus_tiers=bonuses)
    rewards = (
        Reward(id="bag", name_zh="环保购物袋", name_en="Shopping bag", points=200),
        Reward(id="coffee", name_zh="现磨咖啡一杯", name_en="A fresh coffee", points=600),
        Reward(id="mug", name_zh="保温杯", name_en="Travel mug", points=1000),
        Reward(id="towel", name_zh="纯棉毛巾礼盒", name_en="Towel gift box", points=2500),
    )
    count_cards = (
        CountCardKind(sku="wash5", name_zh="洗车5次卡", name_en="Car wash × 5", visits=5, price_fen=9900,
                      valid_months=6, services=("wash",)),
        CountCardKind(sku="coffee10", name_zh="咖啡10次卡", name_en="Coffee × 10", visits=10, price_fen=15000,
                      valid_months=12, services=("DRK-015",)),  # the demo catalog's 雀巢咖啡丝滑拿铁
    )  # fmt: skip
    return LoyaltyRules(
        tiers=tiers, registration_coupon=welcome, stored_value=stored_value, rewards=rewards,
        count_cards=count_cards,
    )  # fmt: skip


DEMO_TIER_NAMES_EN = {"normal": "Member", "gold": "Gold member", "platinum": "Platinum"}
DEMO_MEMBER_ID, DEMO_PHONE, DEMO_NAME, DEMO_CARD_UID = "demo-member-0001", "13800138000", "张三", "0012345678"
DEMO_POINTS, DEMO_STORED_VALUE_FEN = 1280, 5000


def seed_demo_member(key: PiiKey, terminal: Terminal, now: dt.datetime, rules: LoyaltyRules) -> Member:
    """The demo member (card ``0012345678``, QR ``member:demo-member-0001``, phone 13800138000).

    1280 points (金卡), ¥50 stored value and a 满30减5 coupon.

    Only the first run seeds balances; later runs find the member by phone.
    """
    consent = members.Consent(version="demo", where=f"{terminal.store}/{terminal.device}")
    registration = members.register_member(
        key, terminal, now, DEMO_PHONE, consent, name=DEMO_NAME, member_id=DEMO_MEMBER_ID
    )
    member = registration.member
    if not registration.created:
        return member
    members.link_card(terminal, now, member.id, DEMO_CARD_UID)
    stamp = members.new_stamp(terminal, now)
    gift = stamp.entry(member_id=member.id, account=POINTS, kind=Kind.ADJUST, amount=DEMO_POINTS)
    members.adjust(terminal, now, [gift], "demo welcome points")
    members.top_up_stored_value(terminal, now, member.id, DEMO_STORED_VALUE_FEN, rules.stored_value, "demo")
    members.add_coupon(
        Coupon(
            id="demo-coupon-0001",
            kind=CouponKind.THRESHOLD,
            name_zh="满30减5",
            min_spend_fen=3000,
            off_fen=500,
            valid_from=now - dt.timedelta(days=1),
            valid_until=now + dt.timedelta(days=365),
            member_id=member.id,
        )
    )
    return member
