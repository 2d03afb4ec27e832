"""Paying: cash confirmed by an attendant, mobile wallets on a worker thread, member payment, the sale commit.

A mixin of :class:`kiosk.app.KioskApp`: it uses the app's state and screens through ``self``.
"""

import datetime as dt
import logging
import threading
import uuid
from dataclasses import replace

from kiosk import i18n
from kiosk.domain.cart import Cart
from kiosk.domain.member_choices import step_points as next_points
from kiosk.domain.money import format_fen
from kiosk.payments import PaymentRequest, PaymentResult, PaymentStatus, wallet_for_code
from kiosk.store.sales import Approval, PaymentIntent, Sale, commit_sale
from kiosk.translations import N_

log = logging.getLogger(__name__)


class PaymentFlow:
    """Takes tenders until nothing is left to pay, then commits the sale in one transaction."""

    def start_payment(self) -> None:
        """Cart -> pay."""
        if self.cart.is_empty:
            self._say("cart_empty_hint", error=True)
            return
        if self.member is None and any(line.product.category == "count_card" for line in self.cart.lines):
            self._say(N_("count_card_no_member"), error=True)  # a count card is sold to the member shown
            return
        self.refresh_totals()
        self.message = ""
        self._message_source = None
        self.override_offered, self.override_draw = False, ""
        self.points_wanted = None
        self.go("pay")
        self.refresh_member_choices()
        self.speak("pay_mobile_hint")

    def remaining_fen(self) -> int:
        """What is still to pay."""
        return self.due_fen - sum(t.amount_fen for t in self.tenders)

    def pay_cash(self, amount_fen: int | None = None) -> None:
        """Cash for ``amount_fen`` (default: all that remains): an attendant confirms with a PIN."""
        amount = min(amount_fen or self.remaining_fen(), self.remaining_fen())
        if amount <= 0 or self.payment_busy:
            return
        from kiosk.screens.popups import PinPopup

        PinPopup.ask(
            self,
            title=N_("cash_approve_title"),
            body=(N_("cash_approve_body"), {"amount": format_fen(amount)}),
            approved=lambda staff: self._cash_received(amount, staff),
            action="cash",
        )

    def _cash_received(self, amount: int, staff: str) -> None:
        self.open_drawer()
        self.tenders.append(PaymentIntent("cash", amount, f"staff:{staff}"))
        self._say(N_("cash_received"), amount=format_fen(amount))
        self._after_tender()

    def pay_mobile(self, auth_code: str) -> None:
        """A payment code on the pay screen: charge what remains through the provider, off the UI thread."""
        if self.payment_busy:
            self._say(N_("payment_busy"), error=True)
            return
        if self.payments is None:
            self._say(N_("mobile_error"), error=True)
            return
        amount = self.remaining_fen()
        if amount <= 0:
            return
        wallet = wallet_for_code(auth_code) or "wechat"
        request = PaymentRequest(str(uuid.uuid4()), auth_code, amount, f"{self.settings.store} self-checkout")
        self.payment_busy = True
        self._say(N_("paying_mobile"), wallet=i18n.Key(f"method_{wallet}"), amount=format_fen(amount))
        provider = self.payments

        def work() -> None:
            try:
                result = provider.charge(request)
            except Exception as exc:  # reported to the shopper below and logged whole
                log.exception("payment provider failed")
                result = PaymentResult(
                    PaymentStatus.ERROR, request.order_id, amount, reason=type(exc).__name__
                )
            self.deliver(lambda: self._mobile_result(wallet, result))

        threading.Thread(target=work, name="payment", daemon=True).start()

    def _mobile_result(self, wallet: str, result: PaymentResult) -> None:
        self.payment_busy = False
        self.touched()
        name = i18n.Key(f"method_{wallet}")
        if result.approved:
            self.tenders.append(PaymentIntent(wallet, result.amount_fen, result.reference))
            self._say(N_("mobile_approved"), wallet=name, amount=format_fen(result.amount_fen))
            self._after_tender()
            return
        key = {PaymentStatus.DECLINED: N_("mobile_declined"), PaymentStatus.TIMEOUT: N_("mobile_timeout")}
        self._say(key.get(result.status, N_("mobile_error")), error=True, wallet=name, reason=result.reason)

    def refresh_member_choices(self) -> None:
        """The pay screen's member buttons and coupon choices for what is left to pay now."""
        member, source = self.member, self.members
        if member is None or source is None:
            self.member_options, self.coupon_choices, self.count_card_choices = None, [], []
            return
        self.member_options = source.member_options(
            member, self.remaining_fen(), self.due_fen, self.tenders, self.points_wanted
        )
        self.coupon_choices = list(source.coupon_choices(member, self.cart, self.declined_coupons))
        self.count_card_choices = (
            source.count_card_choices(member, self.cart, self.tenders, self.declined_coupons)
            if self.remaining_fen() > 0
            else []
        )

    def pay_count_card(self, card_id: str) -> None:
        """次卡抵扣: one visit of the member's card pays one unit of an item it covers; the visit is
        taken off the card with the sale, in its transaction."""
        from kiosk.domain.loyalty import LoyaltyError

        if self.payment_busy or self.remaining_fen() <= 0 or self.member is None or self.members is None:
            return
        try:
            tender = self.members.count_card_tender(
                self.member, self.cart, self.tenders, card_id, self.remaining_fen(), self.declined_coupons
            )
        except LoyaltyError as exc:
            log.info("count card %s refused: %s", card_id, exc)
            self._say(N_("pay_count_card_refused"), error=True)
            self.refresh_member_choices()
            return
        choice = next((c for c in self.count_card_choices if c.card_id == card_id), None)
        self.tenders.append(tender)
        names = choice.names if choice is not None else {"zh": "", "en": ""}
        self._say(N_("pay_count_card_paid"), name=names, amount=format_fen(tender.amount_fen))
        self._after_tender()
        self.refresh_member_choices()

    def pay_member(self, draw: str, override_by: str = "") -> None:
        """储值支付 (``draw`` = ``stored_value``) or 积分抵扣 (``points``): what remains, or what it covers.

        Above the offline cap that button turns into 店员授权 / Staff override
        (``override_draw``); ``override_by`` is the attendant who approved it.
        """
        from kiosk.domain.loyalty import LoyaltyError
        from kiosk.flows.members_source import NeedsAttendant

        if self.payment_busy or self.remaining_fen() <= 0:
            return
        if self.member is None or self.members is None:
            self._say(N_("member_pay_no_member"), error=True)
            return
        try:
            wanted = self.points_wanted if draw == "points" else None
            tender = self.members.member_tender(
                self.member, self.remaining_fen(), self.due_fen, self.tenders, draw, override_by, wanted
            )
        except NeedsAttendant as exc:
            log.info("member payment (%s) needs an attendant: %s", draw, exc)
            self.override_asked = exc.asked
            self.override_draw, self.override_offered = draw, True
            self._say(N_("member_pay_over_cap"), error=True)
            return
        except LoyaltyError:
            self._say(N_("member_pay_nothing"), error=True)
            return
        self.override_draw, self.override_offered = "", False
        if tender.points:
            self.points_wanted = None  # the next points tap (if the share allows one) offers the most again
        if tender.override is not None:
            self.approvals.append(Approval("offline_cap_override", override_by, tender.override))
        self.tenders.extend(tender.payments())
        if tender.points:
            self._say(N_("member_paid_points"), amount=format_fen(tender.total_fen), points=tender.points)
        else:
            self._say(N_("member_paid_stored"), amount=format_fen(tender.total_fen))
        self._after_tender()

    def member_button(self, draw: str) -> None:
        """A tap on 储值支付 or 积分抵扣: pay, or ask for the override that button is showing."""
        if self.override_offered and self.override_draw == draw:
            self.override_member_cap()
        else:
            self.pay_member(draw)

    def override_member_cap(self) -> None:
        """店员授权: an attendant's PIN lets the member payment above the offline cap through, audited."""
        from kiosk.screens.popups import PinPopup

        asked, draw = self.override_asked, self.override_draw
        if not self.override_offered or asked is None or self.payment_busy:
            return
        PinPopup.ask(
            self,
            title=N_("override_cap_title"),
            body=(
                N_("override_cap_body"),
                {"amount": format_fen(asked.stored_value_fen), "points": asked.points},
            ),
            approved=lambda staff: self.pay_member(draw, override_by=staff),
            action="cap_override",
        )

    def step_points(self, up: bool) -> None:
        """The points stepper: one stride more (``up``) or less, from 0 to the most this sale takes."""
        options = self.member_options
        if options is None or self.payment_busy or not options.points_most:
            return
        current = options.points.points
        self.points_wanted = next_points(current, options.points_most, up, self.members.rules.redeem)
        self.override_draw, self.override_offered = "", False  # the points asked have changed
        self.refresh_member_choices()

    def toggle_coupon(self, coupon_id: str) -> None:
        """The shopper ticks or unticks a usable coupon; only before anything is paid (the total changes)."""
        choice = next((c for c in self.coupon_choices if c.coupon_id == coupon_id), None)
        if choice is None or not choice.can_toggle or self.tenders or self.payment_busy:
            return
        keep = choice.state == "used"
        self.declined_coupons = (
            self.declined_coupons | {coupon_id} if keep else self.declined_coupons - {coupon_id}
        )
        self.override_draw, self.override_offered = "", False  # the amounts asked have changed
        self.refresh_totals()
        self.refresh_member_choices()
        key = N_("coupon_kept") if keep else N_("coupon_used")
        self._say(key, name=choice.name, total=format_fen(self.due_fen))

    def _after_tender(self) -> None:
        self.refresh_totals()
        if self.remaining_fen() <= 0:
            self.finish_sale()

    def finish_sale(self) -> None:
        """Everything is paid: commit the sale, its payments and member add-on in one transaction."""
        cart, member, sale_id = self.cart, self.member, str(uuid.uuid4())
        now = self.now()
        skus = {line.product.sku for line in cart.lines}
        # an attendant's 售次卡 approval belongs to the sale only while its card is still in the cart
        approvals = [a for a in self.approvals if a.action != "count_card" or a.detail.get("sku") in skus]
        try:
            addon = (
                self.members.sale_addon(member, cart, self.tenders, sale_id, self.declined_coupons)
                if member and self.members
                else None
            )

            def commit() -> Sale:
                return commit_sale(
                    cart,
                    list(self.tenders),
                    self.terminal,
                    now,
                    sale_id,
                    member=addon,
                    approvals=approvals,
                    suggested=self.together_shown,
                )

            cards = self.members.cards_in(cart) if self.members else []
            if cards and member is None:
                raise ValueError("count cards are sold to a member / 次卡须售给会员")
            sale = self.members.commit_with_cards(commit, member, cards) if cards and member else commit()
        except Exception as exc:  # shown to the person, and logged whole
            log.exception("sale commit failed")
            self._say(N_("sale_failed"), error=True, reason=str(exc))
            return
        self.points_earned = addon.earned_points if addon is not None else 0
        if member is not None:  # the points the done screen and receipt start from: less those redeemed
            redeemed = sum(int(t.reference.split(":")[1]) for t in self.tenders if t.method == "points")
            member = replace(member, points=member.points - redeemed)
        self.last_sale = {
            "cart": cart, "member": member, "tenders": list(self.tenders), "time": now,
            "discount_fen": cart.total_fen - sale.total_fen, "receipt_no": sale.receipt_no,
        }  # fmt: skip
        self.last_receipt_no = sale.receipt_no
        self.last_total_text = format_fen(sale.total_fen)
        self.qr_url = self.receipt_url(sale.receipt_no, dt.datetime.fromisoformat(sale.created_at)) or ""
        self.tenders, self.approvals, self.override_offered = [], [], False
        self.override_draw, self.declined_coupons, self.points_wanted = "", frozenset(), None
        self.forget_suggestions()
        self.set_cart(Cart())
        self.message = ""
        self.root.current = "receipt"
        self.speak("receipt_title")
