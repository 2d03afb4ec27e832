"""The Kivy app: wires the hardware queue, the store, payments and the screens. Clock only.

Hardware threads put events on an :class:`EventQueue`; :meth:`KioskApp.drain_hardware`
runs on the Clock and is the only place they reach the UI. Payments, printing
and voice run on their own threads and report back through queues drained on
the Clock too.
"""

import base64
import datetime as dt
import hashlib
import hmac
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import LabelBase
from kivy.core.window import Window
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk import fonts, i18n
from kiosk.domain.barcode import looks_like_ean
from kiosk.domain.cart import MAX_QUANTITY, Cart, CartLine, Product
from kiosk.domain.errors import QuantityError
from kiosk.domain.money import format_fen
from kiosk.domain.weighed import (
    ScaleLabelError,
    ScaleLabelLayout,
    decode_scale_label,
    format_weight,
    is_scale_label,
    price_for_weight,
)
from kiosk.hw.events import EventQueue, HardwareEvent, HardwareEventKind
from kiosk.hw.fake_scanner import FakeCardReader, FakeScanner
from kiosk.hw.scans import classify_scan
from kiosk.hw.status import DeviceState, status_message
from kiosk.payments import PaymentProvider, PaymentRequest, PaymentResult, PaymentStatus, wallet_for_code
from kiosk.screens.member_view import MemberSource, MemberView
from kiosk.store import audit, catalog, open_database, receipts
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.voice import VoicePrompter

log = logging.getLogger(__name__)

AGE_RESTRICTED = frozenset({"alcohol", "tobacco"})
DOUBLE_SCAN_S = 0.3  # the same code again within this is a bouncing trigger, not a second item
PRINTER_PROBLEMS = frozenset(
    {DeviceState.PAPER_OUT, DeviceState.COVER_OPEN, DeviceState.JOB_FAILED, DeviceState.MISSING,
     DeviceState.DISCONNECTED, DeviceState.OFFLINE, DeviceState.UNREACHABLE}
)  # fmt: skip


def hash_pin(pin: str, salt: bytes) -> bytes:
    """A slow salted hash of a staff PIN (scrypt)."""
    return hashlib.scrypt(pin.encode(), salt=salt, n=2**12, r=8, p=1)


@dataclass(frozen=True)
class AppSettings:
    """What the app needs to start: where its data is, who it is, and the shop's choices."""

    db_path: Path
    store: str = "S01"
    device: str = "K01"
    timezone: str = "Asia/Shanghai"
    lang: str = "zh"
    demo_mode: bool = False
    attendant_pin: str = "2468"  # demo PIN; a provisioned kiosk gets staff PINs from the hub
    remove_needs_attendant: bool = True
    idle_timeout_s: float = 90.0
    countdown_s: int = 20
    scale_layout: ScaleLabelLayout = field(default_factory=ScaleLabelLayout)
    gateway_url: str | None = None
    gateway_timeout_s: float = 10.0
    hub_url: str = "http://hub.local:8080"
    printer_url: str | None = None  # None: the virtual printer in demo mode, no printer otherwise
    voice: bool = False
    voice_player: list[str] | None = None
    promotions: tuple[str, ...] = ("promo_1", "promo_2", "promo_3")
    promo_every_s: float = 6.0
    encryption_key: bytes | None = None  # the business's personal-data key; demo mode uses the demo key


class KioskApp(App):
    """Self-checkout: idle -> cart (-> pick) -> pay -> receipt -> done, with attendant popups."""

    lang = StringProperty("zh")
    demo_mode = BooleanProperty(False)
    scale = NumericProperty(1.0)
    large_text = BooleanProperty(False)
    voice_on = BooleanProperty(False)
    cart = ObjectProperty(Cart())
    member = ObjectProperty(None, allownone=True)
    subtotal_text = StringProperty(format_fen(0))
    discount_text = StringProperty(format_fen(0))
    total_text = StringProperty(format_fen(0))
    item_count = NumericProperty(0)
    due_fen = NumericProperty(0)
    paid_fen = NumericProperty(0)
    remaining_text = StringProperty(format_fen(0))
    payment_busy = BooleanProperty(False)
    message = StringProperty("")
    message_is_error = BooleanProperty(False)
    promo_key = StringProperty("promo_1")
    last_receipt_no = StringProperty("")
    last_total_text = StringProperty("")
    points_earned = NumericProperty(0)
    qr_url = StringProperty("")
    last_sale = ObjectProperty({})

    def __init__(
        self,
        settings: AppSettings,
        hardware: EventQueue | None = None,
        payments: PaymentProvider | None = None,
        members: MemberSource | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.title = "Member Kiosk"
        self.lang = settings.lang
        self.demo_mode = settings.demo_mode
        self.voice_on = settings.voice
        self.hardware = hardware or EventQueue()
        self.payments = payments
        self.members: MemberSource | None = members  # set up in build() once the database is open
        self.demo_scanner = FakeScanner(self.hardware, name="demo-scanner")
        self.demo_card = FakeCardReader(self.hardware, name="demo-card")
        self.tz = ZoneInfo(settings.timezone)
        self.terminal = Terminal(store=settings.store, device=settings.device, boot=str(uuid.uuid4()))
        self.on_started: Callable[[KioskApp], None] | None = None
        self.tenders: list[PaymentIntent] = []
        self.popup: Any = None
        self.print_queue: Any = None
        self.voice: VoicePrompter | None = None
        self._pin_salt = os.urandom(16)
        self._pin_hash = hash_pin(settings.attendant_pin, self._pin_salt)
        self._results: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._last_scan: tuple[str, float] = ("", 0.0)
        self._last_activity = time.monotonic()
        self._demo_index = 0
        self._wedge: list[str] = []
        self._message_source: tuple[str, dict[str, object]] | None = None
        self.selected_sku = ""
        self.cart_id = str(uuid.uuid4())  # names the cart in a cart.abandoned event
        self._failed_receipts: set[str] = set()

    # --- life cycle -----------------------------------------------------------------
    def build(self) -> ScreenManager:
        LabelBase.register(
            "CJK",
            str(fonts.simplified_chinese_face("Regular")),
            fn_bold=str(fonts.simplified_chinese_face("Bold")),
        )
        from kiosk.screens import all_screens

        open_database(self.settings.db_path)
        if self.demo_mode:
            catalog.seed_demo_catalog()
        if self.members is None:
            self.members = self._member_source()
        from kiosk.flows.members import MemberFlow

        self.member_flow = MemberFlow(self)
        manager = ScreenManager(transition=NoTransition())
        for screen in all_screens():
            manager.add_widget(screen)
        return manager

    def _member_source(self) -> MemberSource | None:
        """Members on the store: the demo member in demo mode; none without a personal-data key."""
        from kiosk.config import DEMO_ENCRYPTION_KEY
        from kiosk.members_source import DEMO_TIER_NAMES_EN, StoreMemberSource, demo_rules, seed_demo_member
        from kiosk.store.pii import PiiKey

        key = self.settings.encryption_key
        if self.demo_mode:
            key = key or base64.b64decode(DEMO_ENCRYPTION_KEY)
            pii, rules = PiiKey(key), demo_rules()
            seed_demo_member(pii, self.terminal, self.now(), rules)
            return StoreMemberSource(pii, self.terminal, self.now, rules, tier_names_en=DEMO_TIER_NAMES_EN)
        if key is None:
            log.warning("no personal-data key configured: member cards and QR codes are not recognised")
            return None
        return StoreMemberSource(PiiKey(key), self.terminal, self.now)

    def on_start(self) -> None:
        Clock.schedule_interval(lambda _dt: self.drain_hardware(), 1 / 30)
        Clock.schedule_interval(lambda _dt: self.check_idle(), 1)
        Clock.schedule_interval(lambda _dt: self.next_promotion(), self.settings.promo_every_s)
        Window.bind(on_touch_down=lambda *_a: self.touched())
        self._start_printer()
        self.voice = VoicePrompter(
            fonts.cache_dir() / "voice", player=self.settings.voice_player, enabled=self.voice_on
        )
        if self.demo_mode:
            Window.bind(on_textinput=self._keyboard_wedge_text, on_key_down=self._keyboard_wedge_key)
        if self.on_started:
            Clock.schedule_once(lambda _dt: self.on_started(self), 0.5)  # type: ignore[misc]

    def on_stop(self) -> None:
        if self.print_queue is not None:
            self.print_queue.stop()
        if self.voice is not None:
            self.voice.stop(timeout=1)

    def _start_printer(self) -> None:
        url = self.settings.printer_url or ("virtual://" if self.demo_mode else None)
        if url is None:
            return
        from kiosk.hw.print_queue import PrintQueue
        from kiosk.hw.printer import open_printer

        self.print_queue = PrintQueue(open_printer(url), self.hardware).start()

    # --- hardware and worker results ----------------------------------------------------
    def drain_hardware(self) -> None:
        """Handle every hardware event and worker result waiting (UI thread)."""
        for event in self.hardware.drain():
            self.handle_hardware(event)
        while True:
            try:
                deliver = self._results.get_nowait()
            except queue.Empty:
                break
            deliver()

    def handle_hardware(self, event: HardwareEvent) -> None:
        """Dispatch one hardware event to what it means in the current screen."""
        if event.kind is HardwareEventKind.SCAN:
            self.on_scan(event.code)
        elif event.kind is HardwareEventKind.CARD:
            self.on_card(event.code)
        else:
            self.on_device_status(event)

    def on_scan(self, code: str) -> None:
        """A code arrived: product, scale label, payment code or member QR; or say why not."""
        code = code.strip()
        now = time.monotonic()
        if self._last_scan[0] == code and now - self._last_scan[1] < DOUBLE_SCAN_S:
            log.info("double scan of %s within %.0f ms ignored", code, DOUBLE_SCAN_S * 1000)
            return
        self._last_scan = (code, now)
        self.touched()
        screen = self.root.current
        kind = classify_scan(code)
        if kind == "payment_code":
            if screen == "pay":
                self.pay_mobile(code)
            else:
                self._say("payment_code_on_cart", error=True)
                self._go_shopping()
            return
        if screen not in ("idle", "cart", "pick") or self.popup is not None:
            log.info("scan %s ignored on the %s screen", code, screen)
            return
        if kind == "member_qr":
            self._identify(self.members.find_by_qr(code) if self.members else None)
        elif is_scale_label(code, self.settings.scale_layout):
            self._scan_scale_label(code)
        elif kind == "ean":
            self._scan_product(code)
        elif looks_like_ean(code):
            self._say("garbled_barcode", error=True, code=code)
        else:
            self._say("not_a_product", error=True)
        self._go_shopping()

    def _scan_product(self, code: str) -> None:
        product = catalog.find_by_barcode(code)
        if product is not None:
            self.add_product(product)
            return
        from kiosk.store.models import Product as ProductRow

        row = ProductRow.get_or_none(ProductRow.barcode == code)
        if row is not None:
            self._say(
                "inactive_product", error=True, name={"zh": row.name_zh, "en": row.name_en or row.name_zh}
            )
        else:
            self._say("unknown_barcode", error=True, code=code)

    def _scan_scale_label(self, code: str) -> None:
        try:
            label = decode_scale_label(code, self.settings.scale_layout)
        except ScaleLabelError:
            self._say("scale_label_bad", error=True, code=code)
            return
        product = catalog.find_by_plu(label.item_code)
        if product is None:
            self._say("scale_label_unknown", error=True, code=code, item=label.item_code)
            return
        if label.weight_g is not None:
            price = price_for_weight(label.weight_g, product.price_fen)
            suffix = f" {format_weight(label.weight_g)}"
        else:
            price, suffix = label.price_fen or 0, ""
        # one line per label: the label's code makes the sku unique, the price is the label's
        weighed = replace(
            product,
            sku=f"{product.sku}/{code}",
            barcode=code,
            price_fen=price,
            name_zh=product.name_zh + suffix,
            name_en=product.name_en + suffix,
        )
        self.add_product(weighed)

    def on_card(self, uid: str) -> None:
        """A card tap: identify the member (never mid-payment)."""
        self.touched()
        if self.root.current in ("pay", "receipt", "done") or self.payment_busy:
            self._say("member_locked", error=True)
            return
        if self.root.current.startswith("member_"):  # a member is joining or in My account
            log.info("card tap ignored on the %s screen", self.root.current)
            return
        self._identify(self.members.find_by_card(uid) if self.members else None)
        self._go_shopping()

    def on_device_status(self, event: HardwareEvent) -> None:
        """Printer and reader states: problems are shown; a failed receipt is reported to the hub."""
        log.info("device %s: %s %s", event.source, event.code, event.detail)
        try:
            state = DeviceState(event.code)
        except ValueError:
            return
        if event.source == "printer" and state in PRINTER_PROBLEMS:
            self._printer_problem(state, receipt_no=event.detail)

    def _printer_problem(self, state: DeviceState, receipt_no: str = "") -> None:
        """Say what is wrong with the printer; a receipt it could not print is reported once."""
        self._say("printer_problem", error=True, problem=status_message(state))
        if receipt_no and receipt_no != "drawer" and receipt_no not in self._failed_receipts:
            self._failed_receipts.add(receipt_no)
            receipts.record_receipt_failure(receipt_no, state.value, self.terminal, self.now())

    # --- cart -----------------------------------------------------------------------------
    def add_product(self, product: Product, quantity: int = 1) -> None:
        """Add ``product``; age-restricted items wait for an attendant's PIN."""
        if product.category in AGE_RESTRICTED and not self._already_age_checked():
            from kiosk.screens.popups import PinPopup

            PinPopup.ask(
                self,
                title="age_check_title",
                body=("age_check_body", {"name": names(product)}),
                approved=lambda staff: self._age_approved(product, quantity, staff),
                cancelled=lambda: self._say("pin_cancelled", error=True, name=names(product)),
            )
            return
        try:
            self.set_cart(self.cart.add(product, quantity))
        except QuantityError:
            self._say("quantity_limit", error=True, max=MAX_QUANTITY)
            return
        self._say("added", name=names(product))
        self.speak("added", name=names(product))

    def _already_age_checked(self) -> bool:
        return any(line.product.category in AGE_RESTRICTED for line in self.cart.lines)

    def _age_approved(self, product: Product, quantity: int, staff: str) -> None:
        audit.record_action(
            self.terminal, self.now(), "age_check", staff, {"sku": product.sku, "name_zh": product.name_zh}
        )
        self.set_cart(self.cart.add(product, quantity))
        self._say("age_approved", name=names(product))

    def change_quantity(self, sku: str, delta: int) -> None:
        """The shopper taps + or −; going below one asks to remove the line."""
        self.touched()
        line = self._line(sku)
        if line is None:
            return
        if line.quantity + delta < 1:
            self.remove_line(sku)
            return
        try:
            self.set_cart(self.cart.set_quantity(sku, line.quantity + delta))
        except QuantityError:
            self._say("quantity_limit", error=True, max=MAX_QUANTITY)

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
            title="remove_check_title",
            body=("remove_check_body", {"name": names(line.product)}),
            approved=lambda staff: self._remove(line, staff),
        )

    def _remove(self, line: CartLine, staff: str) -> None:
        if staff:
            audit.record_action(
                self.terminal, self.now(), "void", staff,
                {"scope": "line", "sku": line.product.sku, "quantity": line.quantity,
                 "total_fen": line.total_fen},
            )  # fmt: skip
        self.set_cart(self.cart.remove(line.product.sku))
        self._say("removed", name=names(line.product))

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
        self.root.get_screen("cart").show(cart, self.lang)

    def refresh_totals(self) -> None:
        """Subtotal, member savings, total due, points to earn and what is left to pay."""
        savings = self.members.savings_fen(self.member, self.cart) if self.member and self.members else 0
        self.subtotal_text = format_fen(self.cart.total_fen)
        self.discount_text = format_fen(-savings)
        self.due_fen = self.cart.total_fen - savings
        self.total_text = format_fen(self.due_fen)
        self.item_count = self.cart.item_count
        self.paid_fen = sum(t.amount_fen for t in self.tenders)
        self.remaining_text = format_fen(self.due_fen - self.paid_fen)

    def points_to_earn(self) -> int:
        """Points the member earns on this cart (zero without a member)."""
        return self.members.points_for(self.member, self.due_fen) if self.member and self.members else 0

    # --- members --------------------------------------------------------------------------
    def _identify(self, member: MemberView | None) -> None:
        if member is None:
            self._say("member_unknown", error=True)
            return
        self.member = member
        self.refresh_totals()
        self.root.get_screen("cart").show(self.cart, self.lang)
        self._say("member_welcome", name=member.name_masked)

    # --- payment --------------------------------------------------------------------------
    def start_payment(self) -> None:
        """Cart -> pay."""
        if self.cart.is_empty:
            self._say("cart_empty_hint", error=True)
            return
        self.refresh_totals()
        self.message = ""
        self._message_source = None
        self.go("pay")
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
            title="cash_approve_title",
            body=("cash_approve_body", {"amount": format_fen(amount)}),
            approved=lambda staff: self._cash_received(amount, staff),
        )

    def _cash_received(self, amount: int, staff: str) -> None:
        self.open_drawer()
        self.tenders.append(PaymentIntent("cash", amount, f"staff:{staff}"))
        self._say("cash_received", amount=format_fen(amount))
        self._after_tender()

    def pay_mobile(self, auth_code: str) -> None:
        """A payment code on the pay screen: charge what remains through the provider, off the UI thread."""
        if self.payment_busy:
            self._say("payment_busy", error=True)
            return
        if self.payments is None:
            self._say("mobile_error", error=True)
            return
        amount = self.remaining_fen()
        if amount <= 0:
            return
        wallet = wallet_for_code(auth_code) or "wechat"
        request = PaymentRequest(str(uuid.uuid4()), auth_code, amount, f"{self.settings.store} self-checkout")
        self.payment_busy = True
        self._say("paying_mobile", wallet=i18n.Key(wallet), amount=format_fen(amount))
        provider = self.payments

        def work() -> None:
            try:
                result = provider.charge(request)
            except Exception as exc:  # reported to the shopper below and logged whole
                log.exception("payment provider failed")
                result = PaymentResult(
                    PaymentStatus.ERROR, request.order_id, amount, reason=type(exc).__name__
                )
            self._results.put(lambda: self._mobile_result(wallet, result))

        threading.Thread(target=work, name="payment", daemon=True).start()

    def _mobile_result(self, wallet: str, result: PaymentResult) -> None:
        self.payment_busy = False
        self.touched()
        name = i18n.Key(wallet)
        if result.approved:
            self.tenders.append(PaymentIntent(wallet, result.amount_fen, result.reference))
            self._say("mobile_approved", wallet=name, amount=format_fen(result.amount_fen))
            self._after_tender()
            return
        key = {PaymentStatus.DECLINED: "mobile_declined", PaymentStatus.TIMEOUT: "mobile_timeout"}
        self._say(key.get(result.status, "mobile_error"), error=True, wallet=name, reason=result.reason)

    def pay_member(self) -> None:
        """储值/积分: pay what remains (or what the balances cover) from stored value, then points."""
        from kiosk.domain.loyalty import LoyaltyError
        from kiosk.members_source import NeedsAttendant

        if self.payment_busy or self.remaining_fen() <= 0:
            return
        if self.member is None or self.members is None:
            self._say("member_pay_no_member", error=True)
            return
        try:
            tender = self.members.member_tender(self.member, self.remaining_fen(), self.due_fen, self.tenders)
        except NeedsAttendant as exc:
            log.info("member payment needs an attendant: %s", exc)
            self._say("member_pay_over_cap", error=True)
            return
        except LoyaltyError:
            self._say("member_pay_nothing", error=True)
            return
        self.tenders.extend(tender.payments())
        self._say("member_paid", amount=format_fen(tender.total_fen), points=tender.points)
        self._after_tender()

    def _after_tender(self) -> None:
        self.refresh_totals()
        if self.remaining_fen() <= 0:
            self.finish_sale()

    def finish_sale(self) -> None:
        """Everything is paid: commit the sale, its payments and member add-on in one transaction."""
        cart, member, sale_id = self.cart, self.member, str(uuid.uuid4())
        now = self.now()
        try:
            addon = (
                self.members.sale_addon(member, cart, self.tenders, sale_id)
                if member and self.members
                else None
            )
            sale = commit_sale(cart, list(self.tenders), self.terminal, now, sale_id, member=addon)
        except Exception as exc:  # shown to the person, and logged whole
            log.exception("sale commit failed")
            self._say("sale_failed", error=True, reason=str(exc))
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
        self.qr_url = f"{self.settings.hub_url.rstrip('/')}/r/{sale.receipt_no}"
        self.tenders = []
        self.set_cart(Cart())
        self.message = ""
        self.root.current = "receipt"
        self.speak("receipt_title")

    # --- receipt -------------------------------------------------------------------------
    def receipt_data(self) -> Any:
        """The last sale as :class:`kiosk.hw.receipt_render.ReceiptData`."""
        from kiosk.hw.receipt_render import Amount, ReceiptData, ReceiptLine

        sale = self.last_sale
        member: MemberView | None = sale["member"]
        return ReceiptData(
            store_name=i18n.tr("shop_name", "zh"),
            receipt_no=sale["receipt_no"],
            time=sale["time"],
            lines=tuple(
                ReceiptLine(line.product.name_zh, line.quantity, line.product.price_fen, line.total_fen)
                for line in sale["cart"].lines
            ),
            discounts=(Amount("会员优惠", sale["discount_fen"]),) if sale["discount_fen"] else (),
            payments=tuple(Amount(_METHOD_ZH.get(t.method, t.method), t.amount_fen) for t in sale["tenders"]),
            member=member.phone_masked if member else None,
            points_earned=self.points_earned if member else None,
            points_balance=member.points + self.points_earned if member else None,
            qr_url=self.qr_url,
        )

    def print_receipt(self) -> None:
        """Render the receipt and queue it for the printer (off the UI thread); show thanks."""
        if self.print_queue is not None:
            from kiosk.hw.receipt_render import render_receipt

            data, queue_, width = self.receipt_data(), self.print_queue, self.print_queue.printer.width_dots
            # drawing the receipt takes tens of ms: a worker draws it and queues it (kept until printed)
            threading.Thread(
                target=lambda: queue_.submit(data.receipt_no, render_receipt(data, width)),
                name="receipt-render",
                daemon=True,
            ).start()
            state = self.print_queue.state
            if state in PRINTER_PROBLEMS:  # known down: say so now, not after the retries
                self._printer_problem(state, self.last_receipt_no)
            else:
                self._say("receipt_printing")
        else:
            self._printer_problem(DeviceState.MISSING, self.last_receipt_no)
        self.show_thanks()

    def show_receipt_qr(self) -> None:
        """Show the QR that opens the e-receipt on the hub."""
        self.root.get_screen("receipt").show_qr(self.qr_url)

    def show_thanks(self) -> None:
        """The thank-you screen."""
        self.root.current = "done"
        self.speak("done_title")

    def open_drawer(self) -> None:
        """Pulse the cash drawer through the printer (its own thread)."""
        if self.print_queue is not None:
            self.print_queue.open_drawer()

    # --- attendant -------------------------------------------------------------------------
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

    def staff_open_drawer(self, staff: str) -> None:
        """An attendant opens the drawer outside a sale; audited."""
        audit.record_action(self.terminal, self.now(), "drawer_open", staff, {})
        self.open_drawer()
        self._say("drawer_opened")

    # --- idle, timeout, attract ----------------------------------------------------------------
    def touched(self) -> None:
        """Someone is there: restart the inactivity timer."""
        self._last_activity = time.monotonic()

    def check_idle(self) -> None:
        """Once a second: after the idle timeout, ask "still there?"."""
        busy = self.root.current in ("idle",) or self.payment_busy or self.popup is not None
        if busy or self.tenders:
            return
        if time.monotonic() - self._last_activity >= self.settings.idle_timeout_s:
            from kiosk.screens.popups import StillThere

            StillThere.ask(self, self.settings.countdown_s)

    def abandon(self) -> None:
        """Nobody answered: keep the cart as ``cart.abandoned`` and reset the screen."""
        if not self.cart.is_empty:
            audit.record_abandoned_cart(self.terminal, self.now(), self.cart_id, self.cart, reason="timeout")
        self.reset()

    def reset(self) -> None:
        """Back to the attract screen with no cart, member, payment or message left."""
        self.tenders = []
        self.member = None
        self.selected_sku = ""
        self.cart_id = str(uuid.uuid4())
        self.set_cart(Cart())
        self.message = ""
        self._message_source = None
        self.qr_url = ""
        self.last_sale = {}
        if self.popup is not None:
            self.popup.dismiss()
        self.member_flow.clear()  # no member's data stays on a member screen
        self.root.current = "idle"

    def next_promotion(self) -> None:
        """Rotate the attract screen's promotions."""
        promos = self.settings.promotions
        if promos:
            index = (promos.index(self.promo_key) + 1) if self.promo_key in promos else 0
            self.promo_key = promos[index % len(promos)]

    # --- navigation and settings --------------------------------------------------------------
    def tr(self, key: str, lang: str, **values: object) -> str:
        """Translated text; kv passes ``app.lang`` so labels re-render on a switch."""
        return i18n.tr(key, lang, **values)

    def text_for(self, key: str, values: dict[str, object], lang: str) -> str:
        """Like :meth:`tr`, with per-language values (product names, wallets) resolved for ``lang``."""
        return i18n.tr(key, lang, **i18n.localise(values, lang)) if key else ""

    def fs(self, size: float, scale: float) -> float:
        """A font size in sp, enlarged in large-text mode; kv passes ``app.scale`` to rebind."""
        from kivy.metrics import sp

        return float(sp(size) * scale)

    def toggle_language(self) -> None:
        """Switch between Chinese and English."""
        self.lang = "en" if self.lang == "zh" else "zh"
        self.root.get_screen("cart").show(self.cart, self.lang)
        self.root.get_screen("pick").fill()

    def toggle_large_text(self) -> None:
        """Large-text mode for people who read at arm's length."""
        self.large_text = not self.large_text
        self.scale = 1.25 if self.large_text else 1.0
        self.root.get_screen("cart").show(self.cart, self.lang)

    def toggle_voice(self) -> None:
        """Voice prompts on or off."""
        self.voice_on = not self.voice_on
        if self.voice is not None:
            self.voice.enabled = self.voice_on
        self.speak("start_hint")

    def speak(self, key: str, **values: object) -> None:
        """Say the prompt ``key`` in the current language when voice is on (worker thread)."""
        if self.voice is not None and self.voice_on:
            self.voice.say(self.text_for(key, values, self.lang), self.lang)

    def go(self, screen: str) -> None:
        """Show ``screen``; going idle resets everything."""
        if screen == "idle":
            self.reset()
            return
        if screen == "cart" and self.tenders:
            self._say("back_blocked", error=True, paid=format_fen(sum(t.amount_fen for t in self.tenders)))
            return
        self.root.current = screen

    def _go_shopping(self) -> None:
        if self.root.current in ("idle", "pick"):
            self.root.current = "cart"

    def cancel_sale(self) -> None:
        """The shopper gives up before paying: the cart is kept as abandoned, back to idle."""
        if not self.cart.is_empty:
            audit.record_abandoned_cart(
                self.terminal, self.now(), self.cart_id, self.cart, reason="cancelled"
            )
        self.reset()

    def now(self) -> dt.datetime:
        """The shop's local time."""
        return dt.datetime.now(self.tz)

    def demo_scan(self) -> None:
        """Demo mode: the fake scanner types the next product's barcode."""
        from kiosk.store.models import Product as ProductRow

        rows = list(
            ProductRow.select().where(ProductRow.barcode.is_null(False)).order_by(ProductRow.sku).limit(12)
        )
        row = rows[self._demo_index % len(rows)]
        self._demo_index += 3
        self.demo_scanner.scan(row.barcode)

    # --- helpers --------------------------------------------------------------------------
    def _say(self, key: str, error: bool = False, **values: object) -> None:
        self._message_source = (key, values)
        self.message = self.text_for(key, values, self.lang)
        self.message_is_error = error

    def on_lang(self, _app: object, lang: str) -> None:
        """Re-render the current message in the new language."""
        if self.message and self._message_source:
            key, values = self._message_source
            self.message = self.text_for(key, values, lang)

    def _keyboard_wedge_text(self, _window: object, text: str) -> None:
        self._wedge.append(text)

    def _keyboard_wedge_key(self, _window: object, key: int, *_args: object) -> None:
        if key == 13 and self._wedge:  # Enter ends a code typed by a desktop scanner
            code, self._wedge[:] = "".join(self._wedge), []
            self.hardware.put(HardwareEvent(HardwareEventKind.SCAN, code, "keyboard"))


def names(product: Product) -> dict[str, str]:
    """A product's name per language, for messages that re-render on a language switch."""
    return {"zh": product.name_zh, "en": product.name_en or product.name_zh}


_METHOD_ZH = {
    "cash": "现金",
    "wechat": "微信支付",
    "alipay": "支付宝",
    "stored_value": "储值",
    "points": "积分",
}
