"""Shift close at the terminal: the X report (figures so far) and the Z report (close the shift).

A shift is this terminal's outbox events after its last ``shift.closed`` (the outbox
keeps every event, acked ones too). Its figures are sums over those events only —
sales by payment method, refunds, voids, overrides, stored-value top-ups — so the Z
report equals the sum of the shift's events by construction, and the hub can check
it the same way. Expected cash is the cash taken (sales and top-ups) less the cash
given back (refunds); the attendant counts the drawer, and over/short is counted
less expected. The Z report is one ``shift.closed`` event, in one transaction with
reading the figures, so nothing can fall between two shifts.
"""

import datetime as dt
import json
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from kiosk.domain.loyalty import PRINCIPAL
from kiosk.domain.money import format_fen
from kiosk.hw.receipt_render import ReceiptData, ReceiptLine
from kiosk.i18n import payment_method_name
from kiosk.store.connection import database
from kiosk.store.models import Outbox
from kiosk.store.outbox import record_event
from kiosk.store.sales import Terminal

OVERRIDES = ("price_override", "offline_cap_override")


@dataclass(frozen=True)
class ShiftFigures:
    """What happened on this terminal since the last Z report, in fen and counts."""

    opened_at: str  # the first event's time ('' when nothing happened yet)
    first_seq: int
    last_seq: int
    sales: int = 0
    sales_fen: int = 0
    by_method: dict[str, int] = field(default_factory=dict)  # payment method -> fen taken
    refunds: int = 0
    refunds_fen: int = 0
    refunds_by_method: dict[str, int] = field(default_factory=dict)
    voids: int = 0
    voids_fen: int = 0
    overrides: int = 0
    top_ups: int = 0
    top_ups_fen: int = 0  # cash taken for stored value (the principal; the bonus is not cash)

    @property
    def expected_cash_fen(self) -> int:
        """Cash that should be in the drawer: cash sales and top-ups, less cash refunds."""
        return self.by_method.get("cash", 0) + self.top_ups_fen - self.refunds_by_method.get("cash", 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the expected cash."""
        return {**asdict(self), "expected_cash_fen": self.expected_cash_fen}


def _last_close_seq() -> int:
    row = Outbox.select(Outbox.seq).where(Outbox.type == "shift.closed").order_by(Outbox.seq.desc()).first()
    return int(row.seq) if row else 0


def shift_figures() -> ShiftFigures:
    """The figures of the open shift (the X report): sums over the events since the last Z."""
    after = _last_close_seq()
    rows = list(Outbox.select(Outbox.seq, Outbox.ts, Outbox.type, Outbox.body).where(Outbox.seq > after))
    rows.sort(key=lambda r: r.seq)
    by_method: dict[str, int] = defaultdict(int)
    refunds_by_method: dict[str, int] = defaultdict(int)
    counts = dict.fromkeys(("sales", "sales_fen", "refunds", "refunds_fen", "voids", "voids_fen"), 0)
    counts |= {"overrides": 0, "top_ups": 0, "top_ups_fen": 0}
    for row in rows:
        data = json.loads(row.body)["data"]
        if row.type == "sale.completed":
            counts["sales"] += 1
            counts["sales_fen"] += int(data["total_fen"])
            for pay in data["payments"]:
                by_method[pay["method"]] += int(pay["amount_fen"])
        elif row.type == "sale.refunded":
            counts["refunds"] += 1
            counts["refunds_fen"] += int(data["amount_fen"])
            for pay in data["payments"]:
                refunds_by_method[pay["method"]] += int(pay["amount_fen"])
        elif row.type == "audit.action" and data.get("action") == "void":
            counts["voids"] += 1
            counts["voids_fen"] += int(data["detail"].get("total_fen", 0))
        elif row.type == "audit.action" and data.get("action") in OVERRIDES:
            counts["overrides"] += 1
        elif row.type == "ledger.adjusted" and data.get("reason") == "top_up":
            cash = sum(int(e["amount"]) for e in data["entries"] if e["account"] == PRINCIPAL)
            counts["top_ups"] += 1
            counts["top_ups_fen"] += cash
    return ShiftFigures(
        opened_at=rows[0].ts if rows else "",
        first_seq=rows[0].seq if rows else after + 1,
        last_seq=rows[-1].seq if rows else after,
        by_method=dict(sorted(by_method.items())),
        refunds_by_method=dict(sorted(refunds_by_method.items())),
        **counts,
    )


@dataclass(frozen=True)
class ShiftClose:
    """A Z report: the shift's figures, the cash counted and who closed it."""

    shift_id: str
    closed_at: str
    attendant: str
    figures: ShiftFigures
    counted_cash_fen: int

    @property
    def over_short_fen(self) -> int:
        """Counted less expected: positive is over, negative short."""
        return self.counted_cash_fen - self.figures.expected_cash_fen


def close_shift(terminal: Terminal, now: dt.datetime, attendant: str, counted_cash_fen: int) -> ShiftClose:
    """The Z report: read the figures and write ``shift.closed`` in one transaction."""
    if counted_cash_fen < 0:
        raise ValueError(f"counted cash cannot be negative: {counted_cash_fen}")
    ts = now.isoformat(timespec="milliseconds")
    with database.atomic("IMMEDIATE"):
        figures = shift_figures()
        closed = ShiftClose(str(uuid.uuid4()), ts, attendant, figures, counted_cash_fen)
        data = {
            "store": terminal.store, "shift_id": closed.shift_id, "attendant": attendant,
            "opened_at": figures.opened_at, "closed_at": ts, "figures": figures.to_dict(),
            "counted_cash_fen": counted_cash_fen, "over_short_fen": closed.over_short_fen,
        }  # fmt: skip
        record_event(terminal, ts, "shift.closed", data)
    return closed


def record_x_report(terminal: Terminal, now: dt.datetime, attendant: str) -> ShiftFigures:
    """The X report: read the open shift's figures and write ``shift.x_report`` in one transaction.

    The shift stays open (the next Z still sums every event since the last Z: an X report
    counts as none of the figures), and the hub sees mid-shift figures per terminal.
    """
    ts = now.isoformat(timespec="milliseconds")
    with database.atomic("IMMEDIATE"):
        figures = shift_figures()
        data = {
            "store": terminal.store, "report_id": str(uuid.uuid4()), "attendant": attendant,
            "opened_at": figures.opened_at, "printed_at": ts, "figures": figures.to_dict(),
        }  # fmt: skip
        record_event(terminal, ts, "shift.x_report", data)
    return figures


def _method(method: str) -> str:
    return f"{payment_method_name(method, 'zh')} {payment_method_name(method, 'en')}"


def shift_slip(
    figures: ShiftFigures, store_name: str, number: str, now: dt.datetime, close: ShiftClose | None = None
) -> ReceiptData:
    """The printed X report (``close`` None) or Z report, both languages, as a receipt image's data."""
    kind = "Z 班结报表 Shift close" if close else "X 班中报表 Shift so far"
    lines = [
        f"销售 Sales {figures.sales} 笔",
        *(f"  {_method(m)}  {format_fen(fen)}" for m, fen in figures.by_method.items()),
        f"退款 Refunds {figures.refunds} 笔  -{format_fen(figures.refunds_fen)}",
        f"作废 Voids {figures.voids} 次  {format_fen(figures.voids_fen)}",
        f"改价/授权 Overrides {figures.overrides} 次",
        f"储值充值 Top-ups {figures.top_ups} 笔  {format_fen(figures.top_ups_fen)}",
        f"应有现金 Expected cash {format_fen(figures.expected_cash_fen)}",
    ]
    if close is not None:
        sign = "+" if close.over_short_fen >= 0 else "-"
        lines += [
            f"实点现金 Counted {format_fen(close.counted_cash_fen)}",
            f"长短款 Over/short {sign}{format_fen(abs(close.over_short_fen))}",
            f"经办 Attendant {close.attendant}",
        ]
    return ReceiptData(
        store_name=kind,
        receipt_no=number,
        time=now,
        # one line per payment method: the receipt's 合计 is the shift's takings
        lines=tuple(ReceiptLine(_method(m), 1, fen, fen) for m, fen in figures.by_method.items()),
        extra=(store_name, f"自 Since {figures.opened_at[:16] or '-'}", *lines),
        footer="班结 Shift report",
    )
