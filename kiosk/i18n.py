"""Kiosk strings in zh-CN (default) and English.

A small table rather than gettext catalogs for now: the screens bind to
``app.tr(key, app.lang)`` so switching language re-renders every label.
"""

from collections.abc import Callable

from kiosk.i18n_members import MEMBER_TEXT
from kiosk.i18n_refund import REFUND_TEXT
from kiosk.i18n_staff import STAFF_TEXT

NBSP = "\u00a0"

#: Chinese punctuation a line may end with but never start with (避头点).
CLOSING_PUNCTUATION = "，。、；：！？）》”’"

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
    "items_one": {"zh": "件", "en": "item"},
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
    # --- cart ---
    "subtotal": {"zh": "小计", "en": "Subtotal"},
    "discounts": {"zh": "优惠", "en": "Discounts"},
    "points_to_earn": {"zh": "本单可得 {points} 积分", "en": "You earn {points} points"},
    "pick_items": {"zh": "无条码商品", "en": "Items without barcode"},
    "pick_title": {"zh": "请选择无条码商品", "en": "Choose an item without a barcode"},
    "staff": {"zh": "店员", "en": "Staff"},
    "large_text": {"zh": "大字", "en": "Large text"},
    "normal_text": {"zh": "标准字", "en": "Normal text"},
    "voice_on": {"zh": "语音：开", "en": "Voice: on"},
    "voice_off": {"zh": "语音：关", "en": "Voice: off"},
    "remove": {"zh": "删除", "en": "Remove"},
    "each": {"zh": "单价", "en": "each"},
    "payment_code_on_cart": {
        "zh": "这是付款码。请先点“去付款”，再出示付款码。",
        "en": "That was a payment code. Tap Pay first, then show your payment code.",
    },
    "not_a_product": {
        "zh": "扫到的不是商品条码，未加入购物车。请扫描商品上的条码。",
        "en": "That was not a product barcode; nothing was added. Please scan the barcode on the item.",
    },
    "scale_label_unknown": {
        "zh": "称重标签 {code} 的商品编号 {item} 不在商品库中，未加入。请找店员重新称重。",
        "en": (
            "Scale label {code}: item {item} is not in the catalog; "
            "nothing was added. Ask staff to weigh it again."
        ),
    },
    "scale_label_bad": {
        "zh": "称重标签 {code} 读取有误，请重新扫描；仍不行请找店员。",
        "en": "Scale label {code} was misread. Please scan again, or ask staff.",
    },
    "inactive_product": {
        "zh": "{name} 暂停销售（缺货或下架），未加入。请找店员帮助。",
        "en": (
            "{name} is not on sale right now (out of stock or "
            "withdrawn); nothing was added. Please ask staff."
        ),
    },
    "removed": {"zh": "已删除：{name}", "en": "Removed: {name}"},
    "quantity_limit": {
        "zh": "每种商品最多 {max} 件，数量未改变。",
        "en": "At most {max} of one item; the quantity was not changed.",
    },
    "cart_empty_hint": {
        "zh": "购物车是空的。请扫描商品条码，或点“无条码商品”。",
        "en": "Your cart is empty. Scan an item, or tap Items without barcode.",
    },
    "member_line": {
        "zh": "{name} {phone} · {tier} · {points} 积分 · 储值 {balance}",
        "en": "{name} {phone} · {tier} · {points} pts · balance {balance}",
    },
    "member_next_tier": {
        "zh": "再得 {points} 积分升级{tier}",
        "en": "{points} more points to {tier}",
    },
    "member_coupons": {"zh": "可用券：{coupons}", "en": "Coupons: {coupons}"},
    "member_hint": {
        "zh": "刷会员卡或出示会员码，可享会员优惠",
        "en": "Tap your member card or show your member QR for offers",
    },
    "member_unknown": {
        "zh": "这张卡还不是会员卡，未识别到会员。可找店员办理会员。",
        "en": "This card is not a member card yet. Ask staff to sign you up.",
    },
    "member_welcome": {"zh": "会员已识别：{name}", "en": "Member recognised: {name}"},
    "member_locked": {
        "zh": "付款进行中，不能更换会员。付款完成后再刷卡。",
        "en": "Payment is in progress, so the member cannot change now. Tap again after paying.",
    },
    # --- attendant ---
    "age_check_title": {"zh": "需要店员核验年龄", "en": "Age check by staff"},
    "age_check_body": {
        "zh": "{name} 仅限18岁以上购买。请稍候，店员核验证件后输入工号密码。",
        "en": "{name} is for adults (18+) only. Please wait: staff will check your ID and enter their PIN.",
    },
    "remove_check_title": {"zh": "删除商品需店员确认", "en": "Staff must approve removal"},
    "remove_check_body": {
        "zh": "要删除 {name}，请店员输入密码确认。",
        "en": "To remove {name}, a member of staff must enter their PIN.",
    },
    "staff_check_title": {"zh": "店员模式", "en": "Staff mode"},
    "staff_check_body": {"zh": "请店员输入密码。", "en": "Staff: please enter your PIN."},
    "pin_wrong": {
        "zh": "密码错误，请重新输入。",
        "en": "Wrong PIN. Please try again.",
    },
    "pin_cancelled": {"zh": "已取消，{name} 未加入购物车。", "en": "Cancelled: {name} was not added."},
    "pin_cancel": {"zh": "取消", "en": "Cancel"},
    "approve": {"zh": "确认", "en": "Approve"},
    "clear": {"zh": "清除", "en": "Clear"},
    "close": {"zh": "关闭", "en": "Close"},
    "staff_menu_title": {"zh": "店员操作", "en": "Staff actions"},
    "override_price": {"zh": "改价：{name}", "en": "Change price: {name}"},
    "void_line": {"zh": "删除：{name}", "en": "Void line: {name}"},
    "void_sale": {"zh": "作废整单", "en": "Void the whole sale"},
    "open_drawer": {"zh": "打开钱箱", "en": "Open cash drawer"},
    "reprint": {"zh": "补打小票", "en": "Reprint a receipt"},
    "reprint_title": {"zh": "补打小票：选择一张", "en": "Reprint: choose a receipt"},
    "reprint_none": {"zh": "还没有可补打的小票。", "en": "No receipts to reprint yet."},
    "reprint_row": {"zh": "{receipt_no}  {total}  {time}", "en": "{receipt_no}  {total}  {time}"},
    "reprint_row_failed": {
        "zh": "{receipt_no}  {total}  {time}\n未打印出来",
        "en": "{receipt_no}  {total}  {time}\ndid not print",
    },
    "reprint_queued": {"zh": "小票 {receipt_no} 正在补打。", "en": "Reprinting receipt {receipt_no}."},
    "new_price_title": {"zh": "新单价（元）：{name}", "en": "New unit price (yuan): {name}"},
    "price_changed": {
        "zh": "店员已将 {name} 改价为 {price}。",
        "en": "Staff changed the price of {name} to {price}.",
    },
    "sale_voided": {"zh": "店员已作废本单，未收款。", "en": "Staff voided the sale; nothing was charged."},
    "void_blocked": {
        "zh": "已收款 {paid}，不能作废。请先完成付款，再在收银台办理退款。",
        "en": "{paid} already paid, so the sale cannot be voided. Finish paying, then refund at the counter.",
    },
    "age_approved": {"zh": "店员已核验年龄：{name} 已加入。", "en": "Age checked by staff: {name} added."},
    "drawer_opened": {"zh": "钱箱已打开。", "en": "Cash drawer opened."},
    # --- pay ---
    "remaining": {"zh": "还需支付", "en": "Left to pay"},
    "paid_so_far": {"zh": "已付 {paid}", "en": "Paid {paid}"},
    "pay_mobile_hint": {
        "zh": "微信/支付宝：请打开付款码，对准扫码器",
        "en": "WeChat Pay / Alipay: open your payment code and hold it to the scanner",
    },
    "pay_cash": {"zh": "现金支付 {amount}", "en": "Pay {amount} in cash"},
    "pay_cash_part": {"zh": "现金 {amount}", "en": "Cash {amount}"},
    "cash_approve_title": {"zh": "店员确认收到现金", "en": "Staff: confirm cash received"},
    "cash_approve_body": {
        "zh": "请将 {amount} 现金交给店员；店员收款后输入密码，钱箱会打开。",
        "en": "Please hand {amount} in cash to staff; they enter their PIN and the drawer opens.",
    },
    "member_pay_stored": {"zh": "储值支付", "en": "Stored value"},
    "member_stored_balance": {"zh": "余额 {amount}", "en": "Balance {amount}"},
    "stored_value_none": {"zh": "没有可用余额", "en": "No balance left"},
    "member_pay_points": {"zh": "积分抵扣 {points} 分", "en": "Points: {points}"},
    "member_points_worth": {"zh": "用 {points} 分抵 {amount}", "en": "{points} points pay {amount}"},
    "member_points_capped": {
        "zh": "用 {points} 分抵 {amount}（最多抵 {percent}%）",
        "en": "{points} points pay {amount} (at most {percent}%)",
    },
    "points_none": {"zh": "没有积分", "en": "No points"},
    "points_not_taken": {"zh": "本店积分不能抵现", "en": "This shop does not take points"},
    "points_too_few": {"zh": "满 {least} 分才能抵扣", "en": "{least} points needed to pay"},
    "points_share_used": {
        "zh": "本单积分已抵至上限 {percent}%",
        "en": "Points already pay the most ({percent}%)",
    },
    "points_sale_too_small": {"zh": "本单金额太小，不能积分抵扣", "en": "Too little to pay with points"},
    "member_pay_sign_in": {"zh": "请先刷会员卡", "en": "Tap your member card first"},
    "override_for_stored_value": {"zh": "储值支付超出离线限额", "en": "Stored value above the offline limit"},
    "override_for_points": {"zh": "积分抵扣超出离线限额", "en": "Points above the offline limit"},
    "member_paid_stored": {"zh": "储值支付 {amount}。", "en": "Paid {amount} from stored value."},
    "member_paid_points": {
        "zh": "积分抵扣 {amount}（用 {points} 积分）。",
        "en": "Paid {amount} with {points} points.",
    },
    "coupon_on": {"zh": "已用 −{off}，点此留待下次", "en": "Used −{off} · tap to keep it"},
    "coupon_off": {"zh": "留待下次，点此使用", "en": "Kept for later · tap to use"},
    "coupon_on_locked": {"zh": "已用 −{off}", "en": "Used −{off}"},
    "coupon_off_locked": {"zh": "留待下次", "en": "Kept for later"},
    "coupon_not_here": {"zh": "本单不满足使用条件", "en": "Not for this cart"},
    "coupon_not_with": {"zh": "不能与已选券同时使用", "en": "Does not combine with the chosen one"},
    "coupon_kept": {
        "zh": "{name} 留待下次使用，本单应付 {total}。",
        "en": "{name} kept for later; this sale is {total}.",
    },
    "coupon_used": {"zh": "已使用 {name}，本单应付 {total}。", "en": "{name} applied; this sale is {total}."},
    "member_pay_no_member": {
        "zh": "请先刷会员卡或出示会员码，再用储值或积分支付。",
        "en": "Tap your member card or show your member QR first, then pay with balance or points.",
    },
    "member_pay_nothing": {
        "zh": "会员账户没有可用的储值或积分。请换一种付款方式。",
        "en": "No stored value or usable points on this member account. Please choose another method.",
    },
    "member_pay_over_cap": {
        "zh": "本机未连上总部，储值/积分支付超出离线限额。请店员点“店员授权”，或换一种付款方式。",
        "en": "This terminal cannot reach the hub and the balance/points payment is above the offline limit. "
        "Staff can tap Staff override, or choose another method.",
    },
    "clock": {"zh": "上下班打卡", "en": "Clock in/out"},
    "clock_title": {"zh": "上下班打卡", "en": "Clock in / out"},
    "clock_body": {
        "zh": "输入店员密码：未上班则上班打卡，已上班则下班打卡。也可以在读卡区刷员工卡。",
        "en": "Enter your staff PIN: it clocks you in, or out if you are on shift. "
        "You can also tap your staff badge on the card reader.",
    },
    "clocked_in": {"zh": "{name} 已上班 {time}", "en": "{name} clocked in at {time}"},
    "clocked_out": {"zh": "{name} 已下班 {time}", "en": "{name} clocked out at {time}"},
    "top_up": {"zh": "会员充值", "en": "Top up"},
    "top_up_title": {"zh": "会员充值：选择金额", "en": "Top up: choose the amount"},
    "top_up_member": {
        "zh": "会员 {name}（{phone}），储值余额 {balance}",
        "en": "Member {name} ({phone}), stored value {balance}",
    },
    "top_up_tier": {"zh": "充{amount} 送{bonus}", "en": "Top up {amount}, get {bonus} free"},
    "top_up_plain": {"zh": "充{amount}", "en": "Top up {amount}"},
    "top_up_other": {"zh": "其他金额", "en": "Other amount"},
    "top_up_back": {"zh": "换个金额", "en": "Another amount"},
    "top_up_amount_title": {"zh": "输入充值金额", "en": "Type the top-up amount"},
    "top_up_confirm_title": {"zh": "会员充值：确认收款", "en": "Top up: confirm the cash"},
    "top_up_confirm_body": {
        "zh": "收取现金 {amount}，赠送 {bonus}，会员储值增加 {total}。\n收到现金后点确认，钱箱会打开。",
        "en": "Take {amount} in cash; {bonus} bonus; the member's stored value goes up by {total}. "
        "Confirm once the cash is in hand: the drawer opens.",
    },
    "top_up_cash_received": {"zh": "已收现金 {amount}，确认充值", "en": "Cash {amount} received: top up"},
    "topped_up": {
        "zh": "充值成功：{amount}，赠送 {bonus}。储值余额 {balance}。",
        "en": "Topped up {amount} with {bonus} bonus. Stored value now {balance}.",
    },
    "top_up_no_member": {
        "zh": "请先刷会员卡或出示会员码，再充值。",
        "en": "Tap the member card or show the member QR first, then top up.",
    },
    "top_up_invalid": {
        "zh": "充值金额必须大于 0，未收款、未充值。",
        "en": "The top-up amount must be above zero: nothing was taken or stored.",
    },
    "override_cap_button": {"zh": "店员授权", "en": "Staff override"},
    "override_cap_title": {"zh": "店员授权：超出离线限额", "en": "Staff override: above the offline limit"},
    "override_cap_body": {
        "zh": "会员储值 {amount}、积分 {points} 分超出本机离线限额。"
        "确认会员身份后输入店员密码授权，授权会记录在案。",
        "en": "Stored value {amount} and {points} points are above this terminal's offline limit. "
        "Check the member, then enter the staff PIN to approve; the approval is recorded.",
    },
    "paying_mobile": {
        "zh": "正在向{wallet}请求付款 {amount}，请稍候…",
        "en": "Asking {wallet} for {amount}, please wait…",
    },
    "wechat": {"zh": "微信支付", "en": "WeChat Pay"},
    "alipay": {"zh": "支付宝", "en": "Alipay"},
    "mobile_approved": {"zh": "{wallet}已付 {amount}。", "en": "{wallet} paid {amount}."},
    "mobile_declined": {
        "zh": "{wallet}付款未成功（{reason}），未扣款。请换一种付款方式或刷新付款码再试。",
        "en": "{wallet} did not pay ({reason}); nothing was taken. Try another method or refresh the code.",
    },
    "mobile_timeout": {
        "zh": "{wallet}长时间无响应，已撤销，未扣款。请再扫一次付款码，或改用现金。",
        "en": (
            "{wallet} did not answer in time; the payment was cancelled "
            "and nothing was taken. Scan again or pay cash."
        ),
    },
    "mobile_error": {
        "zh": "连接不上支付平台，未扣款。请改用现金，或请店员检查网络。",
        "en": (
            "Could not reach the payment service; nothing was taken. Pay "
            "cash, or ask staff to check the network."
        ),
    },
    "payment_busy": {
        "zh": "上一笔付款还在处理中，请稍候。",
        "en": "The last payment is still being processed; please wait.",
    },
    "cash_received": {
        "zh": "已收现金 {amount}，钱箱已打开。",
        "en": "Cash {amount} received; the drawer is open.",
    },
    "back_blocked": {
        "zh": "已付 {paid}，请先付完余款。",
        "en": "{paid} is already paid; please pay the rest.",
    },
    # --- receipt / done ---
    "receipt_title": {"zh": "需要小票吗？", "en": "Would you like a receipt?"},
    "receipt_print": {"zh": "打印小票", "en": "Print receipt"},
    "receipt_qr": {"zh": "电子小票（扫码）", "en": "E-receipt (QR)"},
    "receipt_skip": {"zh": "不要小票", "en": "No receipt"},
    "receipt_qr_hint": {
        "zh": "用手机扫码查看电子小票",
        "en": "Scan with your phone to open the e-receipt",
    },
    "receipt_printing": {"zh": "小票打印中，请取走小票。", "en": "Printing your receipt; please take it."},
    "printer_problem": {
        "zh": "{problem}本单已完成，请找店员。",
        "en": "{problem} Your sale is complete; please ask staff.",
    },
    "points_earned": {
        "zh": "本单获得 {points} 积分，现有 {balance} 积分",
        "en": "You earned {points} points; you now have {balance}",
    },
    "greeting_guest": {"zh": "欢迎下次光临！", "en": "See you again soon!"},
    "done_done": {"zh": "完成", "en": "Done"},
    # --- idle / timeout ---
    "still_there_title": {"zh": "您还在吗？", "en": "Are you still there?"},
    "still_there_body": {
        "zh": "{seconds} 秒后将清空本单并返回首页。",
        "en": "In {seconds} s this sale will be cleared and the screen will reset.",
    },
    "still_here": {"zh": "我还在，继续购物", "en": "I'm still here"},
    "promo_1": {"zh": "会员日：每周三全场积分翻倍", "en": "Member day: double points every Wednesday"},
    "promo_2": {"zh": "新鲜面包每天早上7点出炉", "en": "Fresh bread from 7 am every day"},
    "promo_3": {"zh": "满30元减5元，会员专享", "en": "¥5 off ¥30 or more, members only"},
    "added": {"zh": "已加入：{name}", "en": "Added: {name}"},
    "sale_failed": {
        "zh": "保存订单失败：{reason}。订单未丢失，请找店员。",
        "en": "Could not save the sale: {reason}. Nothing was lost; please call staff.",
    },
}


class Key(str):
    """A value that is itself a string-table key (a wallet's name): translated when shown."""


def localise(values: dict[str, object], lang: str) -> dict[str, object]:
    """``values`` for ``lang``: a per-language dict becomes its ``lang`` text, a :class:`Key` its text."""
    shown: dict[str, object] = {}
    for name, value in values.items():
        if isinstance(value, dict):
            value = value.get(lang) or value.get("zh", "")
        elif isinstance(value, Key):
            value = tr(value, lang)
        shown[name] = value
    return shown


def fold(text: str, fits: Callable[[str], bool]) -> str:
    """Chinese ``text`` broken into lines that ``fits`` accepts; a closing mark never starts a line.

    Kivy wraps only at spaces, and Chinese has none (its spaces are no-break ones here), so
    Kivy cuts a long sentence wherever the line is full and a "。" or "，" can start the next
    line. Here the line breaks one character earlier instead, taking that character along
    with the mark (避头点). ``fits`` measures a line in the label's font.
    """
    return "\n".join(line for paragraph in text.split("\n") for line in _fold_paragraph(paragraph, fits))


ORPHAN = 2  # a last line this short (a lone "器" or "重。") is folded again with even lines


def _fold_paragraph(paragraph: str, fits: Callable[[str], bool]) -> list[str]:
    lines = _greedy(paragraph, fits)
    if len(lines) < 2 or len(lines[-1]) > ORPHAN:
        return lines
    # the same number of lines, each about as long: 商品编号不在商 / 品库中。请找店 / 员重新称重。
    # rather than 商品编号不在商品库 / 中。请找店员重新称 / 重。
    per_line = -(-len(paragraph) // len(lines))
    even = _greedy(paragraph, lambda line: len(line) <= per_line and fits(line))
    return even if len(even) == len(lines) else lines


def _greedy(paragraph: str, fits: Callable[[str], bool]) -> list[str]:
    lines = []
    line = ""
    for char in paragraph:
        if not line or fits(line + char):
            line += char
        elif char in CLOSING_PUNCTUATION and len(line) > 1:
            lines.append(line[:-1])
            line = line[-1] + char
        else:
            lines.append(line)
            line = char
    lines.append(line)
    return lines


def tr(key: str, lang: str, **values: object) -> str:
    """The text for ``key`` in ``lang`` with ``values`` filled in; Chinese by default."""
    entry = TEXT[key]
    text = entry.get(lang, entry["zh"]).format(**values)
    # Kivy wraps only at spaces: in Chinese a space inside a sentence (around a product name
    # or an amount) would break the line there, so Chinese keeps its spaces unbreakable.
    return text.replace(" ", NBSP) if lang != "en" else text


def _add_member_text() -> None:
    """The member screens' strings live in :mod:`kiosk.i18n_members`; one table serves both."""

    clash = TEXT.keys() & MEMBER_TEXT.keys()
    if clash:
        raise RuntimeError(f"string keys defined twice: {sorted(clash)}")
    TEXT.update(MEMBER_TEXT)


_add_member_text()


def _add_refund_text() -> None:
    """The refund flow's strings live in :mod:`kiosk.i18n_refund`."""

    clash = TEXT.keys() & REFUND_TEXT.keys()
    if clash:
        raise RuntimeError(f"string keys defined twice: {sorted(clash)}")
    TEXT.update(REFUND_TEXT)


_add_refund_text()


def _add_staff_text() -> None:
    """Staff sign-in, roles and lockout strings live in :mod:`kiosk.i18n_staff`."""

    clash = TEXT.keys() & STAFF_TEXT.keys()
    if clash:
        raise RuntimeError(f"string keys defined twice: {sorted(clash)}")
    TEXT.update(STAFF_TEXT)


_add_staff_text()
