"""What a quarantine reason means for the owner, in zh-CN and English, and what to do about it.

The reasons stored with a quarantined message are the technical text the hub
produced when it refused the message (kept as they are, for support). The
dashboard shows the owner the explanation from this table above that text. A
reason no pattern matches is shown with a generic explanation; nothing is hidden.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Explanation:
    """One kind of quarantine reason: what happened and what to do, in both languages."""

    kind: str
    what: dict[str, str]
    todo: dict[str, str]

    def text(self, lang: str) -> tuple[str, str]:
        """(what happened, what to do) in ``lang`` (zh unless ``en``)."""
        key = "en" if lang == "en" else "zh"
        return self.what[key], self.todo[key]


def _e(kind: str, what_zh: str, what_en: str, todo_zh: str, todo_en: str) -> Explanation:
    return Explanation(kind, {"zh": what_zh, "en": what_en}, {"zh": todo_zh, "en": todo_en})


_UPDATE_OR_SUPPORT = (
    "请确认终端软件为最新版本；如仍出现，请联系技术支持。",
    "Make sure the terminal runs the latest software; if it keeps happening, contact support.",
)

# First match wins; the patterns match the texts that hub.ingest.batch, hub.members.ledger and
# kiosk.sync.schema produce.
_TABLE: tuple[tuple[re.Pattern[str], Explanation], ...] = tuple(
    (re.compile(pattern), explanation)
    for pattern, explanation in (
        (
            r"exceeds \d+",
            _e(
                "oversized",
                "消息过大，无法处理。",
                "The message is too large to process.",
                *_UPDATE_OR_SUPPORT,
            ),
        ),
        (
            r"^not JSON|not a JSON object|not a list|^unknown schema version|not a version-1",
            _e(
                "malformed",
                "消息格式错误，无法读取。",
                "The message is malformed and cannot be read.",
                *_UPDATE_OR_SUPPORT,
            ),
        ),
        (
            r"^unknown event type",
            _e(
                "unknown_type",
                "终端发送了集线器不认识的记录类型。",
                "The terminal sent a kind of record the hub does not know.",
                "请先升级集线器，再点“重新入账”。",
                "Update the hub first, then press Replay.",
            ),
        ),
        (
            r"hash does not match|differs from topic device",
            _e(
                "tampered",
                "记录内容与签名不符，可能被篡改或来自其他终端。",
                "The record does not match its checksum or came from another terminal's account.",
                "请检查该终端的凭据是否被复制；确认无误前不要重新入账。",
                "Check whether this terminal's credentials were copied; do not replay until you know.",
            ),
        ),
        (
            r"genesis hash|does not link|already used by another event|waiting for sequence",
            _e(
                "chain",
                "终端的记录顺序与集线器不一致（例如从旧备份恢复的SD卡）。",
                "The terminal's record sequence does not match the hub's"
                " (for example an SD card restored from an old backup).",
                "终端联网后会自动重新接续；之后点“重新入账”。",
                "The terminal re-links by itself once online; then press Replay.",
            ),
        ),
        (
            r"receipt number .* already used",
            _e(
                "receipt_reused",
                "小票号与另一笔交易重复，已加后缀入账。",
                "The receipt number was already used by another sale; the sale was booked with a suffix.",
                "无需处理；如顾客持此小票退货，请按后缀查找。",
                "Nothing to do; if a customer returns goods with this receipt, look it up with the suffix.",
            ),
        ),
        (
            r"conflicts with a booked sale",
            _e(
                "sale_conflict",
                "这笔交易与已入账的交易冲突。",
                "This sale conflicts with a sale already booked.",
                "请在报表中核对两笔交易，确认后点“重新入账”或联系技术支持。",
                "Compare both sales in the reports; then replay or contact support.",
            ),
        ),
        (
            r"unknown product",
            _e(
                "unknown_product",
                "交易中有集线器商品目录里没有的商品。",
                "The sale has an item the hub's catalog does not have.",
                "在商品目录中添加该商品，然后点“重新入账”。",
                "Add the item to the catalog, then press Replay.",
            ),
        ),
        (
            r"missing or not a|missing or has the wrong type|not positive",
            _e(
                "incomplete",
                "记录缺少必要信息。",
                "The record is missing required information.",
                *_UPDATE_OR_SUPPORT,
            ),
        ),
        (
            r"(?i)member|coupon|points|stored value|balance",
            _e(
                "loyalty_rule",
                "会员规则检查未通过（会员、积分、储值或优惠券）。",
                "A membership rule check failed (member, points, stored value or coupon).",
                "在会员页面核对该会员；修正规则或数据后点“重新入账”。",
                "Check the member on the Members page; fix the rule or data, then press Replay.",
            ),
        ),
    )
)

_OTHER = _e(
    "other",
    "集线器无法处理这条记录。",
    "The hub could not apply this record.",
    "查看下方技术原因；修正后点“重新入账”，或联系技术支持。",
    "See the technical reason below; fix it and press Replay, or contact support.",
)


def explain(reason: str) -> Explanation:
    """The explanation of a stored quarantine ``reason``."""
    for pattern, explanation in _TABLE:
        if pattern.search(reason):
            return explanation
    return _OTHER
