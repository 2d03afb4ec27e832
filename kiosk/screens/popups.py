"""Attendant and timeout popups: PIN approval, amount entry, staff actions, reprint, "still there?".

Each popup registers itself as ``app.popup`` while open, so the app knows not
to time out or take scans meanwhile, and the scripted shopper can find it.
"""

from collections.abc import Callable, Sequence
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.modalview import ModalView

from kiosk.domain.money import format_fen
from kiosk.screens.base import load_kv
from kiosk.translations import N_


def _hm(minutes: int) -> str:
    """``7:35`` for 455 minutes."""
    return f"{minutes // 60}:{minutes % 60:02d}"


class KioskPopup(ModalView):
    """A modal that the app tracks as its current popup; ``kv`` names the file with its rules when
    they load with the first popup of its kind, not at start."""

    #: the attendant's popups' rules load when an attendant first opens one (memory, docs/perf.md)
    kv = ""

    def __init__(self, **kwargs: Any) -> None:
        if self.kv:
            load_kv(self.kv)  # before the widget is built: Kivy applies its class's rules then
        super().__init__(auto_dismiss=False, **kwargs)

    def show(self) -> None:
        """Open, replacing any popup already open."""
        app = App.get_running_app()
        if app.popup is not None and app.popup is not self:
            app.popup.dismiss()
        app.popup = self
        self.open(animation=False)

    def on_dismiss(self) -> None:
        app = App.get_running_app()
        if app.popup is self:
            app.popup = None
        app.touched()


class PinPopup(KioskPopup):
    """A keypad: a staff PIN (masked) that approves an action, or an amount in yuan."""

    title_key = StringProperty("")
    body_key = StringProperty("")
    values = ObjectProperty({})
    entry = StringProperty("")
    error_key = StringProperty("")
    error_values = ObjectProperty({})
    amount_mode = BooleanProperty(False)
    date_mode = BooleanProperty(False)  # a date as eight digits (YYYYMMDD), checked before it closes
    check_callback = ObjectProperty(None, allownone=True)  # date mode: the typed digits -> error key or ""
    approved_callback = ObjectProperty(None)
    cancel_callback = ObjectProperty(None, allownone=True)
    action = StringProperty("")  # what the PIN approves: the person's role must allow it
    checking = BooleanProperty(False)  # the PIN is being checked on a worker thread

    @classmethod
    def ask(
        cls,
        app: Any,
        title: str,
        body: tuple[str, dict[str, object]],
        approved: Callable[[str], None],
        cancelled: Callable[[], None] | None = None,
        action: str = "",
    ) -> "PinPopup":
        """Ask for a staff PIN (or a badge tap); ``approved(staff_id)`` runs when it is right and the
        person's role may do ``action``. Without staff on the terminal it says so instead."""
        key, values = body
        popup = cls(
            title_key=title,
            body_key=key,
            values=values,
            approved_callback=approved,
            cancel_callback=cancelled,
            action=action,
            error_key="" if app.staff_ready else N_("no_staff_body"),
        )
        popup.show()
        return popup

    def error_text(self, key: str, values: dict[str, object], lang: str) -> str:
        """The keypad's error line, with per-language values resolved."""
        return App.get_running_app().text_for(key, values, lang) if key else ""

    def badge(self, person: Any) -> None:
        """A staff badge tapped while the keypad is open: that person approves (their role permitting)."""
        allowed, key, values = App.get_running_app().check_role(person, self.action)
        self._answer(allowed, key, values, method="badge")

    def _answer(self, person: Any, key: str, values: dict[str, object], method: str = "pin") -> None:
        if person is None:  # wrong, locked or forbidden: the keypad stays for someone else
            # the label re-renders on each property: never show a key with another key's values
            self.error_key = ""
            self.error_values, self.error_key = values, key
            return
        self.dismiss()
        App.get_running_app().auth_method = method  # how the approval came: a clocking records it
        self.approved_callback(person.id)

    @classmethod
    def ask_amount(
        cls, app: Any, title: tuple[str, dict[str, object]], amount_callback: Callable[[int], None]
    ) -> "PinPopup":
        """Ask for an amount in yuan (digits are fen, like a till); ``amount_callback(fen)``."""
        key, values = title
        popup = cls(title_key=key, values=values, approved_callback=amount_callback, amount_mode=True)
        popup.show()
        return popup

    @classmethod
    def ask_date(
        cls,
        app: Any,
        title: str,
        body: str,
        check: Callable[[str], str],
        done: Callable[[str], None],
    ) -> "PinPopup":
        """Ask for a date as eight digits (19900517); ``check(digits)`` answers an error key (the
        keypad stays, saying why) or ``""``, then the keypad closes and ``done(digits)`` runs."""
        popup = cls(
            title_key=title, body_key=body, date_mode=True, check_callback=check, approved_callback=done
        )
        popup.show()
        return popup

    def display(self, entry: str, amount_mode: bool, date_mode: bool = False) -> str:
        """What the entry line shows: dots for a PIN, yuan for an amount, a date filling YYYY-MM-DD."""
        if amount_mode:
            return format_fen(int(entry or "0"))
        if date_mode:
            shown = entry + "YYYYMMDD"[len(entry) :]
            return f"{shown[:4]}-{shown[4:6]}-{shown[6:]}"
        return "●" * len(entry)

    def press(self, key: str) -> None:
        """A keypad key: a digit, ``clear`` or ``ok``."""
        App.get_running_app().touched()
        if key == "clear":
            self.entry = ""
        elif key == "ok":
            self._submit()
        elif len(self.entry) < 8:
            self.entry += key
            self.error_key = ""

    def cancel(self) -> None:
        """Close without approving."""
        self.dismiss()
        if self.cancel_callback:
            self.cancel_callback()

    def _submit(self) -> None:
        if self.date_mode:
            digits = self.entry
            problem = self.check_callback(digits)
            if problem:  # the keypad stays: the person sees why and types the date again
                self.entry, self.error_values, self.error_key = "", {}, problem
                return
            self.dismiss()
            self.approved_callback(digits)
            return
        if self.amount_mode:
            self.dismiss()
            self.approved_callback(int(self.entry or "0"))
            return
        if self.checking:  # one check at a time; the keypad still draws and takes digits meanwhile
            return
        pin, self.entry = self.entry, ""
        self.checking, self.error_key = True, ""
        App.get_running_app().check_staff_pin_later(pin, self.action, self._checked)

    def _checked(self, person: Any, key: str, values: dict[str, object]) -> None:
        """The worker's answer, on the UI thread; dropped when the keypad was closed meanwhile."""
        self.checking = False
        if App.get_running_app().popup is self:
            self._answer(person, key, values)


class StaffMenu(KioskPopup):
    """What an attendant can do once their PIN is in: price override, void, drawer, reprint."""

    kv = "staff_popups"

    staff = StringProperty("")
    line_sku = StringProperty("")
    line_names = ObjectProperty({})

    @classmethod
    def open_for(cls, app: Any, staff: str) -> "StaffMenu":
        """Open for ``staff``, acting on the last cart line."""
        line = app.cart.lines[-1] if app.cart.lines else None
        menu = cls(
            staff=staff,
            line_sku=line.product.sku if line else "",
            line_names={"zh": line.product.name_zh, "en": line.product.name_en} if line else {},
        )
        menu.show()
        return menu

    def override(self) -> None:
        """Ask for the new unit price of the line, then apply it."""
        app, sku, staff = App.get_running_app(), self.line_sku, self.staff
        self.dismiss()
        PinPopup.ask_amount(
            app,
            (N_("new_price_title"), {"name": self.line_names}),
            lambda fen: app.override_price(sku, fen, staff),
        )

    def void_line(self) -> None:
        """Remove the line."""
        self.dismiss()
        App.get_running_app().void_line(self.line_sku, self.staff)

    def void_sale(self) -> None:
        """Void the sale."""
        self.dismiss()
        App.get_running_app().void_sale(self.staff)

    def drawer(self) -> None:
        """Open the drawer."""
        self.dismiss()
        App.get_running_app().staff_open_drawer(self.staff)

    def reprint(self) -> None:
        """Choose a recent receipt to print again."""
        self.dismiss()
        App.get_running_app().open_reprint_list(self.staff)

    def clock(self) -> None:
        """The clock screen for the attendant: in, out, breaks, hours."""
        self.dismiss()
        App.get_running_app().open_clock(self.staff, "pin")

    def member(self) -> None:
        """为顾客办会员 (sign a customer up: phone, name, consent, PIN) when no member is shown;
        修改会员资料 (correct the details of the member shown) when one is."""
        self.dismiss()
        app = App.get_running_app()
        if app.member is None:
            app.register_for_customer(self.staff)
        else:
            app.open_member_edit(self.staff)

    def top_up(self) -> None:
        """Top up the member's stored value."""
        self.dismiss()
        App.get_running_app().open_top_up(self.staff)

    def count_card(self) -> None:
        """售次卡: sell a count card to the member shown."""
        self.dismiss()
        App.get_running_app().open_count_card(self.staff)

    def pause(self) -> None:
        """暂停收银: this till shows "please use another till" until staff resume it."""
        self.dismiss()
        App.get_running_app().pause_till(self.staff)

    def shift(self) -> None:
        """班次报表: the X report, or close the shift (Z)."""
        self.dismiss()
        App.get_running_app().open_shift_report(self.staff)

    def refund(self) -> None:
        """Refund (part of) a stored sale: kiosk/flows/refund.py."""
        self.dismiss()
        App.get_running_app().start_refund(self.staff)


class ClockPopup(KioskPopup):
    """上下班打卡: the person's name, where they stand (off, on shift since, on a break since), hours
    today and this week, and clock in / clock out / start break / end break (only what fits now)."""

    kv = "staff_popups"

    staff = StringProperty("")
    name = StringProperty("")
    method = StringProperty("pin")  # how they got here: the clocking records it
    state = StringProperty("off")  # off / on / break
    since = StringProperty("")  # HH:MM the state began
    hours = ObjectProperty({})  # today, week, breaks as H:MM
    allowed = ObjectProperty(())

    @classmethod
    def open_for(cls, app: Any, staff: str, name: str, method: str, status: Any) -> "ClockPopup":
        """Open for ``staff`` with their :class:`kiosk.store.staff_clock.ClockStatus`."""
        popup = cls(
            staff=staff,
            name=name,
            method=method,
            state=status.state,
            since=status.since.strftime("%H:%M") if status.since else "",
            hours={"today": _hm(status.today), "week": _hm(status.week), "breaks": _hm(status.break_today)},
            allowed=tuple(status.allowed),
        )
        popup.show()
        return popup

    def state_text(self, lang: str) -> str:
        """未上班 / 上班中，自 09:02 起 / 休息中，自 12:00 起."""
        key = {"off": N_("clock_state_off"), "on": N_("clock_state_on"), "break": N_("clock_state_break")}
        return App.get_running_app().tr(key[self.state], lang, since=self.since)

    def choose(self, direction: str) -> None:
        """One of the four buttons: write that clocking, close, and say so."""
        staff, method = self.staff, self.method
        self.dismiss()
        App.get_running_app().clock_staff(staff, direction, method)


class TopUpPopup(KioskPopup):
    """会员充值: one button per bonus tier (充¥100 送¥20) and 其他金额; then the cash is confirmed."""

    kv = "staff_popups"

    staff = StringProperty("")
    tiers = ObjectProperty([])
    amount_fen = NumericProperty(0)  # chosen, waiting for the attendant to confirm the cash
    bonus_fen = NumericProperty(0)

    @classmethod
    def open_for(cls, app: Any, staff: str, tiers: Sequence[Any]) -> "TopUpPopup":
        """Open for ``staff`` with an amount button per ``tiers`` (:class:`BonusTier`), lowest first."""
        popup = cls(staff=staff, tiers=list(tiers))
        for index, tier in enumerate(popup.tiers):
            button = Factory.TopUpAmount()  # a KioskButton (staff_popups.kv)
            button.amount_fen, button.bonus_fen = tier.min_fen, tier.bonus_fen
            button.bind(on_release=lambda _b, t=tier: popup.choose(t.min_fen))
            popup.ids.amounts.add_widget(button)
            popup.ids[f"amount_{index}"] = button
        popup.show()
        return popup

    def bonus_for(self, amount_fen: int) -> int:
        """The bonus the highest tier reached by ``amount_fen`` gives."""
        return max((t.bonus_fen for t in self.tiers if t.min_fen <= amount_fen), default=0)

    def choose(self, amount_fen: int) -> None:
        """An amount: ask the attendant to take the cash and confirm."""
        App.get_running_app().touched()
        if amount_fen > 0:
            self.amount_fen, self.bonus_fen = amount_fen, self.bonus_for(amount_fen)

    def other(self) -> None:
        """其他金额: type the amount on the keypad, then confirm here."""
        app, staff, tiers = App.get_running_app(), self.staff, self.tiers
        self.dismiss()

        def typed(fen: int) -> None:
            again = TopUpPopup.open_for(app, staff, tiers)
            again.choose(fen)

        PinPopup.ask_amount(app, (N_("top_up_amount_title"), {}), typed)

    def back(self) -> None:
        """Pick another amount."""
        self.amount_fen = self.bonus_fen = 0

    def confirm(self) -> None:
        """The cash is in hand: the drawer opens and the member's stored value goes up."""
        amount, staff = int(self.amount_fen), self.staff
        self.dismiss()
        App.get_running_app().top_up_member(amount, staff)


class CountCardPopup(KioskPopup):
    """售次卡: one button per count card of the owner's list (name, visits, price); then the cash is
    confirmed and the card is the member's."""

    kv = "staff_popups"

    staff = StringProperty("")
    kinds = ObjectProperty([])
    chosen = ObjectProperty(None, allownone=True)  # the CountCardKind waiting for the cash

    @classmethod
    def open_for(cls, app: Any, staff: str, kinds: Sequence[Any]) -> "CountCardPopup":
        """Open for ``staff`` with a button per ``kinds`` (:class:`CountCardKind`), in the owner's order."""
        popup = cls(staff=staff, kinds=list(kinds))
        for index, kind in enumerate(popup.kinds):
            button = Factory.CountCardKindButton()  # a KioskButton (staff_popups.kv)
            button.kind = kind
            button.bind(on_release=lambda _b, k=kind: popup.choose(k))
            popup.ids.kinds.add_widget(button)
            popup.ids[f"kind_{index}"] = button
        popup.show()
        return popup

    def kind_text(self, kind: Any, lang: str) -> str:
        """洗车5次卡 · 5 次 · ¥99.00 (a card's button and confirmation)."""
        if kind is None:
            return ""
        name = kind.name_en if lang == "en" and kind.name_en else kind.name_zh
        if kind.valid_days:  # the owner gave the validity in days (docs/loyalty.md)
            return App.get_running_app().ntr(
                "count_card_kind_days", "count_card_kind_days_plural", kind.visits, lang, name=name,
                price=format_fen(kind.price_fen), days=kind.valid_days,
            )  # fmt: skip
        return App.get_running_app().ntr(
            "count_card_kind", "count_card_kind_plural", kind.visits, lang, name=name,
            price=format_fen(kind.price_fen), months=kind.valid_months,
        )  # fmt: skip

    def choose(self, kind: Any) -> None:
        """A card: ask the attendant to take the cash and confirm."""
        App.get_running_app().touched()
        self.chosen = kind

    def back(self) -> None:
        """Pick another card."""
        self.chosen = None

    def to_cart(self) -> None:
        """其他方式付款: the card goes into the cart, to be paid on the pay screen any way."""
        sku, staff = self.chosen.sku, self.staff
        self.dismiss()
        App.get_running_app().count_card_to_cart(sku, staff)

    def confirm(self) -> None:
        """The cash is in hand: the card is sold (a sale of its line) and the member holds its visits."""
        sku, staff = self.chosen.sku, self.staff
        self.dismiss()
        App.get_running_app().sell_count_card(sku, staff)


class MemberEditPopup(KioskPopup):
    """修改会员资料: what staff may correct for the member shown (name, birthday, marketing answer);
    each choice is saved at once as its own change (``member.updated``)."""

    kv = "staff_popups"

    staff = StringProperty("")
    phone = StringProperty("")  # masked
    name = StringProperty("")  # masked; "" when the member gave none
    has_birthday = BooleanProperty(False)

    @classmethod
    def open_for(cls, app: Any, staff: str, phone: str, name: str, has_birthday: bool) -> "MemberEditPopup":
        """Open for ``staff`` on the member shown (their masked phone and name)."""
        popup = cls(staff=staff, phone=phone, name=name, has_birthday=has_birthday)
        popup.show()
        return popup

    def edit_name(self) -> None:
        """改称呼: the join flow's name screen (surnames, 先生/女士, or typed)."""
        self.dismiss()
        App.get_running_app().edit_member_name(self.staff)

    def edit_birthday(self) -> None:
        """改生日: eight digits on the keypad."""
        self.dismiss()
        App.get_running_app().ask_member_birthday(self.staff)

    def marketing(self, granted: bool) -> None:
        """The customer's answer to marketing messages, saved now."""
        self.dismiss()
        App.get_running_app().set_member_marketing(self.staff, granted)


class ReprintPopup(KioskPopup):
    """The last sales and every receipt that did not print; a tap prints that one again."""

    kv = "staff_popups"

    staff = StringProperty("")
    empty = BooleanProperty(True)

    @classmethod
    def open_for(cls, app: Any, staff: str, entries: Sequence[Any]) -> "ReprintPopup":
        """Open for ``staff`` listing ``entries`` (:class:`kiosk.store.receipts.RecentReceipt`)."""
        popup = cls(staff=staff, empty=not entries)
        for entry in entries:
            values = {
                "receipt_no": entry.receipt_no,
                "total": format_fen(entry.total_fen),
                "time": entry.time.strftime("%m-%d %H:%M"),
            }
            row = (
                Factory.ReprintRow()
            )  # a KioskButton (staff_popups.kv); kv-declared properties are set after
            row.receipt_no, row.failed, row.values = entry.receipt_no, entry.failed, values
            row.bind(on_release=popup.choose)
            popup.ids.entries.add_widget(row)
        popup.show()
        return popup

    def rows(self) -> list[Any]:
        """The receipts listed, top to bottom."""
        return list(reversed(self.ids.entries.children))

    def choose(self, row: Any) -> None:
        """Print ``row``'s receipt again."""
        self.dismiss()
        App.get_running_app().reprint_receipt(row.receipt_no, self.staff)


class ShiftPopup(KioskPopup):
    """班次报表: the open shift's figures (X), print them, or close the shift (Z) after counting the cash."""

    kv = "staff_popups"

    staff = StringProperty("")
    summary = ObjectProperty({})  # values for the shift_summary text

    @classmethod
    def open_for(cls, app: Any, staff: str, figures: Any) -> "ShiftPopup":
        """Open for ``staff`` showing ``figures`` (:class:`kiosk.store.shifts.ShiftFigures`)."""
        summary = {
            "sales": figures.sales, "takings": format_fen(figures.sales_fen),
            "refunds": figures.refunds, "refunded": format_fen(figures.refunds_fen),
            "voids": figures.voids, "overrides": figures.overrides,
            "top_ups": format_fen(figures.top_ups_fen), "expected": format_fen(figures.expected_cash_fen),
        }  # fmt: skip
        popup = cls(staff=staff, summary=summary)
        popup.show()
        return popup

    def print_x(self) -> None:
        """Print the X report; the shift stays open."""
        self.dismiss()
        App.get_running_app().print_x_report(self.staff)

    def close_z(self) -> None:
        """Count the drawer, then close the shift (Z)."""
        self.dismiss()
        App.get_running_app().ask_counted_cash(self.staff)


class PausePopup(KioskPopup):
    """暂停收银: the whole screen says to use another till; only a staff badge or PIN resumes."""

    kv = "staff_popups"

    staff = StringProperty("")  # who paused it

    def resume(self) -> None:
        """店员恢复: a staff PIN (or badge) opens the till again; cancelling keeps it paused."""
        App.get_running_app().ask_resume(self.staff)


class StillThere(KioskPopup):
    """After inactivity: a countdown, then the cart is kept as abandoned and the screen resets."""

    seconds = NumericProperty(20)

    @classmethod
    def ask(cls, app: Any, seconds: int) -> "StillThere":
        """Start the countdown."""
        popup = cls(seconds=seconds)
        popup.show()
        popup._tick = Clock.schedule_interval(lambda _dt: popup.tick(), 1)
        return popup

    def tick(self) -> None:
        """One second passed."""
        self.seconds -= 1
        if self.seconds <= 0:
            self._tick.cancel()
            self.dismiss()
            App.get_running_app().abandon()

    def still_here(self) -> None:
        """The shopper is back."""
        self._tick.cancel()
        self.dismiss()

    def on_dismiss(self) -> None:
        if hasattr(self, "_tick"):
            self._tick.cancel()
        super().on_dismiss()


load_kv("popups")
