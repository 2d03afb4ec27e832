"""My account (我的账户): balances, tier progress, points history, coupons, count cards, and the
member's own actions (change PIN, export my data, erase my data)."""

from typing import Any

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.utils import escape_markup

from kiosk import i18n
from kiosk.domain.money import format_fen
from kiosk.screens.base import load_kv
from kiosk.screens.member_base import MemberScreen
from kiosk.translations import N_

#: What each ledger entry kind is called in the points history (``m_kind_{kind}``).
_KIND_KEYS = (
    N_("m_kind_earn"),
    N_("m_kind_redeem"),
    N_("m_kind_expire"),
    N_("m_kind_adjust"),
    N_("m_kind_top_up"),
    N_("m_kind_spend"),
    N_("m_kind_refund_reversal"),
    N_("m_kind_merge"),
)


class MemberAccountScreen(MemberScreen):
    """Filled by the member flow; :meth:`clear` removes every bit of the member from the screen."""

    member = ObjectProperty(None, allownone=True)  # MemberView
    history = ListProperty([])  # (day, kind, amount), newest first
    coupons = ListProperty([])  # ({"zh": name, "en": what it does}, valid until day)
    cards = ListProperty([])  # (card id, {"zh": name, "en": name}, visits left, last day)
    has_pin = BooleanProperty(False)
    pending_card = StringProperty("")  # the card whose 用一次 was tapped once (a second tap books)

    def money(self, fen: int) -> str:
        """Fen as shown: ¥12.34."""
        return format_fen(fen)

    def tier_line(self, lang: str, member: Any) -> str:
        """``member``'s tier and the points to the next one."""
        if member is None:
            return ""
        tier = member.text(member.tier, lang)
        if member.next_tier:
            ahead = i18n.tr("m_tier_progress", lang, points=member.points_to_next_tier,
                            tier=member.text(member.next_tier, lang))  # fmt: skip
        else:
            ahead = i18n.tr("m_tier_top", lang)
        return f"{tier}\n{ahead}"

    def history_text(self, lang: str, history: list[tuple[str, str, int]]) -> str:
        """The points entries, one per line: day, what, amount."""
        if not history:
            return i18n.tr("m_history_empty", lang)
        return "\n".join(
            f"{day}  {i18n.tr('m_kind_' + kind, lang)}  {amount:+d}" for day, kind, amount in history
        )

    def wallet_text(
        self,
        lang: str,
        coupons: list[tuple[dict[str, str], str]],
        cards: list[tuple[str, dict[str, str], int, str]],
    ) -> str:
        """Coupons and count cards under bold headings (Kivy markup; names are escaped)."""
        none = i18n.tr("m_none", lang)
        coupon_lines = [i18n.tr("m_coupon_until", lang, name=n[lang], until=u) for n, u in coupons] or [none]
        card_lines = [
            i18n.tr("m_count_card", lang, sku=m[lang], left=n, until=u) for _c, m, n, u in cards
        ] or [none]
        coupons_heading, cards_heading = i18n.tr("m_coupons", lang), i18n.tr("m_count_cards", lang)
        lines = [f"[b]{coupons_heading}[/b]", *map(escape_markup, coupon_lines), ""]
        lines += [f"[b]{cards_heading}[/b]", *map(escape_markup, card_lines)]
        return "\n".join(lines)

    def on_cards(self, _screen: object, cards: list[tuple[str, dict[str, str], int, str]]) -> None:
        """One 用一次 / Use one visit button per card that has visits left."""
        from kivy.factory import Factory

        box = self.ids.card_buttons
        box.clear_widgets()
        self.pending_card = ""
        for card_id, names, left, _until in cards:
            if left <= 0:
                continue
            button = Factory.CountCardUseButton()  # a KioskButton (member_account.kv)
            button.names, button.left = names, left
            button.bind(on_release=lambda _b, c=card_id: self.flow.use_count_card(c))
            box.add_widget(button)

    def card_buttons(self) -> list[Any]:
        """The use buttons, top first (the scripted shopper taps them)."""
        return list(reversed(self.ids.card_buttons.children))

    def clear(self) -> None:
        """Forget the member."""
        super().clear()
        self.member, self.history, self.coupons, self.cards, self.has_pin = None, [], [], [], False
        self.pending_card = ""


load_kv("member_account")
