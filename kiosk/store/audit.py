"""Audited attendant actions and abandoned carts: each is one outbox event.

Each function writes its event in its own ``atomic("IMMEDIATE")`` transaction;
the cart they describe lives in the app's memory, so the event is the change.
"""

import datetime as dt
from typing import Any

from kiosk.domain.cart import Cart
from kiosk.store.connection import database
from kiosk.store.outbox import record_event
from kiosk.store.sales import Terminal


def _append(terminal: Terminal, now: dt.datetime, type: str, data: dict[str, Any]) -> str:
    with database.atomic("IMMEDIATE"):
        return record_event(
            terminal, now.isoformat(timespec="milliseconds"), type, {"store": terminal.store, **data}
        )


def cart_lines(cart: Cart) -> list[dict[str, Any]]:
    """The cart's lines as event data."""
    return [
        {
            "sku": line.product.sku,
            "name_zh": line.product.name_zh,
            "unit_price_fen": line.product.price_fen,
            "quantity": line.quantity,
            "total_fen": line.total_fen,
        }
        for line in cart.lines
    ]


def record_action(
    terminal: Terminal, now: dt.datetime, action: str, attendant: str, detail: dict[str, Any]
) -> str:
    """An ``audit.action`` event (docs/protocol.md): ``action`` (``age_check``, ``price_override``,
    ``void``, ``drawer_open``) approved by ``attendant``, before any sale exists; return its id."""
    data = {"action": action, "attendant": attendant, "sale_id": None, "detail": detail}
    return _append(terminal, now, "audit.action", data)


def record_abandoned_cart(terminal: Terminal, now: dt.datetime, cart_id: str, cart: Cart, reason: str) -> str:
    """A ``cart.abandoned`` event keeping the lines and total of a cart nobody paid for
    (``reason``: ``timeout`` or ``cancelled``)."""
    data = {"cart_id": cart_id, "reason": reason, "total_fen": cart.total_fen, "lines": cart_lines(cart)}
    return _append(terminal, now, "cart.abandoned", data)
