"""Device states and the words a person reads for each, in zh-CN and English (the kiosk catalog).

A hardware thread reports a state as a ``STATUS`` :class:`~kiosk.hw.events.HardwareEvent`
whose ``code`` is a :class:`DeviceState` value; the UI shows :func:`status_message`.
"""

from enum import StrEnum

from kiosk import i18n
from kiosk.translations import N_

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

#: What a person reads for each state: the kiosk catalog's ``device_{state}`` messages.
_MESSAGES: dict[DeviceState, str] = {
    DeviceState.CONNECTED: N_("device_connected"),
    DeviceState.DISCONNECTED: N_("device_disconnected"),
    DeviceState.MISSING: N_("device_missing"),
    DeviceState.NO_PERMISSION: N_("device_no_permission"),
    DeviceState.BUSY: N_("device_busy"),
    DeviceState.READY: N_("device_ready"),
    DeviceState.PAPER_NEAR_END: N_("device_paper_near_end"),
    DeviceState.PAPER_OUT: N_("device_paper_out"),
    DeviceState.COVER_OPEN: N_("device_cover_open"),
    DeviceState.OFFLINE: N_("device_offline"),
    DeviceState.UNREACHABLE: N_("device_unreachable"),
    DeviceState.STATUS_UNKNOWN: N_("device_status_unknown"),
    DeviceState.PRINTED: N_("device_printed"),
    DeviceState.JOB_FAILED: N_("device_job_failed"),
    DeviceState.PRINT_QUEUED: N_("device_print_queued"),
    DeviceState.DRAWER_OPENED: N_("device_drawer_opened"),
}


def status_message(state: DeviceState | str) -> Message:
    """The zh-CN and English sentences a person reads for ``state``."""
    key = _MESSAGES[DeviceState(state)]
    return i18n.bilingual(key)
