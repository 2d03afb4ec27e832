"""Device states and the words a person reads for each, in zh-CN and English.

A hardware thread reports a state as a ``STATUS`` :class:`~kiosk.hw.events.HardwareEvent`
whose ``code`` is a :class:`DeviceState` value; the UI shows :func:`status_message`.
"""

from enum import StrEnum

Message = dict[str, str]


class DeviceState(StrEnum):
    """What a device is doing now, as seen by the kiosk."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    MISSING = "missing"
    NO_PERMISSION = "no_permission"
    BUSY = "busy"
    READY = "ready"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    UNREACHABLE = "unreachable"
    STATUS_UNKNOWN = "status_unknown"
    PRINTED = "printed"
    JOB_FAILED = "job_failed"
    PRINT_QUEUED = "print_queued"
    DRAWER_OPENED = "drawer_opened"


#: States in which a print job may be sent (the printer may not report status at all).
CAN_PRINT = frozenset({DeviceState.READY, DeviceState.PAPER_NEAR_END, DeviceState.STATUS_UNKNOWN})

_MESSAGES: dict[DeviceState, Message] = {
    DeviceState.CONNECTED: {"zh": "设备已连接。", "en": "Device connected."},
    DeviceState.DISCONNECTED: {
        "zh": "设备已断开，请检查 USB 线；重新插上后会自动恢复。",
        "en": "Device unplugged. Check the USB cable; it resumes by itself when plugged back.",
    },
    DeviceState.MISSING: {
        "zh": "未找到设备，请检查连接和 kiosk.toml 中的设备设置。",
        "en": "Device not found. Check the cable and the device settings in kiosk.toml.",
    },
    DeviceState.NO_PERMISSION: {
        "zh": "没有权限打开设备，请安装 udev 规则并把 kiosk 用户加入 input 组。",
        "en": "No permission to open the device. Install the udev rules and add the kiosk "
        "user to the input group.",
    },
    DeviceState.BUSY: {
        "zh": "设备被其他程序占用，请关闭该程序；释放后会自动接管。",
        "en": "Another program holds the device. Close it; the kiosk takes over when it is free.",
    },
    DeviceState.READY: {"zh": "打印机就绪。", "en": "Printer ready."},
    DeviceState.PAPER_NEAR_END: {
        "zh": "打印纸快用完了，请准备换纸。",
        "en": "Receipt paper is running low. Have a new roll ready.",
    },
    DeviceState.PAPER_OUT: {
        "zh": "打印机缺纸，小票已保存，换纸后自动补打。",
        "en": "The printer is out of paper. The receipt is saved and prints when paper is loaded.",
    },
    DeviceState.COVER_OPEN: {
        "zh": "打印机盖未关好，请合上纸仓盖。",
        "en": "The printer cover is open. Close the paper cover.",
    },
    DeviceState.OFFLINE: {
        "zh": "打印机离线，请检查电源和指示灯。",
        "en": "The printer is offline. Check its power and status light.",
    },
    DeviceState.UNREACHABLE: {
        "zh": "无法连接打印机，小票已保存，恢复后自动补打。",
        "en": "Cannot reach the printer. The receipt is saved and prints when it is back.",
    },
    DeviceState.STATUS_UNKNOWN: {
        "zh": "打印机不回报状态，无法检测缺纸。",
        "en": "The printer does not report its status, so paper-out cannot be detected.",
    },
    DeviceState.PRINTED: {"zh": "小票已打印。", "en": "Receipt printed."},
    DeviceState.JOB_FAILED: {
        "zh": "这张小票无法打印，请联系店员补打。",
        "en": "This receipt could not be printed. Ask staff to reprint it.",
    },
    DeviceState.PRINT_QUEUED: {
        "zh": "小票排队等待打印。",
        "en": "The receipt is waiting to print.",
    },
    DeviceState.DRAWER_OPENED: {"zh": "钱箱已打开。", "en": "Cash drawer opened."},
}


def status_message(state: DeviceState | str) -> Message:
    """The zh-CN and English sentences a person reads for ``state``."""
    return dict(_MESSAGES[DeviceState(state)])
