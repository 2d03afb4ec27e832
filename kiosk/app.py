"""The Kivy app: wires the hardware queue, the store, payments and the screens. Clock only.

Hardware threads put events on an :class:`EventQueue`; :meth:`KioskApp.drain_hardware`
runs on the Clock and is the only place they reach the UI. Payments, printing
and voice run on their own threads and report back through queues drained on
the Clock too. The methods live in ``kiosk/flows/`` (one mixin per part of the
checkout); this module holds the app's state, its life cycle and navigation.
"""

import base64
import datetime as dt
import gc
import logging
import os
import queue
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import LabelBase
from kivy.core.window import Window
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk import fonts, i18n
from kiosk.domain.cart import Cart
from kiosk.domain.money import format_fen
from kiosk.domain.receipt_link import DEFAULT_DAYS
from kiosk.domain.weighed import ScaleLabelLayout
from kiosk.flows.cart import AGE_RESTRICTED, CartFlow, names
from kiosk.flows.hardware import DOUBLE_SCAN_S, PRINTER_PROBLEMS, HardwareFlow
from kiosk.flows.idle import IdleFlow
from kiosk.flows.payment import PaymentFlow
from kiosk.flows.receipt import ReceiptFlow
from kiosk.flows.refund import RefundFlow
from kiosk.flows.staff import StaffFlow, hash_pin
from kiosk.flows.together import TogetherFlow
from kiosk.hw.events import EventQueue
from kiosk.hw.fake_scanner import FakeCardReader, FakeScanner
from kiosk.hw.voice import VoicePrompter
from kiosk.payments import PaymentProvider
from kiosk.screens.member_view import MemberSource
from kiosk.store import business_keys, catalog, open_database
from kiosk.store.pin_tries import StoredPinLockout
from kiosk.store.sales import Approval, PaymentIntent, Terminal
from kiosk.translations import N_

if TYPE_CHECKING:
    from kiosk.domain.loyalty.rules import LoyaltyRules, RiskCap

log = logging.getLogger(__name__)

__all__ = [
    "AGE_RESTRICTED",
    "DOUBLE_SCAN_S",
    "PRINTER_PROBLEMS",
    "AppSettings",
    "KioskApp",
    "hash_pin",
    "names",
]


@dataclass(frozen=True)
class AppSettings:
    """What the app needs to start: where its data is, who it is, and the shop's choices."""

    db_path: Path
    store: str = "S01"
    device: str = "K01"
    timezone: str = "Asia/Shanghai"
    lang: str = "zh"
    demo_mode: bool = False
    attendant_pin: str = "2468"  # make demo's attendant only; a provisioned kiosk has the hub's staff roster
    attendant_id: str = "attendant-1"  # who that PIN is: audits and staff.clock events name them
    attendant_name: str = "王芳"  # shown when they clock in or out
    attendant_badges: tuple[str, ...] = ()  # card UIDs of their staff badge: a tap clocks in/out
    offline_points_cap: int = 2000  # per member while the hub is unreachable ([limits] in kiosk.toml)
    offline_stored_value_cap_fen: int = 20000
    remove_needs_attendant: bool = True
    idle_timeout_s: float = 90.0
    countdown_s: int = 20
    scale_layout: ScaleLabelLayout = field(default_factory=ScaleLabelLayout)
    gateway_url: str | None = None
    gateway_timeout_s: float = 10.0
    hub_url: str = "http://hub.local:8080"
    receipt_key: bytes | None = None  # kiosk.toml's [device] receipt_key: signs the receipt QR's link
    receipt_link_days: int = DEFAULT_DAYS  # how long that link opens after the sale
    printer_url: str | None = None  # None: the virtual printer in demo mode, no printer otherwise
    printer_width: int = 576  # dots per line: kiosk.toml's paper_width (384 for 58 mm paper, 576 for 80 mm)
    voice: bool = False
    voice_player: list[str] | None = None
    promotions: tuple[str, ...] = (
        N_("promo_1"),
        N_("promo_2"),
        N_("promo_3"),
    )  # shown until the hub sends some
    promo_every_s: float = 6.0
    shop_name: str | None = None  # kiosk.toml's store.name; None: the demo shop's name in each language
    logo: str | None = None  # kiosk.toml's store.logo (a PNG, checked there); None: the name alone
    encryption_key: bytes | None = None  # the business's personal-data key; demo mode uses the demo key


#: The font sizes (sp) the screens draw with; ``KioskApp.fs`` snaps every requested size to one.
# the simulated printer keeps what the last receipts printed, not every receipt since start
VIRTUAL_PRINTER_OPS = 400

TYPE_SCALE = (14, 16, 18, 20, 24, 28, 32, 40, 48, 56)


class KioskApp(
    HardwareFlow, CartFlow, TogetherFlow, PaymentFlow, ReceiptFlow, StaffFlow, RefundFlow, IdleFlow, App
):
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
    override_offered = BooleanProperty(False)  # member payment over the offline cap: 店员授权 offered
    override_draw = StringProperty("")  # which member button the override is for: stored_value / points
    points_wanted = ObjectProperty(None, allownone=True)  # points the shopper chose to use; None: the most
    member_options = ObjectProperty(
        None, allownone=True
    )  # kiosk.domain.member_choices.MemberOptions on the pay screen
    coupon_choices = ListProperty([])  # kiosk.domain.member_choices.CouponChoice, one per usable coupon
    count_card_choices = ListProperty([])  # kiosk.flows.members_source.CountCardChoice: 次卡抵扣 buttons
    message = StringProperty("")
    message_is_error = BooleanProperty(False)
    promos = ListProperty([])  # [{"zh": ..., "en": ...}]: the hub's promotions, else the built-in ones
    promo_index = NumericProperty(0)
    last_receipt_no = StringProperty("")
    last_total_text = StringProperty("")
    points_earned = NumericProperty(0)
    qr_url = StringProperty("")
    last_sale = ObjectProperty({})
    suggestion = ObjectProperty(None, allownone=True)  # the cart's one "often bought together" product
    staff_ready = BooleanProperty(True)  # a staff roster (or the demo attendant): else 未配置店员

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
        self.approvals: list[Approval] = []  # attendant approvals the sale carries (offline-cap override)
        self.override_asked: Any = None  # what the member payment over the cap would spend (OfflineSpend)
        self.declined_coupons: frozenset[str] = frozenset()  # coupons the shopper keeps for later (this sale)
        self.popup: Any = None
        self.print_queue: Any = None
        self.virtual_printer: Any = None
        self.voice: VoicePrompter | None = None
        self._pin_salt = os.urandom(16)
        self._pin_hash = hash_pin(settings.attendant_pin, self._pin_salt)
        self.staff_lockout = StoredPinLockout()  # wrong staff PINs, counted in SQLite per terminal
        self._results: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._drain_soon: Callable[[], object] = lambda: None  # a Clock trigger once the app runs
        self._last_scan: tuple[str, float] = ("", 0.0)
        self.hardware_handled = (
            0  # hardware events handled on the UI thread (the scripted shopper waits on it)
        )
        self._last_activity = time.monotonic()
        self._demo_index = 0
        self._wedge: list[str] = []
        self._message_source: tuple[str, dict[str, object]] | None = None
        self.selected_sku = ""
        self.cart_id = str(uuid.uuid4())  # names the cart in a cart.abandoned event
        self._failed_receipts: set[str] = set()
        self._promo_version = -1  # the config version the promotions were read from; -1: not yet
        self.forget_suggestions()

    # --- life cycle -----------------------------------------------------------------
    def build(self) -> ScreenManager:
        regular, bold = fonts.kivy_faces()
        LabelBase.register("CJK", str(regular), fn_bold=str(bold))
        from kiosk.screens import KioskScreens, checkout_screens

        open_database(self.settings.db_path)
        if self.demo_mode:
            catalog.seed_demo_catalog()
        self.load_promotions()
        self.refresh_staff()
        self.refresh_together()
        if self.members is None:
            self.members = self._member_source()
        from kiosk.flows.members import MemberFlow

        self.member_flow = MemberFlow(self)
        manager = KioskScreens(transition=NoTransition())
        for screen in checkout_screens():  # member and refund screens: when first shown
            manager.add_widget(screen)
        return manager

    def _member_source(self) -> MemberSource | None:
        """Members on the store: the demo member in demo mode; none without a personal-data key."""
        from kiosk.config import DEMO_ENCRYPTION_KEY
        from kiosk.domain.loyalty.rules import LoyaltyRules, RiskCap
        from kiosk.flows.members_source import (
            DEMO_TIER_NAMES_EN,
            StoreMemberSource,
            demo_rules,
            seed_demo_member,
        )
        from kiosk.store.pii import PiiKey
        from kiosk.sync.config import RulesFromConfig

        key = self.settings.encryption_key
        cap = RiskCap(
            offline_points=self.settings.offline_points_cap,
            offline_stored_value_fen=self.settings.offline_stored_value_cap_fen,
        )
        if self.demo_mode:
            # the owner's rules from the applied config; the demo shop's only until a config arrives
            key = key or base64.b64decode(DEMO_ENCRYPTION_KEY)
            pii, rules = PiiKey(key), _with_cap(RulesFromConfig(fallback=demo_rules()), cap)
            seed_demo_member(pii, self.terminal, self.now(), rules())
            return StoreMemberSource(pii, self.terminal, self.now, rules, tier_names_en=DEMO_TIER_NAMES_EN)
        if key is None:
            log.warning("no personal-data key configured: member cards and QR codes are not recognised")
            return None
        rules = _with_cap(RulesFromConfig(fallback=LoyaltyRules()), cap)
        ring = business_keys.key_ring(key)  # the provisioned key, and any the hub sent since
        business_keys.report_key(ring, self.now())
        return StoreMemberSource(ring, self.terminal, self.now, rules)

    def refresh_keys(self) -> None:
        """Take up a business key ``kiosk sync`` received (a key rotation at the hub), and report it."""
        key = self.settings.encryption_key
        source = self.members
        if self.demo_mode or key is None or source is None or not hasattr(source, "key"):
            return
        ring = business_keys.key_ring(key)
        if ring.key_ids != source.key.key_ids:
            log.info("business keys now %s (writing with %s)", ", ".join(ring.key_ids), ring.key_id)
            source.key = ring
            business_keys.report_key(ring, self.now())

    def on_start(self) -> None:
        # a hardware thread's put (or a worker's deliver) fires this trigger: the drain runs on the next
        # Clock tick instead of waiting for a poll; Kivy's scheduling calls are safe from any thread
        self._drain_soon = Clock.create_trigger(lambda _dt: self.drain_hardware())
        self.hardware.wake_with(self._drain_soon)
        self._drain_soon()  # whatever arrived before the app started
        Clock.schedule_once(lambda _dt: self._freeze_startup_heap(), 0)
        Clock.schedule_interval(lambda _dt: self.check_idle(), 1)
        Clock.schedule_interval(lambda _dt: self.next_promotion(), self.settings.promo_every_s)
        Clock.schedule_interval(lambda _dt: self.refresh_staff(), 5)  # kiosk sync applies new rosters
        Clock.schedule_interval(lambda _dt: self.refresh_keys(), 5)  # and business keys (hub keys rotate)
        Clock.schedule_interval(lambda _dt: self.refresh_together(), 5)  # and bought-together tables
        Window.bind(on_touch_down=lambda *_a: self.touched())
        self._start_printer()
        self.voice = VoicePrompter(
            fonts.cache_dir() / "voice", player=self.settings.voice_player, enabled=self.voice_on
        )
        if self.demo_mode:
            Window.bind(on_textinput=self._keyboard_wedge_text, on_key_down=self._keyboard_wedge_key)
        if self.on_started:
            Clock.schedule_once(lambda _dt: self.on_started(self), 0.5)  # type: ignore[misc]

    def _freeze_startup_heap(self) -> None:
        """Take what start-up built (Kivy, screens, kv rules, catalog) out of the collector's sight.

        A full collection walks every tracked object, about 170,000 once the app runs, which took
        30–95 ms here and landed in the middle of a scan now and then (docs/perf.md). Frozen objects
        are never walked again; what each sale creates is still collected as before.
        """
        gc.collect()
        gc.freeze()

    def on_stop(self) -> None:
        self.hardware.wake_with(None)
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
        from kiosk.hw.status import DeviceState
        from kiosk.store import device_status

        def record(state: DeviceState) -> None:  # on the print queue's thread: the heartbeat reports it
            device_status.record(device_status.PRINTER, state.value, self.now())

        from kiosk.hw.virtual_printer import VirtualPrinter

        # kept so the scripted shopper can report the ESC/POS the virtual printer received
        virtual = url.startswith("virtual")
        width = self.settings.printer_width
        self.virtual_printer = VirtualPrinter(width, keep_ops=VIRTUAL_PRINTER_OPS) if virtual else None
        printer = open_printer(url, width, virtual=self.virtual_printer)
        self.print_queue = PrintQueue(printer, self.hardware, on_state=record).start()

    # scans and devices: kiosk/flows/hardware.py; cart and members: flows/cart.py; paying: flows/payment.py;
    # receipt and thanks: flows/receipt.py; attendant: flows/staff.py; refund: flows/refund.py;
    # timeout and reset: flows/idle.py

    # --- navigation and settings --------------------------------------------------------------
    def tr(self, key: str, lang: str, **values: object) -> str:
        """Translated text; kv passes ``app.lang`` so labels re-render on a switch."""
        return i18n.tr(key, lang, **values)

    def ntr(self, key: str, plural_key: str, n: int, lang: str, **values: object) -> str:
        """Translated text in the plural form ``n`` takes in ``lang`` (one item, two items; 件)."""
        return i18n.ntr(key, plural_key, n, lang, **values)

    def folded(self, text: str, lang: str, width: float, font_size: float, bold: bool = False) -> str:
        """``text`` as a wrapping label ``width`` px wide shows it: Chinese never starts a line with "。".

        English wraps at its spaces as Kivy does; Chinese is broken into lines here
        (:func:`kiosk.i18n.fold`), measured in the label's font and size.
        """
        if lang == "en" or not text or width < font_size:
            return text
        from kivy.core.text import Label as CoreLabel

        measure = CoreLabel(font_name="CJK", font_size=font_size, bold=bold)
        return i18n.fold(text, lambda line: measure.get_extents(line)[0] <= width - 2)

    def shop(self, lang: str) -> str:
        """The shop's name on screen and receipts: the provisioned store name, else the demo shop's."""
        return self.settings.shop_name or i18n.tr("shop_name", lang)

    def text_for(self, key: str, values: dict[str, object], lang: str) -> str:
        """Like :meth:`tr`, with per-language values (product names, wallets) resolved for ``lang``."""
        return i18n.tr(key, lang, **i18n.localise(values, lang)) if key else ""

    def fs(self, size: float, scale: float) -> float:
        """A font size in pixels, enlarged in large-text mode; kv passes ``app.scale`` to rebind.

        ``size * scale`` is snapped to :data:`TYPE_SCALE` (the nearest step, the smaller on a
        tie): Kivy opens the CJK face once per distinct size and keeps it (about 0.9 MB each),
        so a few sizes shared by every screen, in both modes, keep that memory small.
        """
        from kivy.metrics import sp

        wanted = size * scale
        step = min(TYPE_SCALE, key=lambda s: (abs(s - wanted), s))
        return float(round(sp(step)))

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
            self._say(
                N_("back_blocked"), error=True, paid=format_fen(sum(t.amount_fen for t in self.tenders))
            )
            return
        self.root.current = screen

    def _go_shopping(self) -> None:
        if self.root.current in ("idle", "pick"):
            self.root.current = "cart"

    def now(self) -> dt.datetime:
        """The shop's local time."""
        return dt.datetime.now(self.tz)

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


def _with_cap(rules: "Callable[[], LoyaltyRules]", cap: "RiskCap") -> "Callable[[], LoyaltyRules]":
    """The owner's rules from the config, with this terminal's offline cap from kiosk.toml ``[limits]``.

    The cap is per terminal (a till in a busy store may be trusted with more than a kiosk at the
    door), so it is the provisioning file's, not the owner's shared rules'. Re-derived only when
    the config's rules object changes.
    """
    last: list[Any] = [None, None]

    def current() -> "LoyaltyRules":
        base = rules()
        if base is not last[0]:
            last[0], last[1] = base, base.model_copy(update={"risk": cap})
        return last[1]

    return current
