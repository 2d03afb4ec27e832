"""The one root error of the hardware package and its children.

Every error carries ``message``: what happened and what to do, in zh-CN and English.
"""

from kiosk.hw.status import Message


class HardwareError(Exception):
    """A device could not do what was asked; ``message`` is for the person at the kiosk."""

    def __init__(self, message: Message, detail: str = "") -> None:
        super().__init__(f"{message['en']} {detail}".strip())
        self.message = message
        self.detail = detail


class CardFormatError(HardwareError, ValueError):
    """A card reader sent something that is not a UID in the configured format."""


class PrinterError(HardwareError):
    """The printer did not print; ``state`` says why (a DeviceState)."""

    def __init__(self, message: Message, state: str, detail: str = "") -> None:
        super().__init__(message, detail)
        self.state = state


class PrinterConfigError(HardwareError, ValueError):
    """A printer address in kiosk.toml (or on the command line) cannot be understood."""


class FontMissingError(HardwareError):
    """The CJK font receipts are drawn with is not installed."""
