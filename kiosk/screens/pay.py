"""Pay screen: total, paid so far, what is left; cash (whole or part), a scanned payment code,
the member's stored value or points, and the member's coupons to use now or keep."""

from typing import Any

from kivy.factory import Factory
from kivy.properties import ListProperty
from kivy.uix.widget import Widget

from kiosk.domain.member_choices import CouponChoice
from kiosk.screens.base import KioskScreen, load_kv


class PayScreen(KioskScreen):
    """Split payment: each tender reduces what is left; the sale commits when nothing is.

    The part-cash buttons (¥10, ¥20, ¥50, ``CASH_PARTS_FEN`` in pay.kv) work only below what is left.
    储值支付 and 积分抵扣 each pay what that money covers, 次卡抵扣 one unit per visit of a
    member's count card; a usable coupon can be
    unticked (kept for later) until the first tender is taken, since it changes the total.
    """

    coupon_list = ListProperty([])  # bound to ``app.coupon_choices`` in pay.kv
    count_card_list = ListProperty([])  # bound to ``app.count_card_choices``: CountCardChoice, one per card

    #: at most this many 次卡抵扣 buttons (the column keeps room for the back button)
    MOST_COUNT_CARDS = 2

    def on_coupon_list(self, _screen: "PayScreen", choices: list[CouponChoice]) -> None:
        self.show_coupons(choices)

    def on_count_card_list(self, _screen: "PayScreen", choices: list[Any]) -> None:
        box = self.ids.count_cards
        box.clear_widgets()
        for choice in choices[: self.MOST_COUNT_CARDS]:
            button = Factory.CountCardPayButton()
            button.choice = choice
            box.add_widget(button)

    def count_card_buttons(self) -> list[Widget]:
        """The 次卡抵扣 buttons, top to bottom."""
        return list(reversed(self.ids.count_cards.children))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: list[CouponChoice] | None = None

    def show_coupons(self, choices: list[CouponChoice]) -> None:
        """One button per usable coupon; rebuilt only when the choices change."""
        if choices == self._shown:
            return
        self._shown = list(choices)
        box = self.ids.coupons
        box.clear_widgets()
        for choice in choices:
            button = Factory.CouponButton()
            button.choice = choice
            box.add_widget(button)

    def coupon_buttons(self) -> list[Widget]:
        """The coupon buttons, left to right."""
        return list(reversed(self.ids.coupons.children))


load_kv("pay")
