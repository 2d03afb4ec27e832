"""Hardware events on the UI thread: scans, card taps and device states reach the cart here.

A mixin of :class:`kiosk.app.KioskApp`: it uses the app's state and screens through ``self``.
"""

import logging
import queue
import time
from collections.abc import Callable
from dataclasses import replace

from kiosk.domain.barcode import looks_like_ean
from kiosk.domain.weighed import (
    ScaleLabelError,
    decode_scale_label,
    format_weight,
    is_scale_label,
    price_for_weight,
)
from kiosk.hw.events import HardwareEvent, HardwareEventKind
from kiosk.hw.scans import classify_scan
from kiosk.hw.status import DeviceState, status_message
from kiosk.store import catalog, receipts
from kiosk.store.models import Product as ProductRow
from kiosk.translations import N_

log = logging.getLogger(__name__)

DOUBLE_SCAN_S = 0.3  # the same code again within this is a bouncing trigger, not a second item
PRINTER_PROBLEMS = frozenset(
    {DeviceState.PAPER_OUT, DeviceState.COVER_OPEN, DeviceState.JOB_FAILED, DeviceState.MISSING,
     DeviceState.DISCONNECTED, DeviceState.OFFLINE, DeviceState.UNREACHABLE}
)  # fmt: skip


class HardwareFlow:
    """Drains the hardware queue and worker results on the Clock and says what each scan means."""

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

    def deliver(self, result: Callable[[], None]) -> None:
        """Run ``result`` on the UI thread at the next Clock tick; called from worker threads."""
        self._results.put(result)
        self._drain_soon()

    def handle_hardware(self, event: HardwareEvent) -> None:
        """Dispatch one hardware event to what it means in the current screen."""
        if event.kind is HardwareEventKind.SCAN:
            self.on_scan(event.code, event.at)
        elif event.kind is HardwareEventKind.CARD:
            self.on_card(event.code)
        else:
            self.on_device_status(event)

    def on_scan(self, code: str, at: float | None = None) -> None:
        """A code arrived (``at``: its ``time.monotonic()``, default now): product, scale label,
        payment code or member QR; or say why not."""
        code = code.strip()
        now = time.monotonic() if at is None else at
        if self._last_scan[0] == code and now - self._last_scan[1] < DOUBLE_SCAN_S:
            log.info("double scan of %s within %.0f ms ignored", code, DOUBLE_SCAN_S * 1000)
            return
        self._last_scan = (code, now)
        self.touched()
        screen = self.root.current
        if screen == "refund" and self.popup is None:  # a receipt's QR or number, to refund it
            self.refund_scanned(code)
            return
        kind = classify_scan(code)
        if kind == "payment_code":
            if screen == "pay":
                self.pay_mobile(code)
            else:
                self._say(N_("payment_code_on_cart"), error=True)
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
            self._say(N_("garbled_barcode"), error=True, code=code)
        else:
            self._say(N_("not_a_product"), error=True)
        self._go_shopping()

    def _scan_product(self, code: str) -> None:
        product = catalog.find_by_barcode(code)
        if product is not None:
            self.add_product(product)
            return

        row = ProductRow.get_or_none(ProductRow.barcode == code)
        if row is not None:
            self._say(
                N_("inactive_product"), error=True, name={"zh": row.name_zh, "en": row.name_en or row.name_zh}
            )
        else:
            self._say(N_("unknown_barcode"), error=True, code=code)

    def _scan_scale_label(self, code: str) -> None:
        try:
            label = decode_scale_label(code, self.settings.scale_layout)
        except ScaleLabelError:
            self._say(N_("scale_label_bad"), error=True, code=code)
            return
        product = catalog.find_by_plu(label.item_code)
        if product is None:
            self._say(N_("scale_label_unknown"), error=True, code=code, item=label.item_code)
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
        """A card tap: identify the member (never mid-payment); a staff badge acts as its person."""
        self.touched()
        person = self.staff_for_badge(uid)
        if person is not None:  # a staff badge, never a member: approves, opens the menu or clocks
            self.badge_tapped(person)
            return
        if self.root.current in ("pay", "receipt", "done") or self.payment_busy:
            self._say(N_("member_locked"), error=True)
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
        self._say(N_("printer_problem"), error=True, problem=status_message(state))
        if receipt_no and receipt_no != "drawer" and receipt_no not in self._failed_receipts:
            self._failed_receipts.add(receipt_no)
            receipts.record_receipt_failure(receipt_no, state.value, self.terminal, self.now())

    def demo_scan(self) -> None:
        """Demo mode: the fake scanner types the next product's barcode."""

        rows = list(
            ProductRow.select().where(ProductRow.barcode.is_null(False)).order_by(ProductRow.sku).limit(12)
        )
        row = rows[self._demo_index % len(rows)]
        self._demo_index += 3
        self.demo_scanner.scan(row.barcode)

    def _keyboard_wedge_text(self, _window: object, text: str) -> None:
        self._wedge.append(text)

    def _keyboard_wedge_key(self, _window: object, key: int, *_args: object) -> None:
        if key == 13 and self._wedge:  # Enter ends a code typed by a desktop scanner
            code, self._wedge[:] = "".join(self._wedge), []
            self.hardware.put(HardwareEvent(HardwareEventKind.SCAN, code, "keyboard"))
