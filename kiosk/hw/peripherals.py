"""The terminal's devices as ``kiosk.toml`` names them, started for ``kiosk run``.

``kiosk.toml``'s ``[hardware]`` section names each device in one string (a
``/dev/input/by-id/`` path, ``vid:pid``, or an evdev name); the hardware layer
(``kiosk.hw``) takes a richer model. :func:`hardware_from` maps one to the other,
so the provisioning file stays simple and the readers get their defaults.
"""

import re

from kiosk.config import KioskConfig
from kiosk.hw.config import (
    CardReaderConfig,
    HardwareConfig,
    InputDeviceConfig,
    PrinterConfig,
    parse_hw_config,
)
from kiosk.hw.devices import readers_for
from kiosk.hw.events import EventQueue
from kiosk.hw.input_reader import InputReader

_VID_PID = re.compile(r"^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$")


def _device_fields(spec: str) -> dict[str, object]:
    if spec.startswith("/"):
        return {"path": spec}
    match = _VID_PID.match(spec)
    if match:
        return {"vendor": int(match.group(1), 16), "product": int(match.group(2), 16)}
    return {"name": spec}


def hardware_from(config: KioskConfig) -> HardwareConfig:
    """The hardware layer's model for ``kiosk.toml``: its ``[hw]`` table if any, else ``[hardware]``.

    Raises HardwareConfigError (naming the key and the fix) for a wrong ``[hw]`` table.
    """
    if config.hw is not None:
        return parse_hw_config(config.hw)
    hardware = config.hardware
    return HardwareConfig(
        scanner=InputDeviceConfig(**_device_fields(hardware.scanner)) if hardware.scanner else None,  # type: ignore[arg-type]
        card_reader=CardReaderConfig(**_device_fields(hardware.card_reader))  # type: ignore[arg-type]
        if hardware.card_reader
        else None,
        printer=PrinterConfig(url=hardware.printer, width=hardware.paper_width) if hardware.printer else None,
    )


def start_readers(config: KioskConfig, queue: EventQueue) -> list[InputReader]:
    """Start a reader thread for each configured scanner and card reader.

    A device that is missing or unplugged is reported on ``queue`` as a status
    event (the cart screen says so) and reopened when it appears: never a fake.
    """
    readers = readers_for(hardware_from(config), queue)
    for reader in readers:
        reader.start()
    return readers
