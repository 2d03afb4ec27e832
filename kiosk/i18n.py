"""Kiosk strings in zh-CN (default) and English.

A small table rather than gettext catalogs for now: the screens bind to
``app.tr(key, app.lang)`` so switching language re-renders every label.
"""

TEXT: dict[str, dict[str, str]] = {
    "shop_name": {"zh": "邻里便利店", "en": "Neighbourhood Mart"},
    "start_hint": {
        "zh": "扫码或刷会员卡开始",
        "en": "Scan an item or tap your member card to start",
    },
    "switch_lang": {"zh": "English", "en": "中文"},
    "cart_title": {"zh": "购物车", "en": "Your cart"},
    "cart_empty": {"zh": "请扫描商品条码", "en": "Please scan an item"},
    "items": {"zh": "件", "en": "items"},
    "total": {"zh": "合计", "en": "Total"},
    "pay": {"zh": "去付款", "en": "Pay"},
    "cancel": {"zh": "取消订单", "en": "Cancel"},
    "pay_title": {"zh": "付款", "en": "Payment"},
    "pay_cash_hint": {
        "zh": "请将现金交给店员，店员确认后完成付款",
        "en": "Please hand the cash to the attendant, who will confirm it",
    },
    "confirm_cash": {"zh": "店员：确认已收现金", "en": "Attendant: cash received"},
    "back": {"zh": "返回", "en": "Back"},
    "done_title": {"zh": "谢谢惠顾！", "en": "Thank you!"},
    "receipt_no": {"zh": "小票号", "en": "Receipt no."},
    "paid": {"zh": "已付", "en": "Paid"},
    "new_sale": {"zh": "开始新订单", "en": "Start a new sale"},
    "demo_scan": {"zh": "演示：扫一件商品", "en": "Demo: scan an item"},
    "unknown_barcode": {
        "zh": "条码 {code} 未找到该商品，未加入购物车。请找店员帮助。",
        "en": "No product has barcode {code}; nothing was added. Please ask staff for help.",
    },
    "garbled_barcode": {
        "zh": "条码 {code} 读取有误（校验位不对），请重新扫描。",
        "en": "Barcode {code} was misread (bad check digit). Please scan again.",
    },
    "added": {"zh": "已加入：{name}", "en": "Added: {name}"},
    "sale_failed": {
        "zh": "保存订单失败：{reason}。订单未丢失，请找店员。",
        "en": "Could not save the sale: {reason}. Nothing was lost; please call staff.",
    },
}


def tr(key: str, lang: str, **values: object) -> str:
    """The text for ``key`` in ``lang`` with ``values`` filled in; Chinese by default."""
    entry = TEXT[key]
    return entry.get(lang, entry["zh"]).format(**values)
