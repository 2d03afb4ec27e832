"""Strings of the member screens (join, phone + PIN sign-in, My account), zh-CN and English.

Kept apart from :mod:`kiosk.i18n` so the checkout's table and this one change
independently; :mod:`kiosk.i18n` merges them into one table.
"""

MEMBER_TEXT: dict[str, dict[str, str]] = {
    "m_join": {"zh": "注册会员", "en": "Join"},
    "m_sign_in": {"zh": "手机号登录", "en": "Phone sign-in"},
    "m_account": {"zh": "我的账户", "en": "My account"},
    "m_join_title": {"zh": "注册会员", "en": "Become a member"},
    "m_sign_in_title": {"zh": "会员登录", "en": "Member sign-in"},
    "m_phone_prompt": {"zh": "请输入手机号", "en": "Enter your phone number"},
    "m_phone_hint": {
        "zh": "请输入11位中国大陆手机号。其他地区的号码请找店员办理。",
        "en": "An 11-digit mainland China mobile number. For other regions, please ask staff.",
    },
    "m_next": {"zh": "下一步", "en": "Next"},
    "m_back": {"zh": "返回", "en": "Back"},
    "m_delete": {"zh": "删除", "en": "Delete"},
    "m_phone_bad": {
        "zh": "“{phone}”不是有效的手机号，请检查后重新输入。",
        "en": "“{phone}” is not a valid phone number; please check it and try again.",
    },
    "m_phone_known": {
        "zh": "该手机号已是会员，请输入会员密码登录。",
        "en": "This phone is already a member: enter your PIN to sign in.",
    },
    "m_phone_known_no_pin": {
        "zh": "该手机号已是会员，但尚未设置密码。请刷会员卡或出示会员码登录。",
        "en": "This phone is already a member but has no PIN. Tap your card or show your member QR.",
    },
    "m_consent_title": {"zh": "隐私说明：我们保存什么、为什么", "en": "Privacy: what we store and why"},
    "m_consent_version": {"zh": "说明版本 {version}", "en": "Notice version {version}"},
    "m_agree": {"zh": "同意并继续", "en": "I agree, continue"},
    "m_decline": {"zh": "不同意", "en": "I do not agree"},
    "m_declined": {
        "zh": "您未同意隐私说明，未注册，没有保存任何资料。",
        "en": "You did not agree, so you were not registered and nothing was stored.",
    },
    "m_name_title": {
        "zh": "怎么称呼您？请选择您的姓（可跳过）",
        "en": "What should we call you? Pick your surname, or Other (optional)",
    },
    "m_name_hint": {
        "zh": "请输入称呼（字母），例如：Lee",
        "en": "Type a name (Latin letters), for example: Lee",
    },
    "m_name_typed_title": {"zh": "怎么称呼您？（可不填）", "en": "What should we call you? (optional)"},
    "m_surname_page": {"zh": "第 {page}/{pages} 页", "en": "Page {page}/{pages}"},
    "m_other_name": {"zh": "其他", "en": "Other"},
    "m_prev_page": {"zh": "上一页", "en": "Previous"},
    "m_next_page": {"zh": "下一页", "en": "More"},
    "m_title_prompt": {"zh": "{surname}……先生还是女士？", "en": "{surname}: Mr or Ms?"},
    "m_title_mr": {"zh": "{surname}先生", "en": "{surname}先生\nMr"},
    "m_title_ms": {"zh": "{surname}女士", "en": "{surname}女士\nMs"},
    "m_title_none": {"zh": "不说\n（只称{surname}）", "en": "Don't say\n(just {surname})"},
    "m_skip": {"zh": "跳过", "en": "Skip"},
    "m_name_too_long": {"zh": "称呼最多 20 个字。", "en": "A name has at most 20 characters."},
    "m_pin_choose": {"zh": "请设置 4–6 位会员密码", "en": "Choose a 4–6 digit PIN"},
    "m_pin_repeat": {"zh": "请再输入一次密码", "en": "Enter the PIN again"},
    "m_pin_enter": {"zh": "请输入会员密码", "en": "Enter your PIN"},
    "m_pin_old": {"zh": "请输入原密码", "en": "Enter your current PIN"},
    "m_pin_new": {"zh": "请输入新密码（4–6 位）", "en": "Enter a new PIN (4–6 digits)"},
    "m_pin_new_repeat": {"zh": "请再输入一次新密码", "en": "Enter the new PIN again"},
    "m_pin_for": {"zh": "手机号 {phone}", "en": "Phone {phone}"},
    "m_pin_short": {"zh": "密码须为 4–6 位数字。", "en": "A PIN has 4 to 6 digits."},
    "m_pin_same_digits": {"zh": "密码不能全部是同一个数字。", "en": "A PIN cannot be one digit repeated."},
    "m_pin_mismatch": {
        "zh": "两次输入的密码不一致，请重新设置。",
        "en": "The two PINs differ; please choose the PIN again.",
    },
    "m_pin_wrong": {
        "zh": "手机号或密码不正确，还可再试 {left} 次。",
        "en": "Wrong phone or PIN; {left} tries left.",
    },
    "m_locked": {
        "zh": "密码错误次数过多，此手机号已锁定，请 {minutes} 分钟后再试，或刷会员卡。",
        "en": "Too many wrong PINs: this phone is locked. Try again in {minutes} min, or tap your card.",
    },
    "m_failed": {
        "zh": "出错了，未保存任何更改。请再试一次或找店员。",
        "en": "Something went wrong and nothing was changed. Try again or call staff.",
    },
    "m_old_pin_wrong": {
        "zh": "原密码不正确，还可再试 {left} 次。",
        "en": "The current PIN is wrong; {left} tries left.",
    },
    "m_pin_erase": {"zh": "请输入会员密码以确认删除", "en": "Enter your PIN to confirm"},
    "m_erase_pin_wrong": {
        "zh": "密码不正确，未删除任何资料。还可再试 {left} 次。",
        "en": "Wrong PIN: nothing was erased. {left} tries left.",
    },
    "m_pin_locked": {
        "zh": "密码错误次数过多，已锁定，请 {minutes} 分钟后再试。",
        "en": "Too many wrong PINs: locked. Try again in {minutes} min.",
    },
    "m_joined": {
        "zh": "注册成功，欢迎您！{coupon}",
        "en": "You are now a member, welcome! {coupon}",
    },
    "m_joined_coupon": {"zh": "已送您“{name}”优惠券。", "en": "A “{name}” coupon is yours."},
    "m_signed_in": {"zh": "登录成功：{name}", "en": "Signed in: {name}"},
    "m_no_members": {
        "zh": "本机未配置会员数据密钥，暂不能注册或登录会员。请找店员。",
        "en": "This terminal has no member data key, so members cannot join or sign in. Please call staff.",
    },
    "m_account_title": {"zh": "我的账户", "en": "My account"},
    "m_balance": {"zh": "储值余额", "en": "Stored value"},
    "m_points": {"zh": "积分", "en": "Points"},
    "m_tier": {"zh": "等级", "en": "Tier"},
    "m_tier_progress": {"zh": "再得 {points} 积分升级{tier}", "en": "{points} more points to {tier}"},
    "m_tier_top": {"zh": "已是最高等级", "en": "Top tier reached"},
    "m_history": {"zh": "积分明细（本机）", "en": "Points history (this terminal)"},
    "m_history_empty": {"zh": "暂无积分记录", "en": "No points entries yet"},
    "m_coupons": {"zh": "优惠券", "en": "Coupons"},
    "m_coupon_until": {"zh": "{name}（至 {until}）", "en": "{name} (until {until})"},
    "m_none": {"zh": "无", "en": "None"},
    "m_count_cards": {"zh": "次卡", "en": "Count cards"},
    "m_count_card": {"zh": "{sku}：剩 {left} 次（至 {until}）", "en": "{sku}: {left} left (until {until})"},
    "m_change_pin": {"zh": "修改密码", "en": "Change PIN"},
    "m_set_pin": {"zh": "设置密码", "en": "Set a PIN"},
    "m_export": {"zh": "导出我的资料", "en": "Export my data"},
    "m_erase": {"zh": "删除我的资料", "en": "Erase my data"},
    "m_back_shopping": {"zh": "返回购物", "en": "Back to shopping"},
    "m_pin_changed": {"zh": "密码已修改。", "en": "Your PIN was changed."},
    "m_pin_set": {"zh": "密码已设置。", "en": "Your PIN is set."},
    "m_export_title": {"zh": "导出我的资料", "en": "Export my data"},
    "m_export_hint": {
        "zh": "用手机扫描二维码，在打开的页面输入会员密码，即可下载您的资料（JSON 或 CSV）。"
        "二维码 {minutes} 分钟内有效。",
        "en": "Scan the code with your phone and enter your member PIN on the page that opens to download "
        "your data (JSON or CSV). The code works for {minutes} minutes.",
    },
    "m_export_needs_pin": {
        "zh": "导出资料需要会员密码。请先返回“我的账户”设置密码。",
        "en": "Exporting needs a member PIN. Go back to My account and set one first.",
    },
    "m_erase_title": {"zh": "删除我的资料？", "en": "Erase my data?"},
    "m_erase_body": {
        "zh": "将删除：手机号、称呼、生日、会员密码和已绑定的会员卡。\n"
        "剩余积分 {points}、储值 {balance} 将无法再使用。\n"
        "会保留：不含个人信息的交易与积分流水，以便账目相符。\n此操作不能撤销。",
        "en": "Erased: phone, name, birthday, PIN and linked member cards.\n"
        "Your {points} points and {balance} stored value can no longer be used.\n"
        "Kept: the sales and points ledger without personal data, so the accounts add up.\n"
        "This cannot be undone.",
    },
    "m_erase_confirm": {"zh": "确认删除", "en": "Yes, erase"},
    "m_erased": {
        "zh": "您的资料已删除，会员中心也将删除其副本。感谢您的光临。",
        "en": "Your data was erased here, and the member hub will erase its copy. Thank you.",
    },
    "m_kind_earn": {"zh": "消费得积分", "en": "Earned"},
    "m_kind_redeem": {"zh": "积分抵现", "en": "Paid with points"},
    "m_kind_expire": {"zh": "积分过期", "en": "Expired"},
    "m_kind_adjust": {"zh": "赠送/调整", "en": "Gift / adjustment"},
    "m_kind_top_up": {"zh": "充值", "en": "Top-up"},
    "m_kind_spend": {"zh": "使用", "en": "Used"},
    "m_kind_refund_reversal": {"zh": "退款冲回", "en": "Refund reversal"},
    "m_kind_merge": {"zh": "账户合并", "en": "Accounts merged"},
}
