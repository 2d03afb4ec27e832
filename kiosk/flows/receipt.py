"""After the sale: the receipt (printed off the UI thread, or as a QR), the thank-you screen, the drawer.

A mixin of :class:`kiosk.app.KioskApp`: it uses the app's state and screens through ``self``.
"""

import datetime as dt
import threading
from typing import Any

from kiosk.flows.hardware import PRINTER_PROBLEMS
from kiosk.hw.receipt_render import render_receipt
from kiosk.hw.status import DeviceState
from kiosk.store import receipts
from kiosk.store.models import Sale
from kiosk.translations import N_


class ReceiptFlow:
    """Queues the last sale's receipt (drawn from the stored sale) and shows the thank-you screen."""

    def queue_sale_receipt(self, receipt_no: str) -> None:
        """Draw the stored sale's receipt on a worker and queue it: the first print and every reprint.

        One builder (:func:`kiosk.store.receipts.receipt_for_sale`) reads the stored sale, so a
        reprint after the queue forgot the original is the same image, byte for byte.
        """
        queue_, width = self.print_queue, self.print_queue.printer.width_dots
        shop = self.shop("zh")

        def draw() -> None:  # reading the sale and drawing take tens of ms: never on the UI thread
            sale = Sale.get(Sale.receipt_no == receipt_no)
            url = self.receipt_url(receipt_no, dt.datetime.fromisoformat(sale.created_at))
            queue_.submit(receipt_no, render_receipt(receipts.receipt_for_sale(sale.id, shop, url), width))

        threading.Thread(target=draw, name="receipt-render", daemon=True).start()

    def print_receipt(self) -> None:
        """Render the receipt and queue it for the printer (off the UI thread); show thanks."""
        if self.print_queue is not None:
            self.queue_sale_receipt(self.last_receipt_no)
            state = self.print_queue.state
            if state in PRINTER_PROBLEMS:  # known down: say so now, not after the retries
                self._printer_problem(state, self.last_receipt_no)
            else:
                self._say(N_("receipt_printing"))
        else:
            self._printer_problem(DeviceState.MISSING, self.last_receipt_no)
        self.show_thanks()

    def queue_receipt(self, data: Any) -> None:
        """Draw ``data`` (a ``ReceiptData``) on a worker and queue it; the queue keeps it until printed."""

        queue_, width = self.print_queue, self.print_queue.printer.width_dots
        # drawing the receipt takes tens of ms: never on the UI thread
        threading.Thread(
            target=lambda: queue_.submit(data.receipt_no, render_receipt(data, width)),
            name="receipt-render",
            daemon=True,
        ).start()

    def receipt_url(self, receipt_no: str, sold_at: dt.datetime) -> str | None:
        """The signed, expiring link to the hub's e-receipt of a sale made at ``sold_at`` (the QR).

        None without a receipt key (a terminal provisioned before receipt keys, or the demo
        without one): a bare receipt number opens nothing on the hub, so no QR is printed.
        """
        return receipts.receipt_link(
            self.settings.hub_url,
            receipt_no,
            sold_at,
            self.settings.receipt_key,
            self.settings.receipt_link_days,
        )

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
