"""The cart: adding, age checks, quantities, removal (attendant if the shop says so), totals, members.

A mixin of :class:`kiosk.app.KioskApp`: it uses the app's state and screens through ``self``.
"""

from kiosk.domain.cart import MAX_QUANTITY, Cart, CartLine, Product
from kiosk.domain.errors import QuantityError
from kiosk.domain.flash import FlashDecision, decide, running_offer
from kiosk.domain.money import format_fen
from kiosk.screens.member_view import MemberView
from kiosk.store import audit, catalog
from kiosk.store.flash import flash_offers, sold_here
from kiosk.translations import N_

AGE_RESTRICTED = frozenset({"alcohol", "tobacco"})


def names(product: Product) -> dict[str, str]:
    """A product's name per language, for messages that re-render on a language switch."""
    return {"zh": product.name_zh, "en": product.name_en or product.name_zh}


class CartFlow:
    """Changes the cart and refreshes everything that shows it."""

    def flash_decision(self, product: Product, quantity: int = 1) -> FlashDecision:
        """The flash sale (秒杀) running now for ``product``: its price and whether this terminal's
        share still allows ``quantity`` more (``kiosk.domain.flash.decide``)."""
        offer = running_offer(flash_offers(self.terminal.device), product.sku, self.now())
        return decide(product, self.cart, offer, sold_here(offer) if offer else 0, quantity)

    def add_product(self, product: Product, quantity: int = 1, source: str = "") -> None:
        """Add ``product`` (at the flash price while this terminal's share lasts); age-restricted
        items wait for an attendant's PIN. ``source``: how a new line came (``together``: the
        cart's suggestion), kept on the sale line."""
        flash = self.flash_decision(product, quantity)
        if not flash.allowed:
            self._say(N_("flash_share_used"), error=True, name=names(product), left=flash.left)
            return
        product = flash.product
        if product.category in AGE_RESTRICTED and not self._already_age_checked():
            from kiosk.screens.popups import PinPopup

            PinPopup.ask(
                self,
                title=N_("age_check_title"),
                body=(N_("age_check_body"), {"name": names(product)}),
                approved=lambda staff: self._age_approved(product, quantity, staff, source),
                cancelled=lambda: self._say(N_("pin_cancelled"), error=True, name=names(product)),
                action="age_check",
            )
            return
        try:
            self.set_cart(self.cart.add(product, quantity, source))
        except QuantityError:
            self._say(N_("quantity_limit"), error=True, max=MAX_QUANTITY)
            return
        if flash.reason:
            self._say(flash.reason, name=names(product), left=flash.left, price=format_fen(product.price_fen))
        else:
            self._say(N_("added"), name=names(product))
        self.speak(N_("added"), name=names(product))

    def _already_age_checked(self) -> bool:
        return any(line.product.category in AGE_RESTRICTED for line in self.cart.lines)

    def _age_approved(self, product: Product, quantity: int, staff: str, source: str = "") -> None:
        audit.record_action(
            self.terminal, self.now(), "age_check", staff, {"sku": product.sku, "name_zh": product.name_zh}
        )
        self.set_cart(self.cart.add(product, quantity, source))
        self._say(N_("age_approved"), name=names(product))

    def change_quantity(self, sku: str, delta: int) -> None:
        """The shopper taps + or −; going below one asks to remove the line."""
        self.touched()
        line = self._line(sku)
        if line is None:
            return
        if line.quantity + delta < 1:
            self.remove_line(sku)
            return
        if delta > 0 and line.product.category == "count_card":  # each card is an attendant's sale
            self._say(N_("count_card_more_by_staff"), error=True, name=names(line.product))
            return
        if delta > 0 and not self.flash_decision(line.product, delta).allowed:
            self._say(N_("flash_share_used"), error=True, name=names(line.product), left=0)
            return
        try:
            self.set_cart(self.cart.set_quantity(sku, line.quantity + delta))
        except QuantityError:
            self._say(N_("quantity_limit"), error=True, max=MAX_QUANTITY)

    def remove_line(self, sku: str) -> None:
        """Remove a scanned line; the shop may require an attendant's PIN."""
        line = self._line(sku)
        if line is None:
            return
        if not self.settings.remove_needs_attendant:
            self._remove(line, staff="")
            return
        from kiosk.screens.popups import PinPopup

        PinPopup.ask(
            self,
            title=N_("remove_check_title"),
            body=(N_("remove_check_body"), {"name": names(line.product)}),
            approved=lambda staff: self._remove(line, staff),
            action="remove",
        )

    def _remove(self, line: CartLine, staff: str) -> None:
        if staff:
            audit.record_action(
                self.terminal, self.now(), "void", staff,
                {"scope": "line", "sku": line.product.sku, "quantity": line.quantity,
                 "total_fen": line.total_fen},
            )  # fmt: skip
        self.set_cart(self.cart.remove(line.product.sku))
        self._say(N_("removed"), name=names(line.product))

    def pick_product(self, sku: str) -> None:
        """An item without barcode chosen from the category grid."""
        from kiosk.store.models import Product as ProductRow

        row = ProductRow.get_or_none(ProductRow.sku == sku)
        if row is not None:
            self.add_product(catalog.to_cart_product(row))
        self.go("cart")

    def _line(self, sku: str) -> CartLine | None:
        return next((line for line in self.cart.lines if line.product.sku == sku), None)

    def set_cart(self, cart: Cart) -> None:
        """Replace the cart and refresh everything that shows it."""
        self.cart = cart
        self.refresh_totals()
        self.refresh_suggestion()
        self.root.get_screen("cart").show(cart, self.lang)

    def refresh_totals(self) -> None:
        """Subtotal, member savings, total due, points to earn and what is left to pay."""
        member, source, declined = self.member, self.members, self.declined_coupons
        savings = source.savings_fen(member, self.cart, declined) if member and source else 0
        self.subtotal_text = format_fen(self.cart.total_fen)
        self.discount_text = format_fen(-savings)
        self.due_fen = self.cart.total_fen - savings
        self.total_text = format_fen(self.due_fen)
        self.item_count = self.cart.item_count
        self.paid_fen = sum(t.amount_fen for t in self.tenders)
        self.remaining_text = format_fen(self.due_fen - self.paid_fen)
        if self.root is not None and self.root.current == "pay":
            self.refresh_member_choices()

    def points_to_earn(self) -> int:
        """Points the member earns on this cart (zero without a member)."""
        return self.members.points_for(self.member, self.due_fen) if self.member and self.members else 0

    def _identify(self, member: MemberView | None) -> None:
        if member is None:
            self._say(N_("member_unknown"), error=True)
            return
        if self.member is None or self.member.member_id != member.member_id:
            self.declined_coupons = frozenset()  # another member: their own coupons, all offered again
        self.member = member
        self.refresh_totals()
        self.root.get_screen("cart").show(self.cart, self.lang)
        self._say(N_("member_welcome"), name=member.name_masked)
