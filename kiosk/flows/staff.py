"""Attendant mode: the staff PIN and what an attendant may do with it, each action audited.

A mixin of :class:`kiosk.app.KioskApp`: it uses the app's state and screens through ``self``.
"""

import hashlib
import hmac
import logging
from dataclasses import replace
from typing import Any

from kiosk.domain.cart import Cart
from kiosk.domain.money import format_fen
from kiosk.flows.cart import names
from kiosk.flows.hardware import PRINTER_PROBLEMS
from kiosk.hw.status import DeviceState
from kiosk.store import audit, receipts, staff_clock
from kiosk.translations import N_

log = logging.getLogger(__name__)


def hash_pin(pin: str, salt: bytes) -> bytes:
    """A slow salted hash of a staff PIN (scrypt)."""
    return hashlib.scrypt(pin.encode(), salt=salt, n=2**12, r=8, p=1)


REPRINT_RECENT = 5  # the reprint list shows this many last sales, and every receipt that did not print


class StaffFlow:
    """Checks staff PINs and carries out attendant actions."""

    def check_pin(self, pin: str) -> str | None:
        """The staff id for ``pin``, or None. One attendant (``AppSettings``) until staff sync lands."""
        if hmac.compare_digest(hash_pin(pin, self._pin_salt), self._pin_hash):
            return str(self.settings.attendant_id)
        return None

    def staff_for_badge(self, uid: str) -> str | None:
        """The staff id whose badge has card ``uid`` (as read, or upper-cased), or None."""
        badges = {badge.upper() for badge in self.settings.attendant_badges}
        return str(self.settings.attendant_id) if uid.upper() in badges else None

    def ask_clock(self) -> None:
        """上下班打卡 on the idle screen: the staff PIN, then clock in or out."""
        from kiosk.screens.popups import PinPopup

        PinPopup.ask(
            self,
            title=N_("clock_title"),
            body=(N_("clock_body"), {}),
            approved=lambda staff: self.clock_staff(staff, "pin"),
        )

    def clock_staff(self, staff: str, method: str) -> None:
        """Clock ``staff`` in, or out if they are in; say who and when (张三 已上班 09:02)."""
        name = self.settings.attendant_name if staff == self.settings.attendant_id else staff
        entry = staff_clock.clock(self.terminal, self.now(), staff, name, method)
        key = N_("clocked_in") if entry.direction == "in" else N_("clocked_out")
        self._say(key, name=name, time=entry.at.strftime("%H:%M"))

    def open_staff_menu(self) -> None:
        """The staff button: PIN first, then the attendant actions."""
        from kiosk.screens.popups import PinPopup, StaffMenu

        PinPopup.ask(
            self,
            title=N_("staff_check_title"),
            body=(N_("staff_check_body"), {}),
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
        self._say(N_("price_changed"), name=names(line.product), price=format_fen(price_fen))

    def void_line(self, sku: str, staff: str) -> None:
        """An attendant removes a line; audited."""
        line = self._line(sku)
        if line is not None:
            self._remove(line, staff)

    def void_sale(self, staff: str) -> None:
        """An attendant voids the whole sale before any money is taken; audited."""
        paid = sum(t.amount_fen for t in self.tenders)
        if paid:
            self._say(N_("void_blocked"), error=True, paid=format_fen(paid))
            return
        audit.record_action(
            self.terminal, self.now(), "void", staff,
            {"scope": "sale", "total_fen": self.cart.total_fen, "lines": audit.cart_lines(self.cart)},
        )  # fmt: skip
        self.reset()
        self._say(N_("sale_voided"))

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
            self.queue_sale_receipt(receipt_no)  # the first print's builder: the same receipt again
        if queue_.state in PRINTER_PROBLEMS:
            self._printer_problem(queue_.state)
        else:
            self._say(N_("reprint_queued"), receipt_no=receipt_no)

    def staff_open_drawer(self, staff: str) -> None:
        """An attendant opens the drawer outside a sale; audited."""
        audit.record_action(self.terminal, self.now(), "drawer_open", staff, {})
        self.open_drawer()
        self._say(N_("drawer_opened"))

    def open_top_up(self, staff: str) -> None:
        """会员充值: the amounts with their bonus (充¥100 送¥20) and a custom amount, for the member shown."""
        from kiosk.screens.popups import TopUpPopup

        if self.member is None or self.members is None:
            self._say(N_("top_up_no_member"), error=True)
            return
        TopUpPopup.open_for(self, staff, self.members.bonus_tiers())

    def top_up_member(self, amount_fen: int, staff: str) -> None:
        """The attendant took ``amount_fen`` in cash: drawer, principal + bonus on the ledger, a slip."""
        from kiosk.domain.loyalty import LoyaltyError

        member = self.member
        if member is None or self.members is None:
            self._say(N_("top_up_no_member"), error=True)
            return
        try:
            split, self.member = self.members.top_up(member, amount_fen, staff)
        except LoyaltyError as exc:  # a zero amount: nothing taken, nothing stored
            log.info("top-up refused: %s", exc)
            self._say(N_("top_up_invalid"), error=True)
            return
        self.open_drawer()
        balance = format_fen(self.member.stored_value_fen)
        self._say(
            N_("topped_up"),
            amount=format_fen(split.principal),
            bonus=format_fen(split.bonus),
            balance=balance,
        )
        if self.print_queue is not None:
            self.queue_receipt(self._top_up_slip(self.member, split.principal, split.bonus))

    def _top_up_slip(self, member: Any, amount_fen: int, bonus_fen: int) -> Any:
        from kiosk.hw.receipt_render import Amount, ReceiptData, ReceiptLine

        now = self.now()
        slip_no = f"CZ{now:%Y%m%d%H%M%S}{now.microsecond // 1000:03d}"  # CZ: 充值, not a sale number
        return ReceiptData(
            store_name=self.shop("zh"),
            receipt_no=f"{self.terminal.store}-{self.terminal.device}-{slip_no}",
            time=now,
            lines=(ReceiptLine("会员储值充值", 1, amount_fen, amount_fen),),
            payments=(Amount("现金", amount_fen),),
            member=member.phone_masked,
            extra=(f"赠送 {format_fen(bonus_fen)}", f"储值余额 {format_fen(member.stored_value_fen)}"),
            footer="充值凭证，请妥善保管",
        )
