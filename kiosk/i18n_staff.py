"""Staff sign-in, roles and lockout at the terminal in zh-CN and English; merged by :mod:`kiosk.i18n`."""

STAFF_TEXT: dict[str, dict[str, str]] = {
    "no_staff": {"zh": "未配置店员", "en": "No staff set up"},
    "no_staff_body": {
        "zh": "这台终端还没有收到店员名单。请老板在后台添加店员（hub staff add）。",
        "en": "This terminal has no staff roster yet. The owner adds staff at the hub (hub staff add).",
    },
    "pin_wrong_left": {
        "zh": "密码错误，还可再试 {left} 次。",
        "en": "Wrong PIN: {left} more tries before the keypad locks.",
    },
    "pin_locked": {
        "zh": "密码错误次数过多，请 {seconds} 秒后再试，或刷员工卡。",
        "en": "Too many wrong PINs: try again in {seconds} s, or tap a staff badge.",
    },
    "forbidden": {
        "zh": "{name}（{role}）不能{action}。可由{roles}操作。",
        "en": "{name} ({role}) may not do this: {action}. Ask: {roles}.",
    },
    "staff_badge_menu": {"zh": "{name}（{role}）", "en": "{name} ({role})"},
}
