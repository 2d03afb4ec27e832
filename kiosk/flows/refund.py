"""Refund at the counter (退货退款): an attendant takes back lines of a stored sale.

Staff menu → Refund → staff PIN → choose the sale (recent receipts, or scan the
receipt's QR / number) → choose lines and quantities → the amount and where the
money goes → confirm. Mobile parts go back through the PaymentProvider on a worker
thread first; then one transaction stores the refund (:func:`kiosk.store.refunds.refund_sale`);
the drawer opens for the cash part and the refund slip prints on the print queue.

The refund id is made when the sale is chosen and kept until the refund is stored,
so a retry after a gateway error or a crash asks the gateway and the store with the
same id and nothing is paid back twice. A mixin of :class:`kiosk.app.KioskApp`.
"""

import logging
import threading
import uuid
from typing import Any

from kiosk import i18n
from kiosk.domain.money import format_fen
from kiosk.domain.refunds import Pick, RefundRefused
from kiosk.payments import PaymentResult, RefundRequest
from kiosk.store import receipts, refunds
from kiosk.translations import N_

log = logging.getLogger(__name__)

REFUND_RECENT = 8  # the refund screen lists this many last sales


class RefundFlow:
    """The attendant's refund, step by step; state lives on the app while the screen is up."""

    refund_staff: str = ""
    refund_id: str = ""
    refund_view: Any = None  # the chosen sale (kiosk.store.refunds.RefundableSale)
    refund_picks: dict[int, int] = {}  # noqa: RUF012 (replaced per refund, never mutated in place here)

    def start_refund(self, _menu_staff: str) -> None:
        """The staff menu's Refund: the PIN again (money goes out), then the sale list."""
        from kiosk.screens.popups import PinPopup

        PinPopup.ask(
            self,
            title=N_("refund_pin_title"),
            body=(N_("refund_pin_body"), {}),
            approved=self.open_refund,
            action="refund",
        )

    def open_refund(self, staff: str) -> None:
        """Show the recent sales to refund from, for ``staff`` (if their role may refund)."""
        if not self.may(staff, "refund"):
            return
        self.refund_staff, self.refund_id, self.refund_view, self.refund_picks = staff, "", None, {}
        entries = receipts.recent_receipts(REFUND_RECENT)
        screen = self.root.get_screen("refund")
        screen.show_sales(entries)
        self.message = ""
        self.root.current = "refund"

    def refund_scanned(self, code: str) -> None:
        """A receipt's QR or number scanned on the refund screen."""
        sale = refunds.find_sale(code)
        if sale is None:
            self._say(N_("refund_no_such_receipt"), error=True, code=code)
            return
        self.refund_choose_sale(sale.id)

    def refund_choose_sale_no(self, receipt_no: str) -> None:
        """A sale tapped in the list."""
        self.refund_scanned(receipt_no)

    def refund_choose_sale(self, sale_id: str) -> None:
        """Show the sale's lines with what can still be returned."""
        self.refund_view = refunds.refundable(sale_id)
        self.refund_id = str(uuid.uuid4())
        self.refund_picks = {line.position: 0 for line in self.refund_view.lines}
        self.root.get_screen("refund").show_lines(self.refund_view)
        self._refund_update()

    def refund_change(self, position: int, delta: int) -> None:
        """+/- on a line: within 0 and what the line can still return."""
        line = next(x for x in self.refund_view.lines if x.position == position)
        left = line.quantity - line.refunded_quantity
        self.refund_picks[position] = max(0, min(left, self.refund_picks[position] + delta))
        self.refund_id = str(uuid.uuid4())  # a different refund now: a new idempotency key
        self._refund_update()

    def refund_plan(self) -> refunds.RefundPlan | None:
        """What the current choice returns, or None when nothing is chosen."""
        picks = [Pick(p, q) for p, q in self.refund_picks.items() if q]
        if self.refund_view is None or not picks:
            return None
        return refunds.plan_for_sale(self.refund_view, picks)

    def _refund_update(self) -> None:
        screen = self.root.get_screen("refund")
        screen.show_quantities(self.refund_picks)
        try:
            plan = self.refund_plan()
        except RefundRefused as exc:
            self._say(N_("refund_refused"), error=True, reason={"zh": exc.zh, "en": exc.en})
            plan = None
        screen.show_plan(plan)
        if plan is None:
            self._say(N_("refund_choose_items"))
        else:
            self.message = ""

    def refund_back(self) -> None:
        """From the lines back to the sale list; from the list back to shopping."""
        if self.refund_view is not None:
            self.open_refund(self.refund_staff)
        else:
            self.reset()

    def confirm_refund(self) -> None:
        """Pay mobile parts back through the gateway (worker), then store the refund."""
        plan = self.refund_plan()
        if plan is None or self.payment_busy:
            return
        mobile = [p for p in plan.payments if p.mobile]
        if not mobile:
            self._store_refund(plan, {})
            return
        if self.payments is None:
            self._say(N_("refund_gateway_missing"), error=True)
            return
        self.payment_busy = True
        self._say(N_("refund_working"))
        refund_id, provider = self.refund_id, self.payments

        def work() -> None:
            results = []
            for part in mobile:
                request = RefundRequest(
                    refunds.gateway_refund_id(refund_id, part), part.original, part.amount_fen
                )
                results.append((part.index, provider.refund(request)))
            self.deliver(lambda: self._after_gateway(plan, refund_id, results))

        threading.Thread(target=work, name="refund-gateway", daemon=True).start()

    def _after_gateway(
        self, plan: refunds.RefundPlan, refund_id: str, results: list[tuple[int, PaymentResult]]
    ) -> None:
        self.payment_busy = False
        refused = [r for _, r in results if not r.approved]
        if refused:
            log.warning("gateway refused refund %s: %s", refund_id, [r.reason for r in refused])
            self._say(N_("refund_gateway_declined"), error=True, reason=", ".join(r.reason for r in refused))
            return
        if refund_id == self.refund_id:
            self._store_refund(plan, {index: r.reference for index, r in results})

    def _store_refund(self, plan: refunds.RefundPlan, refs: dict[int, str]) -> None:
        picks = [Pick(x.position, x.quantity) for x in plan.lines]
        try:
            stored = refunds.refund_sale(
                plan.sale.sale_id, picks, self.terminal, self.now(), self.refund_staff, self.refund_id,
                gateway_refs=refs,
            )  # fmt: skip
        except RefundRefused as exc:
            self._say(N_("refund_refused"), error=True, reason={"zh": exc.zh, "en": exc.en})
            return
        if plan.cash_fen:
            self.open_drawer()
        if self.print_queue is not None:
            self.queue_receipt(refunds.refund_slip(stored.refund_id, self.shop("zh")))
        cash = {"zh": "", "en": ""}
        if plan.cash_fen:
            cash = {
                lang: i18n.tr("refund_cash_out", lang, cash=format_fen(plan.cash_fen))
                for lang in ("zh", "en")
            }
        self.refund_view = None
        self.root.get_screen("refund").show_done(refunds.refundable(stored.sale_id))
        self._say(N_("refund_done"), amount=format_fen(stored.amount_fen), cash=cash)
