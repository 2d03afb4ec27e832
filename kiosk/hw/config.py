"""The ``[hw]`` table of kiosk.toml: which devices the kiosk uses and how they type.

Example::

    [hw.scanner]
    path = "/dev/input/by-id/usb-Honeywell_Imaging___Mobility_1900-event-kbd"
    gap_ms = 200

    [hw.card_reader]
    vendor = "0xffff"
    product = "0x0035"
    uid_form = "dec10"

    [hw.printer]
    url = "usb:0x0416:0x5011"
    width = 384
    drawer_pin = 2

Unknown keys are refused with a message that names the key (``extra="forbid"``).
"""

import tomllib
from pathlib import Path
from typing import Literal

from evdev import ecodes
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kiosk import i18n
from kiosk.hw.card import ReaderFormat, UidForm
from kiosk.hw.errors import HardwareError
from kiosk.hw.input_reader import CardSettings, DeviceMatch
from kiosk.hw.keymap import DecoderSettings

Terminator = Literal["enter", "kp_enter", "tab"]
_ALL_TERMINATORS: list[Terminator] = ["enter", "kp_enter", "tab"]
_TERMINATOR_KEYS = {
    "enter": ecodes.KEY_ENTER,
    "kp_enter": ecodes.KEY_KPENTER,
    "tab": ecodes.KEY_TAB,
}


class HardwareConfigError(HardwareError, ValueError):
    """The [hw] table of kiosk.toml is wrong; the message names the key and the fix."""


class InputDeviceConfig(BaseModel):
    """A keyboard-wedge device, found by by-id path or by name / vendor / product."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(None, description="Stable /dev/input/by-id/...-event-kbd path.")
    name: str | None = Field(None, description="Exact input device name (see `kiosk hw list`).")
    vendor: int | None = Field(None, description='USB vendor id, e.g. "0x0c2e".')
    product: int | None = Field(None, description='USB product id, e.g. "0x0b61".')
    prefix: str = Field("", description="Characters the device sends before each code.")
    suffix: str = Field("", description="Characters the device sends after each code.")
    gap_ms: int = Field(200, gt=0, description="Longest pause between keys of one code.")
    terminators: list[Terminator] = Field(
        default_factory=lambda: list(_ALL_TERMINATORS),
        description="Keys that end a code.",
    )

    @field_validator("vendor", "product", mode="before")
    @classmethod
    def _hex_or_int(cls, value: object) -> object:
        return int(value, 0) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _identified(self) -> "InputDeviceConfig":
        if self.path is None and self.name is None and self.vendor is None:
            raise ValueError("give path, or name and/or vendor/product")
        return self

    def match(self) -> DeviceMatch:
        """How the reader finds this device."""
        return DeviceMatch(self.path, self.name, self.vendor, self.product)

    def decoder(self) -> DecoderSettings:
        """How the decoder frames this device's codes."""
        return DecoderSettings(
            terminators=frozenset(_TERMINATOR_KEYS[t] for t in self.terminators),
            prefix=self.prefix,
            suffix=self.suffix,
            gap=self.gap_ms / 1000,
        )


class CardReaderConfig(InputDeviceConfig):
    """A keyboard-wedge card reader and the canonical UID form."""

    uid_form: UidForm = Field("dec10", description="Stored form: dec10 or hex.")
    reader_format: ReaderFormat = Field("auto", description="What the reader types.")
    reverse_bytes: bool = Field(False, description="The reader types the UID bytes reversed.")
    debounce_ms: int = Field(1500, ge=0, description="The same card within this is one tap.")

    def card(self) -> CardSettings:
        """UID settings for the reader thread."""
        return CardSettings(self.uid_form, self.reader_format, self.reverse_bytes, self.debounce_ms / 1000)


class PrinterConfig(BaseModel):
    """The receipt printer and cash drawer."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="usb:VID:PID, tcp://host:port, serial:/dev/..., file:/dev/...")
    width: Literal[384, 576] = Field(576, description="Dots per line: 384 (58 mm), 576 (80 mm).")
    drawer_pin: Literal[2, 5] = Field(2, description="Cash drawer kick pin.")


class HardwareConfig(BaseModel):
    """The [hw] table; a device left out is simply not used."""

    model_config = ConfigDict(extra="forbid")

    scanner: InputDeviceConfig | None = None
    card_reader: CardReaderConfig | None = None
    printer: PrinterConfig | None = None


def parse_hw_config(table: dict) -> HardwareConfig:
    """Validate the [hw] table; HardwareConfigError names the first wrong key."""
    try:
        return HardwareConfig.model_validate(table)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = "hw." + ".".join(str(p) for p in first["loc"]) if first["loc"] else "hw"
        raise HardwareConfigError(i18n.bilingual("hw_config_wrong", setting=key, msg=first["msg"])) from exc


def load_hw_config(path: Path) -> HardwareConfig:
    """Read the [hw] table of the kiosk.toml at ``path`` (an absent table means no devices)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise HardwareConfigError(i18n.bilingual("hw_config_missing", path=path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise HardwareConfigError(i18n.bilingual("hw_config_not_toml", path=path, exc=exc)) from exc
    return parse_hw_config(data.get("hw", {}))
