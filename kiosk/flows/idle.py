"""Inactivity and resets: "still there?", abandoned carts, the attract screen's promotions.

A mixin of :class:`kiosk.app.KioskApp`: it uses the app's state and screens through ``self``.
"""

import logging
import time
import uuid

from kiosk import i18n
from kiosk.domain.cart import Cart
from kiosk.store import audit
from kiosk.sync import config
from kiosk.system import heap

log = logging.getLogger(__name__)


class IdleFlow:
    """Watches for inactivity and brings the kiosk back to the attract screen."""

    def touched(self) -> None:
        """Someone is there: restart the inactivity timer."""
        self._last_activity = time.monotonic()

    def check_idle(self) -> None:
        """Once a second: after the idle timeout, ask "still there?".

        A keypad or staff menu nobody finished does not hold the screen: it is closed
        first, so the countdown, the abandoned cart and the reset still follow and no
        member's data stays up behind a popup. Only a payment in flight or money
        already taken stops the timeout.
        """
        from kiosk.screens.popups import PausePopup, StillThere

        # a paused till stays paused: only staff open it again
        if self.payment_busy or self.tenders or isinstance(self.popup, StillThere | PausePopup):
            return
        if time.monotonic() - self._last_activity < self.settings.idle_timeout_s:
            return
        if self.popup is not None:
            log.info("idle timeout: closing the unfinished %s", type(self.popup).__name__)
            self.popup.dismiss()
        if self.root.current != "idle":
            StillThere.ask(self, self.settings.countdown_s)

    def abandon(self) -> None:
        """Nobody answered: keep the cart as ``cart.abandoned`` and reset the screen."""
        if not self.cart.is_empty:
            audit.record_abandoned_cart(self.terminal, self.now(), self.cart_id, self.cart, reason="timeout")
        self.reset()

    def reset(self) -> None:
        """Back to the attract screen with no cart, member, payment or message left."""
        self.tenders, self.approvals, self.override_offered = [], [], False
        self.override_draw, self.declined_coupons = "", frozenset()
        self.member = None
        self.selected_sku = ""
        self.cart_id = str(uuid.uuid4())
        self.forget_suggestions()
        self.set_cart(Cart())
        self.message = ""
        self._message_source = None
        self.qr_url = ""
        self.last_sale = {}
        if self.popup is not None:
            self.popup.dismiss()
        self.member_flow.clear()  # no member's data stays on a member screen
        self.root.current = "idle"
        heap.release_after_sale()  # nobody waits now: what the sale left goes back (kiosk/system/heap.py)

    def load_promotions(self) -> bool:
        """Take the promotions of the config release the terminal runs, when its version changed.

        One single-row query when nothing changed, so the Clock may call it on every rotation.
        The built-in promotions show only while the hub never sent any. Returns True on a change.
        """
        version = config.running_version()
        if version == self._promo_version:
            return False
        self._promo_version = version
        sent = [promo.model_dump() for promo in config.applied_promotions()]
        builtin = [{lang: i18n.tr(key, lang) for lang in ("zh", "en")} for key in self.settings.promotions]
        self.promos = sent or builtin
        self.promo_index = 0
        return True

    def next_promotion(self) -> None:
        """Rotate the attract screen's promotions (a new release starts again at its first one)."""
        if not self.load_promotions() and self.promos:
            self.promo_index = (self.promo_index + 1) % len(self.promos)

    def promo_line(self, promos: list[dict[str, str]], index: int, lang: str) -> str:
        """The promotion at ``index`` in ``lang``; kv passes the properties so the label rebinds."""
        text = promos[index].get(lang, "") if 0 <= index < len(promos) else ""
        return text.replace(" ", i18n.NBSP) if lang != "en" else text  # Kivy wraps Chinese at spaces only

    def cancel_sale(self) -> None:
        """The shopper gives up before paying: the cart is kept as abandoned, back to idle."""
        if not self.cart.is_empty:
            audit.record_abandoned_cart(
                self.terminal, self.now(), self.cart_id, self.cart, reason="cancelled"
            )
        self.reset()
