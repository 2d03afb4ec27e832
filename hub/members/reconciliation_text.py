"""What each reconciliation kind means for the owner, in zh-CN and English, and the unit of its numbers."""

from dataclasses import dataclass


@dataclass(frozen=True)
class KindText:
    """A reconciliation kind: its name, what to check, and whether its numbers are fen or points."""

    name: dict[str, str]
    check: dict[str, str]
    unit: str  # "fen", "points" or "" (no numbers)

    def text(self, lang: str) -> tuple[str, str]:
        """(name, what to check) in ``lang`` (zh unless ``en``)."""
        key = "en" if lang == "en" else "zh"
        return self.name[key], self.check[key]


def _k(unit: str, name_zh: str, name_en: str, check_zh: str, check_en: str) -> KindText:
    return KindText({"zh": name_zh, "en": name_en}, {"zh": check_zh, "en": check_en}, unit)


KINDS: dict[str, KindText] = {
    "earn_mismatch": _k(
        "points",
        "积分与规则不符",
        "Points differ from the rules",
        "核对终端的积分规则版本；需要时手工调整积分。",
        "Check the terminal's rules version; adjust points if needed.",
    ),
    "redeem_mismatch": _k(
        "fen",
        "积分抵现金额不符",
        "Points paid a different amount",
        "核对终端的抵现规则；与顾客无关时记录原因即可。",
        "Check the terminal's redeem rule; note the cause.",
    ),
    "coupon_terms": _k(
        "fen",
        "优惠券不满足使用条件",
        "Coupon used outside its terms",
        "有效期、归属会员或使用门槛不符：查看终端上的券和时钟。",
        "Window, owner or minimum spend did not hold: check the terminal's coupon copy and clock.",
    ),
    "coupon_stacking": _k(
        "fen",
        "优惠券违规叠加",
        "Coupons combined against the rules",
        "同一单使用了不可同用的券：核对终端软件版本。",
        "Coupons that may not be combined were: check the terminal's software.",
    ),
    "coupon_amount": _k(
        "fen",
        "优惠金额不符",
        "Coupon took off a different amount",
        "核对券面条款与终端的计算。",
        "Compare the coupon's terms with what the terminal computed.",
    ),
    "coupon_double_use": _k(
        "",
        "优惠券重复使用",
        "Coupon used twice",
        "同一张券在两台终端离线使用：联系会员或记为损耗。",
        "One coupon used offline at two terminals: contact the member or write it off.",
    ),
    "negative_balance": _k(
        "points",
        "余额为负",
        "Negative balance",
        "通常是离线在两台终端重复消费：联系会员补足或调整。",
        "Usually spent offline at two terminals: ask the member to settle, or adjust.",
    ),
    "ledger_chain": _k(
        "",
        "流水校验失败",
        "Ledger chain broken",
        "流水被修改或缺失：检查该终端，必要时联系技术支持。",
        "An entry was edited or is missing: check the terminal; contact support if needed.",
    ),
    "ledger_replay": _k(
        "",
        "流水重复上传",
        "Ledger entry sent again",
        "重复的流水未入账；终端从备份恢复时会出现。",
        "The repeat was not booked; happens after a restore.",
    ),
    "card_conflict": _k(
        "",
        "会员卡冲突",
        "Card held by another member",
        "同一张卡被两位会员绑定：确认持卡人后重新绑定。",
        "Two members linked one card: confirm the holder, link again.",
    ),
    "tier_mismatch": _k(
        "",
        "会员等级不符",
        "Tier differs",
        "终端升级了会员而总部不认可：核对等级规则。",
        "The terminal upgraded the member, the hub did not: check tier rules.",
    ),
    "rules_unknown": _k(
        "",
        "积分规则版本未知",
        "Unknown rules version",
        "终端按总部没有的规则版本计分，积分未核对：核对终端配置后手工核对。",
        "Priced under a rules version the hub lacks; points unchecked: check the terminal's config.",
    ),
}

UNKNOWN = _k("", "其他差异", "Other difference", "查看说明。", "See the detail.")


def kind_text(kind: str) -> KindText:
    """The text for ``kind``; a generic one for a kind this table does not know yet."""
    return KINDS.get(kind, UNKNOWN)
