"""What a quarantine reason means for the owner, and what to do about it (the hub catalog's words).

The reasons stored with a quarantined message are the technical text the hub
produced when it refused the message (kept as they are, for support). The
dashboard shows the owner the explanation from this table above that text. A
reason no pattern matches is shown with a generic explanation; nothing is hidden.
The sentences are the messages ``quarantine_{kind}`` and ``quarantine_{kind}_todo``
of the hub catalog (``hub/locale``), in zh-CN and English.
"""

import re
from dataclasses import dataclass

from hub.web import i18n
from hub.web.i18n import N_


@dataclass(frozen=True)
class Explanation:
    """One kind of quarantine reason: the message keys of what happened and of what to do."""

    kind: str
    what: str
    todo: str

    def text(self, lang: str) -> tuple[str, str]:
        """(what happened, what to do) in ``lang`` (zh unless ``en``)."""
        return i18n.t(self.what, lang), i18n.t(self.todo, lang)


_UPDATE_OR_SUPPORT = N_("quarantine_update_or_support")

# First match wins; the patterns match the texts that hub.ingest.batch, hub.members.ledger and
# kiosk.sync.schema produce.
_TABLE: tuple[tuple[re.Pattern[str], Explanation], ...] = tuple(
    (re.compile(pattern), explanation)
    for pattern, explanation in (
        (r"exceeds \d+", Explanation("oversized", N_("quarantine_oversized"), _UPDATE_OR_SUPPORT)),
        (
            "^not JSON|not a JSON object|not a list|^unknown schema version|not a version-1",
            Explanation("malformed", N_("quarantine_malformed"), _UPDATE_OR_SUPPORT),
        ),
        (
            "^unknown event type",
            Explanation("unknown_type", N_("quarantine_unknown_type"), N_("quarantine_unknown_type_todo")),
        ),
        (
            "hash does not match|differs from topic device",
            Explanation("tampered", N_("quarantine_tampered"), N_("quarantine_tampered_todo")),
        ),
        (
            "genesis hash|does not link|already used by another event|waiting for sequence",
            Explanation("chain", N_("quarantine_chain"), N_("quarantine_chain_todo")),
        ),
        (
            "receipt number .* already used",
            Explanation(
                "receipt_reused", N_("quarantine_receipt_reused"), N_("quarantine_receipt_reused_todo")
            ),
        ),
        (
            "conflicts with a booked sale",
            Explanation("sale_conflict", N_("quarantine_sale_conflict"), N_("quarantine_sale_conflict_todo")),
        ),
        (
            "unknown product",
            Explanation(
                "unknown_product", N_("quarantine_unknown_product"), N_("quarantine_unknown_product_todo")
            ),
        ),
        (
            "missing or not a|missing or has the wrong type|not positive",
            Explanation("incomplete", N_("quarantine_incomplete"), _UPDATE_OR_SUPPORT),
        ),
        (
            "(?i)member|coupon|points|stored value|balance",
            Explanation("loyalty_rule", N_("quarantine_loyalty_rule"), N_("quarantine_loyalty_rule_todo")),
        ),
    )
)

_OTHER = Explanation("other", N_("quarantine_other"), N_("quarantine_other_todo"))


def explain(reason: str) -> Explanation:
    """The explanation of a stored quarantine ``reason``."""
    for pattern, explanation in _TABLE:
        if pattern.search(reason):
            return explanation
    return _OTHER
