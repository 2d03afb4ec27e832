"""Dashboard strings in zh-CN (default) and English."""

TEXT: dict[str, dict[str, str]] = {
    "title": {"zh": "会员收银 · 总部看板", "en": "Member Kiosk · Hub dashboard"},
    "today": {"zh": "今日", "en": "Today"},
    "sales_count": {"zh": "销售笔数", "en": "Sales"},
    "sales_total": {"zh": "销售总额", "en": "Revenue"},
    "items": {"zh": "售出件数", "en": "Items sold"},
    "recent": {"zh": "最近销售", "en": "Recent sales"},
    "receipt": {"zh": "小票号", "en": "Receipt"},
    "time": {"zh": "时间", "en": "Time"},
    "device": {"zh": "终端", "en": "Terminal"},
    "amount": {"zh": "金额", "en": "Amount"},
    "no_sales": {"zh": "今天还没有销售。", "en": "No sales yet today."},
    "quarantine": {"zh": "隔离消息", "en": "Quarantined messages"},
    "gaps": {"zh": "序号缺口", "en": "Sequence gaps"},
    "health": {"zh": "同步状态", "en": "Sync health"},
    "nav_dashboard": {"zh": "看板", "en": "Dashboard"},
    "nav_fleet": {"zh": "终端", "en": "Terminals"},
    "nav_quarantine": {"zh": "隔离区", "en": "Quarantine"},
    "nav_reconciliation": {"zh": "对账", "en": "Reconciliation"},
    "nav_members": {"zh": "会员", "en": "Members"},
    "nav_campaigns": {"zh": "营销活动", "en": "Campaigns"},
    "nav_rules": {"zh": "规则与等级", "en": "Rules & tiers"},
    "switch": {"zh": "English", "en": "中文"},
}


def t(key: str, lang: str) -> str:
    """The text for ``key`` in ``lang``; Chinese when the language is unknown."""
    entry = TEXT[key]
    return entry.get(lang, entry["zh"])
