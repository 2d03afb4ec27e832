"""Attendant mode: the staff PIN and what an attendant may do with it, each action audited.

A mixin of :class:`kiosk.app.KioskApp`: it uses the app's state and screens through ``self``.
"""

import hashlib
import hmac
from dataclasses import replace

from kiosk.domain.cart import Cart
from kiosk.domain.money import format_fen
from kiosk.flows.cart import names
from kiosk.flows.hardware import PRINTER_PROBLEMS
from kiosk.hw.status import DeviceState
from kiosk.store import audit, receipts
from kiosk.store.models import Sale


def hash_pin(pin: str, salt: bytes) -> bytes:
    """A slow salted hash of a staff PIN (scrypt)."""
    return hashlib.scrypt(pin.encode(), salt=salt, n=2**12, r=8, p=1)


REPRINT_RECENT = 5  # the reprint list shows this many last sales, and every receipt that did not print


class StaffFlow:
    """Checks staff PINs and carries out attendant actions."""

    def check_pin(self, pin: str) -> str | None:
        """The staff id for ``pin``, or None. One demo PIN until staff sync lands."""
        if hmac.compare_digest(hash_pin(pin, self._pin_salt), self._pin_hash):
            return "attendant-1"
        return None

    def open_staff_menu(self) -> None:
        """The staff button: PIN first, then the attendant actions."""
        from kiosk.screens.popups import PinPopup, StaffMenu

        PinPopup.ask(
            self,
            title="staff_check_title",
            body=("staff_check_body", {}),
            approved=lambda staff: StaffMenu.open_for(self, staff),
        )

    def override_price(self, sku: str, price_fen: int, staff: str) -> None:
        """An attendant sets a line's unit price; audited."""
        line = self._line(sku)
        if line is None or price_fen < 0:
            return
        audit.record_action(
            self.terminal, self.now(), "price_override", staff,
            {"sku": sku, "old_price_fen": line.product.price_fen, "new_price_fen": price_fen},
        )  # fmt: skip
        lines = tuple(
            replace(each, product=replace(each.product, price_fen=price_fen)) if each is line else each
            for each in self.cart.lines
        )
        self.set_cart(Cart(lines))
        self._say("price_changed", name=names(line.product), price=format_fen(price_fen))

    def void_line(self, sku: str, staff: str) -> None:
        """An attendant removes a line; audited."""
        line = self._line(sku)
        if line is not None:
            self._remove(line, staff)

    def void_sale(self, staff: str) -> None:
        """An attendant voids the whole sale before any money is taken; audited."""
        paid = sum(t.amount_fen for t in self.tenders)
        if paid:
            self._say("void_blocked", error=True, paid=format_fen(paid))
            return
        audit.record_action(
            self.terminal, self.now(), "void", staff,
            {"scope": "sale", "total_fen": self.cart.total_fen, "lines": audit.cart_lines(self.cart)},
        )  # fmt: skip
        self.reset()
        self._say("sale_voided")

    def open_reprint_list(self, staff: str) -> None:
        """The staff menu's reprint: the last sales and every receipt that has not printed."""
        from kiosk.screens.popups import ReprintPopup

        queue_ = self.print_queue
        entries = receipts.recent_receipts(
            REPRINT_RECENT,
            waiting=queue_.pending() if queue_ is not None else (),
            printed=queue_.printed if queue_ is not None else (),
        )
        ReprintPopup.open_for(self, staff, entries)

    def reprint_receipt(self, receipt_no: str, staff: str) -> None:
        """Print a stored sale's receipt again; audited. One still waiting in the queue is retried now."""
        queue_ = self.print_queue
        if queue_ is None:
            self._printer_problem(DeviceState.MISSING)
            return
        audit.record_action(self.terminal, self.now(), "reprint", staff, {"receipt_no": receipt_no})
        if receipt_no in queue_.pending():
            queue_.retry_now()
        elif not queue_.reprint(receipt_no):  # not kept by the queue (older, or printed before a restart)
            sale = Sale.get(Sale.receipt_no == receipt_no)
            shop = self.shop("zh")
            self.queue_receipt(receipts.receipt_for_sale(sale.id, shop, self.receipt_url(receipt_no)))
        if queue_.state in PRINTER_PROBLEMS:
            self._printer_problem(queue_.state)
        else:
            self._say("reprint_queued", receipt_no=receipt_no)

    def staff_open_drawer(self, staff: str) -> None:
        """An attendant opens the drawer outside a sale; audited."""
        audit.record_action(self.terminal, self.now(), "drawer_open", staff, {})
        self.open_drawer()
        self._say("drawer_opened")
