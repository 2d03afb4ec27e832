"""The Kivy app: wires the hardware queue, the store and the screens. Clock only.

Hardware threads put events on an :class:`EventQueue`; :meth:`KioskApp.drain_hardware`
runs on the Clock and is the only place they reach the UI.
"""

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import LabelBase
from kivy.core.window import Window
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk import fonts, i18n
from kiosk.domain.barcode import is_valid_retail_code, looks_like_ean
from kiosk.domain.cart import Cart
from kiosk.domain.money import format_fen
from kiosk.hw.events import EventQueue, HardwareEvent, HardwareEventKind
from kiosk.hw.fake_scanner import FakeScanner
from kiosk.store import catalog, open_database
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppSettings:
    """What the app needs to start: where its data is and who it is."""

    db_path: Path
    store: str = "S01"
    device: str = "K01"
    timezone: str = "Asia/Shanghai"
    lang: str = "zh"
    demo_mode: bool = False


class KioskApp(App):
    """Self-checkout: idle -> cart -> pay -> done."""

    lang = StringProperty("zh")
    demo_mode = BooleanProperty(False)
    cart = ObjectProperty(Cart())
    total_text = StringProperty(format_fen(0))
    item_count = NumericProperty(0)
    message = StringProperty("")
    message_is_error = BooleanProperty(False)
    last_receipt_no = StringProperty("")
    last_total_text = StringProperty("")

    def __init__(self, settings: AppSettings, hardware: EventQueue | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.title = "Member Kiosk"
        self.lang = settings.lang
        self.demo_mode = settings.demo_mode
        self.hardware = hardware or EventQueue()
        self.demo_scanner = FakeScanner(self.hardware, name="demo-scanner")
        self.tz = ZoneInfo(settings.timezone)
        self.terminal = Terminal(store=settings.store, device=settings.device, boot=str(uuid.uuid4()))
        self.on_started: Callable[[KioskApp], None] | None = None
        self._demo_index = 0
        self._wedge: list[str] = []
        self._message_source: tuple[str, dict[str, object]] | None = None

    # --- life cycle -----------------------------------------------------------------
    def build(self) -> ScreenManager:
        LabelBase.register(
            "CJK",
            str(fonts.simplified_chinese_face("Regular")),
            fn_bold=str(fonts.simplified_chinese_face("Bold")),
        )
        from kiosk.screens.cart import CartScreen
        from kiosk.screens.done import DoneScreen
        from kiosk.screens.idle import IdleScreen
        from kiosk.screens.pay import PayScreen

        open_database(self.settings.db_path)
        if self.demo_mode:
            catalog.seed_demo_catalog()
        manager = ScreenManager(transition=NoTransition())
        for screen in (IdleScreen(), CartScreen(), PayScreen(), DoneScreen()):
            manager.add_widget(screen)
        return manager

    def on_start(self) -> None:
        Clock.schedule_interval(lambda _dt: self.drain_hardware(), 1 / 30)
        if self.demo_mode:
            Window.bind(on_textinput=self._keyboard_wedge_text, on_key_down=self._keyboard_wedge_key)
        if self.on_started:
            Clock.schedule_once(lambda _dt: self.on_started(self), 0.5)  # type: ignore[misc]

    # --- hardware -------------------------------------------------------------------
    def drain_hardware(self) -> None:
        """Handle every hardware event waiting on the queue (UI thread)."""
        for event in self.hardware.drain():
            self.handle_hardware(event)

    def handle_hardware(self, event: HardwareEvent) -> None:
        """Dispatch one hardware event to what it means in the current screen."""
        if event.kind is HardwareEventKind.SCAN:
            self.on_scan(event.code)
        else:
            log.info("hardware %s from %s: %s", event.kind.value, event.source, event.code)

    def on_scan(self, code: str) -> None:
        """A barcode arrived: add its product, or say clearly why not."""
        code = code.strip()
        if self.root.current in ("pay", "done"):
            log.info("scan %s ignored on the %s screen", code, self.root.current)
            return
        if looks_like_ean(code) and not is_valid_retail_code(code):
            self._say("garbled_barcode", error=True, code=code)
        else:
            product = catalog.find_by_barcode(code)
            if product is None:
                self._say("unknown_barcode", error=True, code=code)
            else:
                self.set_cart(self.cart.add(product))
                self._say("added", name=product.name(self.lang))
        self.go("cart")

    # --- actions from the screens --------------------------------------------------------
    def tr(self, key: str, lang: str, **values: object) -> str:
        """Translated text; kv passes ``app.lang`` so labels re-render on a switch."""
        return i18n.tr(key, lang, **values)

    def toggle_language(self) -> None:
        """Switch between Chinese and English."""
        self.lang = "en" if self.lang == "zh" else "zh"
        self.root.get_screen("cart").show(self.cart, self.lang)

    def go(self, screen: str) -> None:
        """Show ``screen``; going idle forgets the cart and any message."""
        if screen == "idle":
            self.set_cart(Cart())
        if screen != "cart":
            self.message = ""
        self.root.current = screen

    def set_cart(self, cart: Cart) -> None:
        """Replace the cart and refresh what shows it."""
        self.cart = cart
        self.total_text = format_fen(cart.total_fen)
        self.item_count = cart.item_count
        self.root.get_screen("cart").show(cart, self.lang)

    def cancel_sale(self) -> None:
        """The shopper gives up: back to idle."""
        self.go("idle")

    def confirm_cash(self) -> None:
        """The attendant confirms cash: commit the sale and its outbox event, show done."""
        cart = self.cart
        now = dt.datetime.now(self.tz)
        try:
            sale = commit_sale(cart, [PaymentIntent("cash", cart.total_fen, "attendant")], self.terminal, now)
        except Exception as exc:  # shown to the person, and logged whole
            log.exception("sale commit failed")
            self._say("sale_failed", error=True, reason=str(exc))
            return
        self.last_receipt_no = sale.receipt_no
        self.last_total_text = format_fen(sale.total_fen)
        self.set_cart(Cart())
        self.message = ""
        self.root.current = "done"

    def demo_scan(self) -> None:
        """Demo mode: the fake scanner types the next product's barcode."""
        from kiosk.store.models import Product

        products = list(Product.select().order_by(Product.sku).limit(12))
        product = products[self._demo_index % len(products)]
        self._demo_index += 3
        self.demo_scanner.scan(product.barcode)

    # --- helpers --------------------------------------------------------------------------
    def _say(self, key: str, error: bool = False, **values: object) -> None:
        self._message_source = (key, values)
        self.message = i18n.tr(key, self.lang, **values)
        self.message_is_error = error

    def on_lang(self, _app: object, lang: str) -> None:
        """Re-render the current message in the new language."""
        if self.message and self._message_source:
            key, values = self._message_source
            self.message = i18n.tr(key, lang, **values)

    def _keyboard_wedge_text(self, _window: object, text: str) -> None:
        self._wedge.append(text)

    def _keyboard_wedge_key(self, _window: object, key: int, *_args: object) -> None:
        if key == 13 and self._wedge:  # Enter ends a code typed by a desktop scanner
            code, self._wedge[:] = "".join(self._wedge), []
            self.hardware.put(HardwareEvent(HardwareEventKind.SCAN, code, "keyboard"))
