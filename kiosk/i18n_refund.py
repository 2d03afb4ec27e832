"""Strings of the attendant's refund (退货退款), zh-CN and English; :mod:`kiosk.i18n` merges them."""

REFUND_TEXT: dict[str, dict[str, str]] = {
    "refund": {"zh": "退货退款", "en": "Refund"},
    "refund_pin_title": {"zh": "退货退款", "en": "Refund"},
    "refund_pin_body": {
        "zh": "退款会把钱退给顾客。请办理退款的店员输入密码。",
        "en": "A refund pays money back. The attendant doing it: please enter your PIN.",
    },
    "refund_title": {"zh": "退货退款", "en": "Refund"},
    "refund_pick_sale": {
        "zh": "选择要退的小票，或扫描小票上的二维码。",
        "en": "Choose the receipt, or scan the QR code on it.",
    },
    "refund_sale_row": {"zh": "{receipt_no}  {total}  {time}", "en": "{receipt_no}  {total}  {time}"},
    "refund_no_sales": {"zh": "这台终端还没有交易。", "en": "No sales on this terminal yet."},
    "refund_no_such_receipt": {
        "zh": "找不到小票 {code}。请核对小票号，只能退本终端的交易。",
        "en": "Receipt {code} was not found. Check the number: only this terminal's sales can be refunded.",
    },
    "refund_sale_heading": {
        "zh": "小票 {receipt_no}  实付 {total}  已退 {refunded}",
        "en": "Receipt {receipt_no}  paid {total}  refunded {refunded}",
    },
    "refund_line": {"zh": "{name}\n已售 {sold} · 可退 {left}", "en": "{name}\nsold {sold} · left {left}"},
    "refund_choose_items": {
        "zh": "用 + 选择要退的商品和数量。",
        "en": "Tap + to choose the items and quantities.",
    },
    "refund_amount": {"zh": "退款 {amount}", "en": "Refund {amount}"},
    "refund_to": {"zh": "退回{method} {amount}", "en": "{amount} back to {method}"},
    "refund_confirm": {"zh": "确认退款", "en": "Confirm refund"},
    "refund_back": {"zh": "返回", "en": "Back"},
    "refund_cancel": {"zh": "取消", "en": "Cancel"},
    "refund_working": {"zh": "正在向支付平台退款，请稍候…", "en": "Refunding through the payment gateway…"},
    "refund_done": {
        "zh": "已退款 {amount}。{cash}退款单正在打印。",
        "en": "Refunded {amount}. {cash}The refund slip is printing.",
    },
    "refund_cash_out": {
        "zh": "请从钱箱取出现金 {cash} 交给顾客。",
        "en": "Hand {cash} cash from the drawer. ",
    },
    "refund_gateway_declined": {
        "zh": "支付平台拒绝退款（{reason}），未退任何款项。请核对后重试，或改用其他方式处理。",
        "en": "The payment gateway refused the refund ({reason}); nothing was refunded. Check and try "
        "again, or settle it another way.",
    },
    "refund_gateway_missing": {
        "zh": "这笔交易有移动支付，但本终端没有连接支付平台，无法退款。请联系店长。",
        "en": "This sale was paid by mobile, but this terminal has no payment gateway, so it cannot "
        "refund it. Please call the manager.",
    },
    "refund_refused": {"zh": "{zh}", "en": "{en}"},
}
