"""The attendant's refund screen: choose a sale, then lines and quantities, then confirm.

The texts are bound to ``app.lang`` in ``refund.kv``, so switching language redraws
them; the flow (:mod:`kiosk.flows.refund`) feeds the screen plain values.
"""

from collections.abc import Sequence
from typing import Any

from kivy.factory import Factory
from kivy.properties import BooleanProperty, DictProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.domain.money import format_fen
from kiosk.i18n import payment_method_name, tr
from kiosk.screens.base import KioskScreen, load_kv


class RefundLineRow(BoxLayout):
    """One sale line: its name, sold and returnable units, and -/+ for the units to refund."""

    position = NumericProperty(0)
    names = DictProperty({})
    sold = NumericProperty(0)
    left = NumericProperty(0)
    quantity = NumericProperty(0)
    locked = BooleanProperty(False)  # the refund is stored: the counts stay, the buttons go


class RefundScreen(KioskScreen):
    """``stage``: ``sales`` (pick the sale), ``lines`` (pick what comes back), ``done``."""

    stage = StringProperty("sales")
    heading = DictProperty({})
    amount_fen = NumericProperty(0)
    parts = ListProperty([])  # (method, fen) the refund goes back by
    can_confirm = BooleanProperty(False)

    def show_sales(self, entries: Sequence[Any]) -> None:
        """List recent sales (:class:`kiosk.store.receipts.RecentReceipt`) as buttons."""
        self.stage, self.heading, self.amount_fen, self.parts, self.can_confirm = "sales", {}, 0, [], False
        box = self.ids.entries
        box.clear_widgets()
        for entry in entries:
            row = Factory.RefundSaleRow()
            row.sale_no = entry.receipt_no
            row.values = {
                "receipt_no": entry.receipt_no,
                "total": format_fen(entry.total_fen),
                "time": entry.time.strftime("%m-%d %H:%M"),
            }
            box.add_widget(row)
        self.ids.empty.opacity = 0 if entries else 1

    def show_lines(self, sale: Any) -> None:
        """The chosen sale's lines (:class:`kiosk.store.refunds.RefundableSale`)."""
        self.stage = "lines"
        self.heading = {
            "receipt_no": sale.receipt_no,
            "total": format_fen(sale.total_fen),
            "refunded": format_fen(sale.refunded_fen),
        }
        box = self.ids.entries
        box.clear_widgets()
        for line in sale.lines:
            box.add_widget(
                RefundLineRow(
                    position=line.position,
                    names={"zh": line.name_zh, "en": line.name_en or line.name_zh},
                    sold=line.quantity,
                    left=line.quantity - line.refunded_quantity,
                )
            )
        self.ids.empty.opacity = 0

    def show_quantities(self, picks: dict[int, int]) -> None:
        """Each line's chosen units."""
        for row in self.line_rows():
            row.quantity = picks.get(row.position, 0)

    def show_plan(self, plan: Any) -> None:
        """The amount and where it goes (a :class:`kiosk.store.refunds.RefundPlan`, or None)."""
        self.amount_fen = plan.amount_fen if plan is not None else 0
        self.parts = [(p.method, p.amount_fen) for p in plan.payments] if plan is not None else []
        self.can_confirm = plan is not None

    def show_done(self, sale: Any) -> None:
        """The refund is stored: the sale's new refunded total, the counts kept; only Close remains."""
        self.stage, self.can_confirm = "done", False
        self.heading = {**self.heading, "refunded": format_fen(sale.refunded_fen)}
        left = {line.position: line.quantity - line.refunded_quantity for line in sale.lines}
        for row in self.line_rows():
            row.locked, row.left = True, left.get(row.position, 0)

    def amount_text(self, amount_fen: int, stage: str, lang: str) -> str:
        """The refund's amount, once a sale is chosen."""
        return tr("refund_amount", lang, amount=format_fen(amount_fen)) if stage != "sales" else ""

    def parts_text(self, parts: Sequence[tuple[str, int]], lang: str) -> str:
        """Where the money goes, one payment per line."""
        return "\n".join(
            tr("refund_to", lang, method=payment_method_name(m, lang), amount=format_fen(f)) for m, f in parts
        )

    def sale_rows(self) -> list[Any]:
        """The listed sales, top to bottom."""
        return [w for w in reversed(self.ids.entries.children) if not isinstance(w, RefundLineRow)]

    def line_rows(self) -> list[RefundLineRow]:
        """The sale's line rows, top to bottom."""
        return [w for w in reversed(self.ids.entries.children) if isinstance(w, RefundLineRow)]


load_kv("refund")
