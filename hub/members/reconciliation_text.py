"""What each reconciliation kind means for the owner, and the unit of its numbers.

The name and what to check are the messages ``recon_{kind}`` and
``recon_{kind}_check`` of the hub catalog (``hub/locale``), in zh-CN and English.
"""

from dataclasses import dataclass

from hub.web import i18n
from hub.web.i18n import N_


@dataclass(frozen=True)
class KindText:
    """A reconciliation kind: the message keys of its name and of what to check, and its unit."""

    name: str
    check: str
    unit: str  # "fen", "points" or "" (no numbers)

    def text(self, lang: str) -> tuple[str, str]:
        """(name, what to check) in ``lang`` (zh unless ``en``)."""
        return i18n.t(self.name, lang), i18n.t(self.check, lang)


KINDS: dict[str, KindText] = {
    "earn_mismatch": KindText(N_("recon_earn_mismatch"), N_("recon_earn_mismatch_check"), "points"),
    "redeem_mismatch": KindText(N_("recon_redeem_mismatch"), N_("recon_redeem_mismatch_check"), "fen"),
    "coupon_terms": KindText(N_("recon_coupon_terms"), N_("recon_coupon_terms_check"), "fen"),
    "coupon_stacking": KindText(N_("recon_coupon_stacking"), N_("recon_coupon_stacking_check"), "fen"),
    "coupon_amount": KindText(N_("recon_coupon_amount"), N_("recon_coupon_amount_check"), "fen"),
    "coupon_double_use": KindText(N_("recon_coupon_double_use"), N_("recon_coupon_double_use_check"), ""),
    "negative_balance": KindText(N_("recon_negative_balance"), N_("recon_negative_balance_check"), "points"),
    "ledger_chain": KindText(N_("recon_ledger_chain"), N_("recon_ledger_chain_check"), ""),
    "ledger_replay": KindText(N_("recon_ledger_replay"), N_("recon_ledger_replay_check"), ""),
    "card_conflict": KindText(N_("recon_card_conflict"), N_("recon_card_conflict_check"), ""),
    "tier_mismatch": KindText(N_("recon_tier_mismatch"), N_("recon_tier_mismatch_check"), ""),
    "reward_mismatch": KindText(N_("recon_reward_mismatch"), N_("recon_reward_mismatch_check"), "points"),
    "rules_unknown": KindText(N_("recon_rules_unknown"), N_("recon_rules_unknown_check"), ""),
    "price_mismatch": KindText(N_("recon_price_mismatch"), N_("recon_price_mismatch_check"), "fen"),
    "flash_window": KindText(N_("recon_flash_window"), N_("recon_flash_window_check"), "fen"),
}

UNKNOWN = KindText(N_("recon_other"), N_("recon_other_check"), "")


def kind_text(kind: str) -> KindText:
    """The text for ``kind``; a generic one for a kind this table does not know yet."""
    return KINDS.get(kind, UNKNOWN)
