"""Attendant mode: the staff PIN and what an attendant may do with it, each action audited.

A mixin of :class:`kiosk.app.KioskApp`: it uses the app's state and screens through ``self``.
"""

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from kiosk import i18n
from kiosk.domain.cart import Cart
from kiosk.domain.loyalty.member_details import DetailsChange, InvalidDetails, parse_birthday
from kiosk.domain.money import format_fen
from kiosk.domain.staff import DEFAULT_PERMISSIONS, allowed, who_may
from kiosk.flows.cart import names
from kiosk.flows.hardware import PRINTER_PROBLEMS
from kiosk.hw.status import DeviceState
from kiosk.store import audit, receipts, shifts, staff, staff_clock
from kiosk.store.staff import StaffMember
from kiosk.translations import N_

log = logging.getLogger(__name__)

#: what a staff PIN check answers: the person (None: wrong, locked or forbidden), a text key and its values
PinAnswer = Callable[[StaffMember | None, str, dict[str, Any]], None]


def hash_pin(pin: str, salt: bytes) -> bytes:
    """A slow salted hash of the demo attendant's PIN (scrypt): ``make demo`` only."""
    return hashlib.scrypt(pin.encode(), salt=salt, n=2**12, r=8, p=1)


REPRINT_RECENT = 5  # the reprint list shows this many last sales, and every receipt that did not print
STAFF_PIN_KEY = "staff-pin"  # wrong staff PINs are counted per terminal (a PIN names nobody until right)
_ROLE_SEP = {"zh": "、", "en": ", "}
# the names of roles and actions, built from their codes when a role may not
ROLE_KEYS = (N_("role_attendant"), N_("role_supervisor"), N_("role_manager"), N_("role_owner"))
ACTION_KEYS = (
    N_("action_clock"), N_("action_age_check"), N_("action_cash"), N_("action_remove"),
    N_("action_price_override"), N_("action_void_sale"), N_("action_reprint"), N_("action_drawer"),
    N_("action_top_up"), N_("action_refund"), N_("action_cap_override"), N_("action_shift_report"),
    N_("action_member"), N_("action_count_card"),
)  # fmt: skip


#: what the screen says after each kind of clocking
CLOCKED = {
    "in": N_("clocked_in"),
    "out": N_("clocked_out"),
    "break_start": N_("break_started"),
    "break_end": N_("break_ended"),
}


#: what the screen says after staff corrected a member's detail
MEMBER_SAVED: dict[str | bool, str] = {
    "name": N_("member_edit_saved_name"),
    "birthday": N_("member_edit_saved_birthday"),
    True: N_("member_edit_saved_marketing_yes"),
    False: N_("member_edit_saved_marketing_no"),
}


def _hm(minutes: int) -> str:
    """``7:35`` for 455 minutes."""
    return f"{minutes // 60}:{minutes % 60:02d}"


class StaffFlow:
    """Checks staff PINs and badges against the hub's roster (offline), roles, and attendant actions."""

    auth_method = "pin"  # how the last keypad approval came: "pin", or "badge" tapped on the keypad
    staff_pin_busy = False  # a staff PIN is being checked on a worker thread

    def staff_person(self, staff_id: str) -> StaffMember | None:
        """The roster's person (or the demo attendant) with this id."""
        if staff.has_staff():
            return staff.staff_by_id(staff_id)
        if self.demo_mode and staff_id == self.settings.attendant_id:
            return StaffMember(self.settings.attendant_id, self.settings.attendant_name, "owner")
        return None

    def refresh_staff(self) -> None:
        """Whether anyone can sign in: a roster from the hub, or the demo attendant (``make demo``)."""
        self.staff_ready = staff.has_staff() or self.demo_mode

    def check_staff_pin(self, pin: str, action: str = "") -> tuple[StaffMember | None, str, dict[str, Any]]:
        """(person, "", {}) when ``pin`` is right and their role may do ``action``; else (None, key, values).

        After five wrong PINs in a row the keypad locks for five minutes (kept in SQLite,
        so a restart does not reset it); each wrong PIN is an ``audit.action`` event.
        This checks on the calling thread: the keypad uses :meth:`check_staff_pin_later`.
        """
        locked = self.staff_lockout.seconds_locked(STAFF_PIN_KEY, time.time())
        if locked:
            return None, N_("pin_locked"), {"seconds": locked}
        return self._pin_result(self._pin_matcher(pin)(), action)

    def check_staff_pin_later(self, pin: str, action: str, done: PinAnswer) -> None:
        """:meth:`check_staff_pin` with the slow part (one scrypt per person on the roster) on a worker
        thread, so the screen keeps drawing and taking taps; ``done(person, key, values)`` runs on the
        UI thread. The roster is read and the lockout and audit are written on the UI thread."""
        locked = self.staff_lockout.seconds_locked(STAFF_PIN_KEY, time.time())
        if locked:
            done(None, N_("pin_locked"), {"seconds": locked})
            return
        match = self._pin_matcher(pin)
        self.staff_pin_busy = True

        def run() -> None:
            try:
                person = match()
            except Exception:  # counted as a wrong PIN below; logged whole here
                log.exception("staff PIN check failed")
                person = None
            self.deliver(lambda: self._pin_checked(person, action, done))

        threading.Thread(target=run, name="staff-pin", daemon=True).start()

    def _pin_checked(self, person: StaffMember | None, action: str, done: PinAnswer) -> None:
        self.staff_pin_busy = False
        done(*self._pin_result(person, action))

    def _pin_result(
        self, person: StaffMember | None, action: str
    ) -> tuple[StaffMember | None, str, dict[str, Any]]:
        """Count a wrong PIN (audited; the fifth locks the keypad) or clear the count; then the role."""
        now = time.time()
        if person is None:
            left = self.staff_lockout.wrong(STAFF_PIN_KEY, now)
            audit.record_action(self.terminal, self.now(), "staff_pin_failed", "", {"tries_left": left})
            if left == 0:
                locked = self.staff_lockout.seconds_locked(STAFF_PIN_KEY, now)
                return None, N_("pin_locked"), {"seconds": locked}
            return None, N_("pin_wrong_left"), {"left": left}
        self.staff_lockout.right(STAFF_PIN_KEY)
        return self.check_role(person, action)

    def check_role(self, person: StaffMember, action: str) -> tuple[StaffMember | None, str, dict[str, Any]]:
        """(person, "", {}) when their role may do ``action`` (or no action is named); else why not."""
        if not action or allowed(self.permission_matrix(), person.role, action):
            return person, "", {}
        return None, N_("forbidden"), self._forbidden_values(person, action)

    def _forbidden_values(self, person: StaffMember, action: str) -> dict[str, Any]:
        roles = [i18n.Key("role_" + role) for role in who_may(self.permission_matrix(), action)]
        return {
            "name": person.name,
            "role": i18n.Key("role_" + person.role),
            "action": i18n.Key("action_" + action),
            "roles": {lang: sep.join(i18n.tr(key, lang) for key in roles) for lang, sep in _ROLE_SEP.items()},
        }

    def permission_matrix(self) -> Mapping[str, Any]:
        """The roster's matrix; the built-in defaults for the demo attendant."""
        return staff.permissions() or DEFAULT_PERMISSIONS

    def may(self, staff_id: str, action: str) -> bool:
        """Does the person who authorised this (``staff_id``) have a role that may do ``action``?

        When not, say who may (on the screen) and return False: the caller changes nothing.
        """
        person = self.staff_person(staff_id)
        if person is None:
            self._say(N_("no_staff_body"), error=True)
            return False
        allowed_person, key, values = self.check_role(person, action)
        if allowed_person is None:
            self._say(key, error=True, **values)
            return False
        return True

    def _pin_matcher(self, pin: str) -> Callable[[], StaffMember | None]:
        """The PIN check's slow part, ready to run on any thread: it touches no database."""
        if staff.has_staff():
            candidates = staff.pin_candidates()
            return lambda: staff.match_pin(pin, candidates)
        demo = self.settings.attendant_pin
        if self.demo_mode and demo:
            salt, expected = self._pin_salt, self._pin_hash
            person = StaffMember(self.settings.attendant_id, self.settings.attendant_name, "owner")
            return lambda: person if hmac.compare_digest(hash_pin(pin, salt), expected) else None
        return lambda: None

    def check_pin(self, pin: str) -> str | None:
        """The staff id for ``pin`` (any role), or None."""
        person, _key, _values = self.check_staff_pin(pin)
        return person.id if person else None

    def staff_for_badge(self, uid: str) -> StaffMember | None:
        """The person whose badge has card ``uid`` (as read, or upper-cased), or None."""
        if staff.has_staff():
            return staff.staff_for_badge(uid)
        badges = {badge.upper() for badge in self.settings.attendant_badges}
        if self.demo_mode and uid.upper() in badges:
            return StaffMember(self.settings.attendant_id, self.settings.attendant_name, "owner")
        return None

    def badge_tapped(self, person: StaffMember) -> None:
        """A staff badge: approves the keypad that is open, opens the attendant menu during a sale
        (the cart stays), or opens the clock screen on the start screen."""
        from kiosk.screens.popups import PausePopup, PinPopup, StaffMenu

        if isinstance(self.popup, PausePopup):
            self.resume_till(person.id)
        elif isinstance(self.popup, PinPopup):
            self.popup.badge(person)
        elif self.popup is not None:
            return
        elif self.root.current == "idle" or not self.cart.lines:
            self.open_clock(person.id, "badge")
        else:
            StaffMenu.open_for(self, person.id)

    def ask_clock(self) -> None:
        """上下班打卡 on the idle screen: the staff PIN, then the clock screen."""
        from kiosk.screens.popups import PinPopup

        PinPopup.ask(
            self,
            title=N_("clock_title"),
            body=(N_("clock_body"), {}),
            approved=lambda staff_id: self.open_clock(staff_id, self.auth_method),
            action="clock",
        )

    def open_clock(self, staff_id: str, method: str) -> None:
        """The clock screen for ``staff_id``: where they stand, hours today and this week (from this
        terminal's own clockings, offline), and the clockings they may make now."""
        from kiosk.screens.popups import ClockPopup

        if not self.may(staff_id, "clock"):
            return
        person = self.staff_person(staff_id)
        name = person.name if person else staff_id
        ClockPopup.open_for(self, staff_id, name, method, staff_clock.status(staff_id, self.now()))

    def clock_staff(self, staff_id: str, direction: str, method: str) -> None:
        """Clock ``staff_id`` in, out, or start or end a break; say who, when and the hours so far."""
        if not self.may(staff_id, "clock"):
            return
        person = self.staff_person(staff_id)
        name = person.name if person else staff_id
        try:
            entry = staff_clock.record(self.terminal, self.now(), staff_id, name, direction, method)
        except staff_clock.ClockRefused as refused:  # a second tap on a stale screen: nothing written
            log.info("clocking refused: %s", refused)
            self._say(N_("clock_refused"), error=True, name=name)
            return
        now = entry.at
        found = staff_clock.status(staff_id, now)
        self._say(
            CLOCKED[entry.direction],
            name=name,
            time=now.strftime("%H:%M"),
            today=_hm(found.today),
            week=_hm(found.week),
            breaks=_hm(found.break_today),
        )

    def open_staff_menu(self) -> None:
        """The staff button: PIN first, then the attendant actions (each checks the role)."""
        from kiosk.screens.popups import PinPopup, StaffMenu

        PinPopup.ask(
            self,
            title=N_("staff_check_title"),
            body=(N_("staff_check_body"), {}),
            approved=lambda staff_id: StaffMenu.open_for(self, staff_id),
        )

    def override_price(self, sku: str, price_fen: int, staff: str) -> None:
        """An attendant sets a line's unit price; audited."""
        line = self._line(sku)
        if line is None or price_fen < 0 or not self.may(staff, "price_override"):
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
        if line is not None and self.may(staff, "remove"):
            self._remove(line, staff)

    def void_sale(self, staff: str) -> None:
        """An attendant voids the whole sale before any money is taken; audited."""
        if not self.may(staff, "void_sale"):
            return
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

        if not self.may(staff, "reprint"):
            return
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
        if not self.may(staff, "drawer"):
            return
        audit.record_action(self.terminal, self.now(), "drawer_open", staff, {})
        self.open_drawer()
        self._say(N_("drawer_opened"))

    def open_top_up(self, staff: str) -> None:
        """会员充值: the amounts with their bonus (充¥100 送¥20) and a custom amount, for the member shown."""
        from kiosk.screens.popups import TopUpPopup

        if not self.may(staff, "top_up"):
            return
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

    def open_count_card(self, staff: str) -> None:
        """售次卡: the owner's count cards (name, visits, price) for the member shown."""
        from kiosk.screens.popups import CountCardPopup

        if not self.may(staff, "count_card"):
            return
        if self.member is None or self.members is None:
            self._say(N_("count_card_no_member"), error=True)
            return
        kinds = self.members.count_card_kinds()
        if not kinds:
            self._say(N_("count_card_none"), error=True)
            return
        CountCardPopup.open_for(self, staff, kinds)

    def sell_count_card(self, sku: str, staff: str) -> None:
        """The attendant took the card's price in cash: the sale, the card and its visits in one
        transaction, then the drawer and the sale's receipt."""
        from kiosk.domain.loyalty import LoyaltyError

        member = self.member
        if member is None or self.members is None:
            self._say(N_("count_card_no_member"), error=True)
            return
        try:
            receipt_no, card, self.member = self.members.sell_count_card(member, sku, staff)
        except LoyaltyError as exc:  # the kind left the owner's list meanwhile: nothing taken
            log.info("count card refused: %s", exc)
            self._say(N_("count_card_gone"), error=True)
            return
        self.open_drawer()
        names = self.members.count_card_names(sku)
        self._say(N_("count_card_sold"), name=names, visits=card.visits, until=card.expires_on.isoformat())
        if self.print_queue is not None:
            self.queue_sale_receipt(receipt_no)

    def count_card_to_cart(self, sku: str, staff: str) -> None:
        """其他方式付款: the card goes into the cart as a line, paid on the pay screen any way the
        sale allows (wallet, stored value, points, cash); the card is issued with the sale, in its
        transaction, with the attendant's ``count_card`` approval."""
        from kiosk.domain.loyalty import LoyaltyError
        from kiosk.store.sales import Approval

        member = self.member
        if member is None or self.members is None:
            self._say(N_("count_card_no_member"), error=True)
            return
        try:
            product = self.members.card_product(sku)
        except LoyaltyError as exc:
            log.info("count card refused: %s", exc)
            self._say(N_("count_card_gone"), error=True)
            return
        detail = {"member_id": member.member_id, "sku": sku, "visits": self.members.card_visits(sku)}
        self.approvals.append(Approval("count_card", staff, detail))
        self.set_cart(self.cart.add(product))
        self._say(N_("count_card_in_cart"), name=self.members.count_card_names(sku))

    def register_for_customer(self, staff_id: str) -> None:
        """为顾客办会员: the member sign-up (phone, name, consent, PIN) for a customer at the counter,
        started by an attendant whose role may; the start is an ``audit.action`` (``member_assist``)."""
        if not self.may(staff_id, "member"):
            return
        audit.record_action(self.terminal, self.now(), "member_assist", staff_id, {})
        self.member_flow.start_join()

    # --- a member's details, corrected for them ---------------------------------------------
    def open_member_edit(self, staff_id: str) -> None:
        """修改会员资料: name, birthday and the marketing answer of the member shown, corrected for the
        customer at the counter by staff whose role may (``member``)."""
        from kiosk.screens.popups import MemberEditPopup

        if not self.may(staff_id, "member"):
            return
        if self.member is None or self.members is None:
            self._say(N_("member_edit_no_member"), error=True)
            return
        name, has_birthday = self.members.details_shown(self.member)
        MemberEditPopup.open_for(self, staff_id, self.member.phone_masked, name, has_birthday)

    def edit_member_name(self, staff_id: str) -> None:
        """改称呼: the name screen of the sign-up, saved when done."""
        if self.may(staff_id, "member"):
            self.member_flow.start_name_edit(staff_id)

    def ask_member_birthday(self, staff_id: str) -> None:
        """改生日: eight digits on the keypad, checked before it closes."""
        from kiosk.screens.popups import PinPopup

        if not self.may(staff_id, "member"):
            return
        PinPopup.ask_date(
            self,
            N_("member_edit_birthday_title"),
            N_("member_edit_birthday_body"),
            self._birthday_problem,
            lambda digits: self.save_member_details(
                staff_id, DetailsChange(birthday=parse_birthday(digits, self.now().date()))
            ),
        )

    def _birthday_problem(self, digits: str) -> str:
        """The keypad's error key for a typed birthday ("" when it is a real past date)."""
        try:
            parse_birthday(digits, self.now().date())
        except InvalidDetails:
            return N_("member_edit_birthday_bad")
        return ""

    def set_member_marketing(self, staff_id: str, granted: bool) -> None:
        """The customer's answer to marketing messages, saved at once."""
        if self.may(staff_id, "member"):
            self.save_member_details(staff_id, DetailsChange(marketing=granted))

    def save_member_details(self, staff_id: str, change: DetailsChange) -> None:
        """Store the change for the member shown (one transaction with its ``member.updated`` and the
        ``member_edit`` audit) and show them as they now are; bad input changes nothing and says why."""
        member = self.member
        if member is None or self.members is None:
            self._say(N_("member_edit_no_member"), error=True)
            return
        try:
            self.member = self.members.change_details(member, change, staff_id)
        except InvalidDetails as exc:  # the screens keep within the rules; said, not swallowed
            log.info("member details refused: %s", exc)
            self._say(N_("member_edit_invalid"), error=True)
            return
        self.refresh_totals()
        self.root.get_screen("cart").show(self.cart, self.lang)
        saved = (
            MEMBER_SAVED[change.marketing]
            if change.marketing is not None
            else MEMBER_SAVED[change.fields()[0]]
        )
        self._say(saved, name=self.member.name_masked)

    # --- shift close ----------------------------------------------------------------------
    def open_shift_report(self, staff_id: str) -> None:
        """班次报表: the open shift's figures, to print (X) or to close after counting the cash (Z)."""
        from kiosk.screens.popups import ShiftPopup

        if self.may(staff_id, "shift_report"):
            ShiftPopup.open_for(self, staff_id, shifts.shift_figures())

    def print_x_report(self, staff_id: str) -> None:
        """Print the figures so far and send them to the hub (``shift.x_report``); nothing is closed."""
        now = self.now()
        figures = shifts.record_x_report(self.terminal, now, staff_id)
        slip = shifts.shift_slip(figures, self.shop("zh"), self._shift_number("X", now), now)
        if self.print_queue is not None:
            self.queue_receipt(slip)
        self._say(N_("shift_x_printed"))

    def ask_counted_cash(self, staff_id: str) -> None:
        """Z: the attendant counts the drawer and types the amount; then the shift closes."""
        from kiosk.screens.popups import PinPopup

        expected = format_fen(shifts.shift_figures().expected_cash_fen)
        title = (N_("shift_count_title"), {"expected": expected})
        PinPopup.ask_amount(self, title, lambda fen: self.close_shift(staff_id, fen))

    def close_shift(self, staff_id: str, counted_fen: int) -> None:
        """The Z report: one ``shift.closed`` event (figures, cash counted, over/short), printed."""
        now = self.now()
        closed = shifts.close_shift(self.terminal, now, staff_id, counted_fen)
        slip = shifts.shift_slip(closed.figures, self.shop("zh"), self._shift_number("Z", now), now, closed)
        if self.print_queue is not None:
            self.queue_receipt(slip)
        over = closed.over_short_fen
        self._say(
            N_("shift_closed"),
            expected=format_fen(closed.figures.expected_cash_fen),
            counted=format_fen(counted_fen),
            over_short=("+" if over >= 0 else "-") + format_fen(abs(over)),
        )

    def _shift_number(self, kind: str, now: Any) -> str:
        """The slip's number (the print queue's key): store, device, X or Z and the time."""
        return f"{self.terminal.store}-{self.terminal.device}-{kind}{now:%Y%m%d%H%M%S}"

    # --- pausing the till -----------------------------------------------------------------
    def pause_till(self, staff_id: str) -> None:
        """请到其他收银台: the screen says so until a staff badge or PIN resumes; audited."""
        from kiosk.screens.popups import PausePopup

        audit.record_action(self.terminal, self.now(), "pause", staff_id, {})
        PausePopup(staff=staff_id).show()

    def ask_resume(self, paused_by: str) -> None:
        """The pause screen's 店员恢复: a PIN resumes; cancelling pauses again."""
        from kiosk.screens.popups import PinPopup

        PinPopup.ask(
            self,
            title=N_("paused_resume"),
            body=(N_("staff_check_body"), {}),
            approved=self.resume_till,
            cancelled=lambda: self._pause_again(paused_by),
        )

    def _pause_again(self, paused_by: str) -> None:
        from kiosk.screens.popups import PausePopup

        PausePopup(staff=paused_by).show()

    def resume_till(self, staff_id: str) -> None:
        """Open the till again (a staff PIN or badge); audited."""
        from kiosk.screens.popups import PausePopup

        if isinstance(self.popup, PausePopup):
            self.popup.dismiss()
        audit.record_action(self.terminal, self.now(), "resume", staff_id, {})
        self._say(N_("till_resumed"))
