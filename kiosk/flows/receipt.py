"""After the sale: the receipt (printed off the UI thread, or as a QR), the thank-you screen, the drawer.

A mixin of :class:`kiosk.app.KioskApp`: it uses the app's state and screens through ``self``.
"""

import threading
from typing import Any

from kiosk.flows.hardware import PRINTER_PROBLEMS
from kiosk.hw.receipt_render import Amount, ReceiptData, ReceiptLine, render_receipt
from kiosk.hw.status import DeviceState
from kiosk.screens.member_view import MemberView
from kiosk.translations import N_

_METHOD_ZH = {
    "cash": "现金",
    "wechat": "微信支付",
    "alipay": "支付宝",
    "stored_value": "储值",
    "points": "积分",
}


class ReceiptFlow:
    """Renders and queues the last sale's receipt and shows the thank-you screen."""

    def receipt_data(self) -> Any:
        """The last sale as :class:`kiosk.hw.receipt_render.ReceiptData`."""

        sale = self.last_sale
        member: MemberView | None = sale["member"]
        return ReceiptData(
            store_name=self.shop("zh"),
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
            self.queue_receipt(self.receipt_data())
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

    def receipt_url(self, receipt_no: str) -> str:
        """The hub's e-receipt page for ``receipt_no`` (what the receipt's QR opens)."""
        return f"{self.settings.hub_url.rstrip('/')}/r/{receipt_no}"

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
