"""Payment methods as people read them, for receipts on paper and on the hub."""

PAYMENT_METHOD_NAMES: dict[str, dict[str, str]] = {
    "cash": {"zh": "现金", "en": "Cash"},
    "wechat": {"zh": "微信支付", "en": "WeChat Pay"},
    "alipay": {"zh": "支付宝", "en": "Alipay"},
    "mobile": {"zh": "移动支付", "en": "Mobile payment"},
    "stored_value": {"zh": "会员储值", "en": "Stored value"},
    "points": {"zh": "积分抵扣", "en": "Points"},
}


def payment_method_name(method: str, lang: str) -> str:
    """``method``'s name in ``lang`` ("zh" or "en"); an unknown method shows as its code."""
    return PAYMENT_METHOD_NAMES.get(method, {}).get(lang, method)
