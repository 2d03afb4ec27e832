"""The terminal's one provisioning file, ``kiosk.toml``, as typed models.

Every per-device value (store, device id, broker address and credentials,
data-encryption key, Wi-Fi) arrives in this file; the image carries none of
them. ``hub device add`` writes it with :func:`dump_config`, the first-boot
unit installs it, and ``kiosk config validate`` checks it with
:func:`load_config`. Every model forbids unknown keys so a typo is an error
that names the line and the fix, never a silently ignored setting.

One exception keeps terminals working when the hub is newer than their
software: ``hub device add`` writes ``format = N`` (:data:`CONFIG_FORMAT` of the
hub's version) at the top of the file. When N is higher than this version's,
the file comes from a newer hub, and keys this version does not know are
skipped with a warning (:func:`config_warnings`) instead of refused; every
other check stays. A file without ``format``, or of this version's format or
older, is still strict: there an unknown key can only be a typo.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "CONFIG_FORMAT",
    "DEFAULT_DATA_PATH",
    "BrokerConfig",
    "ConfigError",
    "ConfigProblem",
    "DataConfig",
    "DeviceConfig",
    "HardwareConfig",
    "KioskConfig",
    "LimitsConfig",
    "StoreConfig",
    "TlsConfig",
    "WifiConfig",
    "dump_config",
    "load_config",
    "parse_config",
]

DEFAULT_DATA_PATH = "/var/lib/kiosk/kiosk.db"
#: The kiosk.toml format this version reads, written as ``format`` by ``hub device add``. Raise it
#: with every key or table added (tests/config/test_config.py pins this format's keys), so an older
#: terminal can tell a newer hub's keys from a typo.
CONFIG_FORMAT = 1
# Ids become MQTT usernames, topic levels and host names: keep them to what all three accept.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]$"
VID_PID = re.compile(r"^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$")
PRINTER_URI = re.compile(
    r"^(?:usb:[0-9a-fA-F]{4}:[0-9a-fA-F]{4}"
    r"|tcp://[A-Za-z0-9.-]+:\d{1,5}"
    r"|serial:/dev/\S+"
    r"|file:/\S*)$"
)
PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
# The demo key is public on purpose: demo data is not personal data.
DEMO_ENCRYPTION_KEY = base64.b64encode(b"member-kiosk-demo-key-not-secret").decode()
#: signs receipt links in `kiosk run --demo` without a key given (KIOSK_RECEIPT_KEY): no hub opens them
DEMO_RECEIPT_KEY = base64.b64encode(b"member-kiosk-demo-receipt-links!").decode()


class _Section(BaseModel):
    """Base of every table: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class StoreConfig(_Section):
    """``[store]``: the shop this terminal belongs to."""

    id: str = Field(pattern=ID_PATTERN, description="Store id as the hub knows it, e.g. `s-001`.")
    name: str = Field(min_length=1, description="Store name shown on screen and receipts.")
    timezone: str = Field(
        default="Asia/Shanghai", description="IANA time zone of the shop, e.g. `Asia/Shanghai`."
    )
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code.")
    logo: str | None = Field(
        default=None,
        description="The shop's logo beside its name on the start screen: absolute path of a PNG file. "
        "A file that is missing, unreadable or not a PNG is a warning: the terminal shows the name alone.",
    )

    @field_validator("logo")
    @classmethod
    def _logo_is_absolute(cls, value: str | None) -> str | None:
        # the path is the file's own text, so a relative one is an error; the file itself lives on the
        # device and may be missing there: that is only a warning (config_warnings), never a stop
        if value is not None and not Path(value).is_absolute():
            en, zh = _relative_logo(value)
            raise PydanticCustomError("bilingual", "{en}", {"en": en, "zh": zh})
        return value

    def logo_problem(self) -> tuple[str, str] | None:
        """Why the logo file cannot be shown (English, Chinese), or None when there is none or it is a PNG."""
        return _png_problem(Path(self.logo)) if self.logo else None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use e.g. Asia/Shanghai)") from exc
        return value


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _relative_logo(value: str) -> tuple[str, str]:
    return (f"must be an absolute path, e.g. /boot/firmware/logo.png (got {value})",
            f"必须是绝对路径，例如 /boot/firmware/logo.png（现在是 {value}）")  # fmt: skip


def _png_problem(path: Path) -> tuple[str, str] | None:
    """Why ``path`` cannot be shown as the logo (English, Chinese), or None when it is a PNG file."""
    if not path.is_absolute():
        return _relative_logo(str(path))
    try:
        with path.open("rb") as file:
            head = file.read(len(PNG_SIGNATURE))
    except FileNotFoundError:
        return (f"no file at {path}; copy the logo there or remove `logo` (the shop name is shown alone)",
                f"{path} 不存在；请把标志图片放到这里，或删除 `logo`（现只显示店名）")  # fmt: skip
    except OSError as exc:
        return (f"cannot read {path}: {exc.strerror}; check the file's permissions "
                "(the shop name is shown alone)",
                f"无法读取 {path}：{exc.strerror}；请检查文件权限（现只显示店名）")  # fmt: skip
    if head != PNG_SIGNATURE:
        return (f"{path} is not a PNG image; save the logo as PNG (the shop name is shown alone)",
                f"{path} 不是 PNG 图片；请把标志另存为 PNG（现只显示店名）")  # fmt: skip
    return None


class DeviceConfig(_Section):
    """``[device]``: this terminal's identity."""

    id: str = Field(
        pattern=ID_PATTERN,
        description="Device id; also the MQTT username and the `{d}` in `pos/{d}/...` topics.",
    )
    name: str = Field(min_length=1, description="Human name of the terminal, e.g. `Front till`.")
    hostname: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9-]{0,62}$",
        description="Network host name; defaults to `kiosk-{device id}`.",
    )
    receipt_key: str | None = Field(
        default=None,
        repr=False,
        description="Base64 of this terminal's 32-byte receipt key (written by `hub device add`): signs "
        "the e-receipt link in the receipt's QR. Omit: receipts print without a QR.",
    )
    receipt_link_days: int = Field(
        default=90, ge=1, le=3650, description="Days an e-receipt link opens after the sale."
    )

    @field_validator("receipt_key")
    @classmethod
    def _receipt_key_bytes(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("is not base64 (make one with `hub device add`)") from exc
        if len(raw) != 32:
            raise ValueError(f"must decode to 32 bytes, got {len(raw)}")
        return value

    def receipt_key_bytes(self) -> bytes | None:
        """The 32-byte receipt key, or None when the terminal has none."""
        return base64.b64decode(self.receipt_key) if self.receipt_key else None

    @property
    def effective_hostname(self) -> str:
        """The host name first boot applies."""
        return self.hostname or f"kiosk-{self.id.lower()}"


class TlsConfig(_Section):
    """``[broker.tls]``: how the terminal authenticates the broker (and itself)."""

    ca: str = Field(description="CA certificate that signed the broker's: PEM text, or an absolute path.")
    client_cert: str | None = Field(
        default=None, description="Optional client certificate (PEM text or absolute path)."
    )
    client_key: str | None = Field(
        default=None,
        repr=False,
        description="Private key of the client certificate (PEM text or absolute path).",
    )

    @field_validator("ca", "client_cert", "client_key")
    @classmethod
    def _pem_or_path(cls, value: str | None) -> str | None:
        if value is None or value.startswith("/") or "-----BEGIN " in value:
            return value
        raise ValueError("must be PEM text (-----BEGIN ...) or an absolute path")

    @field_validator("ca")
    @classmethod
    def _ca_is_certificate(cls, value: str) -> str:
        if value.startswith("/") or PEM_CERT.search(value):
            return value
        raise ValueError("PEM text must contain a complete -----BEGIN CERTIFICATE----- block")

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> TlsConfig:
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("client_cert and client_key go together: give both or neither")
        return self


class BrokerConfig(_Section):
    """``[broker]``: the hub's MQTT broker."""

    host: str = Field(min_length=1, description="Broker host name or IP address.")
    port: int = Field(default=1883, ge=1, le=65535, description="Broker port (8883 for TLS).")
    username: str = Field(description="MQTT username; must equal the device id.")
    password: str = Field(min_length=16, repr=False, description="MQTT password written by `hub device add`.")
    keepalive: int = Field(default=30, ge=5, le=600, description="MQTT keepalive in seconds.")
    tls: TlsConfig | None = Field(default=None, description="TLS settings; omit for plain MQTT.")
    hub_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="The hub's HTTP address (e.g. `http://hub.local:8080`) for the member snapshot; "
        "signs in with username and password above. Omit: members known only from deltas.",
    )


class DataConfig(_Section):
    """``[data]``: where the database lives and the key for personal data."""

    path: str = Field(default=DEFAULT_DATA_PATH, description="SQLite database file (on the data partition).")
    encryption_key: str = Field(
        repr=False, description="Base64 of 32 random bytes; encrypts members' personal data."
    )

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must be an absolute path, e.g. /var/lib/kiosk/kiosk.db")
        return value

    @field_validator("encryption_key")
    @classmethod
    def _thirty_two_bytes(cls, value: str) -> str:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("is not base64 (make one with `hub device add`)") from exc
        if len(raw) != 32:
            raise ValueError(f"must decode to 32 bytes, got {len(raw)}")
        return value

    def key_bytes(self) -> bytes:
        """The 32-byte data-encryption key."""
        return base64.b64decode(self.encryption_key)


class WifiConfig(_Section):
    """``[wifi]``: optional wireless network; omit for Ethernet."""

    ssid: str = Field(min_length=1, max_length=32, description="Network name.")
    psk: str = Field(min_length=8, max_length=64, repr=False, description="WPA2 passphrase (8-63 chars).")
    country: str = Field(
        default="CN", pattern=r"^[A-Z]{2}$", description="Regulatory country code, e.g. `CN`."
    )
    hidden: bool = Field(default=False, description="True if the network hides its SSID.")

    @field_validator("ssid", "psk")
    @classmethod
    def _single_line(cls, value: str) -> str:
        if any(c in value for c in '"\n\r\\'):
            raise ValueError("must not contain quotes, backslashes or line breaks")
        return value


def _is_input_device(value: str) -> bool:
    """An input device is named by by-id path, vid:pid, or its evdev name."""
    if value.startswith("/"):
        return value.startswith("/dev/input/")
    return bool(value.strip())


class HardwareConfig(_Section):
    """``[hardware]``: which devices are the scanner, card reader and printer."""

    scanner: str | None = Field(
        default=None,
        description="Barcode scanner: /dev/input/by-id/... path, `vid:pid`, or evdev name.",
    )
    card_reader: str | None = Field(
        default=None,
        description="Card reader: /dev/input/by-id/... path, `vid:pid`, or evdev name.",
    )
    printer: str | None = Field(
        default=None,
        description="Printer URI: usb:VID:PID, tcp://host:port, serial:/dev/ttyUSB0, file:/path.",
    )
    paper_width: Literal[384, 576] = Field(
        default=576, description="Printer width in dots: 384 (58 mm) or 576 (80 mm)."
    )
    cash_drawer: bool = Field(default=False, description="A drawer hangs off the printer.")

    @field_validator("scanner", "card_reader")
    @classmethod
    def _input_device(cls, value: str | None) -> str | None:
        if value is None or _is_input_device(value):
            return value
        raise ValueError("must be /dev/input/by-id/..., vid:pid like 0c2e:0b61, or a device name")

    @field_validator("printer")
    @classmethod
    def _printer_uri(cls, value: str | None) -> str | None:
        if value is None or PRINTER_URI.match(value):
            return value
        raise ValueError("must be usb:VID:PID, tcp://host:port, serial:/dev/ttyUSB0 or file:/path")


class LimitsConfig(_Section):
    """``[limits]``: what a terminal may do while it cannot reach the hub."""

    offline_points_per_member: int = Field(
        default=2000, ge=0, description="Points one member may redeem here while offline."
    )
    offline_stored_value_fen_per_member: int = Field(
        default=20000, ge=0, description="Stored value (fen) one member may spend here offline."
    )
    offline_max_hours: int = Field(
        default=72, ge=1, description="Hours offline after which redemption needs an attendant."
    )


class PaymentsConfig(_Section):
    """``[payments]``: the mobile-wallet payment gateway the terminal charges payment codes through."""

    gateway_url: str = Field(
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="The payment gateway's HTTP address (e.g. `http://pay.shop.lan:8765`); a scanned "
        "payment code (付款码) is charged there. Omit the section: cash and member payment only.",
    )
    timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="Seconds to wait for the gateway before asking it again."
    )


class KioskConfig(_Section):
    """The whole ``kiosk.toml``."""

    store: StoreConfig = Field(description="The shop this terminal belongs to.")
    device: DeviceConfig = Field(description="This terminal's identity.")
    broker: BrokerConfig = Field(description="The hub's MQTT broker.")
    data: DataConfig = Field(description="Database location and data-encryption key.")
    wifi: WifiConfig | None = Field(default=None, description="Wireless network, if any.")
    hardware: HardwareConfig = Field(
        default_factory=HardwareConfig, description="Scanner, card reader, printer."
    )
    limits: LimitsConfig = Field(default_factory=LimitsConfig, description="Offline risk caps.")
    payments: PaymentsConfig | None = Field(
        default=None, description="Mobile-wallet payment gateway; omit for cash and member payment only."
    )
    hw: dict[str, Any] | None = Field(
        default=None,
        description=(
            "Optional device tuning for the hardware layer (prefix/suffix, gaps, UID form, drawer pin):"
            " the [hw] table of docs/hardware.md. When present it replaces [hardware]; `kiosk config"
            " validate` and `kiosk run` check it with the hardware layer's own model."
        ),
    )

    # keys of a newer hub's file this version skipped (parse_config), reported by config_warnings
    _skipped: list[ConfigProblem] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _username_is_device(self) -> KioskConfig:
        if self.broker.username != self.device.id:
            raise ValueError(
                f"broker.username {self.broker.username!r} must equal device.id "
                f"{self.device.id!r}: the broker ACL is keyed on it"
            )
        return self

    @classmethod
    def demo(cls, data_path: str = DEFAULT_DATA_PATH, device_id: str = "d-demo") -> KioskConfig:
        """Embedded defaults for `kiosk demo`: local broker, public demo key, fake hardware."""
        return cls(
            store=StoreConfig(id="s-demo", name="演示店 Demo Store"),
            device=DeviceConfig(id=device_id, name="Demo terminal"),
            broker=BrokerConfig(host="127.0.0.1", username=device_id, password="demo-password-not-secret"),
            data=DataConfig(path=data_path, encryption_key=DEMO_ENCRYPTION_KEY),
            hardware=HardwareConfig(printer="file:/dev/null"),
        )


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a config file, located and explained in both languages."""

    key: str
    line: int | None
    en: str
    zh: str

    def render(self, path: str) -> str:
        """``file:line: key: English / 中文``."""
        where = f"{path}:{self.line}" if self.line else path
        return f"{where}: `{self.key}`: {self.en}\n    {self.zh}"


class ConfigError(Exception):
    """``kiosk.toml`` cannot be used; ``problems`` says where and how to fix it."""

    def __init__(self, path: str, problems: list[ConfigProblem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(p.render(path) for p in problems))


def _table_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map each table header and key (as a dotted path) to the line it is on.

    A small line scanner, not a TOML parser: it is only used to point at
    lines after tomllib has accepted the file, so it need not reject anything.
    """
    where: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    header = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\- \"]+?)\s*\]\s*(?:#.*)?$")
    key = re.compile(r"^\s*([A-Za-z0-9_\-.\" ]+?)\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if match := header.match(line):
            table = tuple(p.strip().strip('"') for p in match.group(1).split("."))
            where.setdefault(table, number)
        elif match := key.match(line):
            dotted = tuple(p.strip().strip('"') for p in match.group(1).split("."))
            where.setdefault((*table, *dotted), number)
    return where


def _known_keys(model: type[BaseModel], loc: tuple[str, ...]) -> list[str]:
    """The field names valid at ``loc`` (the parent of an offending key)."""
    for part in loc:
        field = model.model_fields.get(part)
        if field is None:
            return []
        inner = _model_in(field.annotation)
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel class inside ``X`` or ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _explain(error: dict[str, Any], lines: dict[tuple[str, ...], int]) -> ConfigProblem:
    """Turn one pydantic error into a located, bilingual problem."""
    loc = tuple(str(p) for p in error["loc"])
    dotted = ".".join(loc)
    line = _line_for(loc, lines)
    kind = error["type"]
    if kind == "bilingual":  # the validator wrote both languages itself
        return ConfigProblem(dotted, line, error["ctx"]["en"], error["ctx"]["zh"])
    if kind == "extra_forbidden":
        known = _known_keys(KioskConfig, loc[:-1])
        close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
        hint_en = f"did you mean `{close[0]}`?" if close else f"valid keys: {', '.join(known)}"
        hint_zh = f"是不是想写 `{close[0]}`？" if close else f"可用的键：{', '.join(known)}"
        return ConfigProblem(dotted, line, f"unknown key; {hint_en}", f"未知的键；{hint_zh}")
    if kind == "missing" and _is_table(loc):
        table = ".".join(loc)
        return ConfigProblem(
            dotted,
            line,
            f"required but missing; add a `[{table}]` table",
            f"缺少必填项；请添加 `[{table}]` 表",
        )
    if kind == "missing":
        section = f"[{'.'.join(loc[:-1])}]" if len(loc) > 1 else "the file"
        return ConfigProblem(
            dotted,
            line,
            f"required but missing; add `{loc[-1]} = ...` under {section}",
            f"缺少必填项；请在 {section} 下添加 `{loc[-1]} = ...`",
        )
    message = error["msg"].removeprefix("Value error, ")
    return ConfigProblem(dotted, line, f"{message}", f"取值无效：{message}")


def _is_table(loc: tuple[str, ...]) -> bool:
    """Whether the field at ``loc`` is itself a table (a nested model)."""
    model: type[BaseModel] | None = KioskConfig
    for part in loc:
        field = model.model_fields.get(part) if model else None
        if field is None:
            return False
        model = _model_in(field.annotation)
    return model is not None


def _line_for(loc: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> int | None:
    """The line of ``loc`` or of its nearest enclosing table that exists in the file."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def parse_config(text: str, path: str = "kiosk.toml") -> KioskConfig:
    """Parse and validate ``kiosk.toml`` text; raise :class:`ConfigError` naming lines.

    Keys unknown here in a file of a newer format (see the module's docstring) are
    skipped, and :func:`config_warnings` names them.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        return _raise_syntax(path, int(found.group(1)) if found else None, str(exc))
    lines = _table_lines(text)
    written_as = _pop_format(raw, lines, path)
    try:
        return KioskConfig.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
    newer = written_as > CONFIG_FORMAT
    unknown = [e for e in errors if e["type"] == "extra_forbidden"] if newer else []
    if not unknown:
        raise ConfigError(path, [_explain(e, lines) for e in errors])
    for error in unknown:
        _drop(raw, tuple(str(part) for part in error["loc"]))
    try:
        config = KioskConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(path, [_explain(e, lines) for e in exc.errors()]) from None
    config._skipped = [_skipped(e["loc"], lines, written_as) for e in unknown]
    return config


def _pop_format(raw: dict[str, Any], lines: dict[tuple[str, ...], int], path: str) -> int:
    """Take ``format`` out of the file's table: its number, or 0 for a file written by hand."""
    value = raw.pop("format", 0)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if value == 0 and ("format",) not in lines:
        return 0
    en = f"must be a whole number from 1, written by `hub device add` (got {value!r}); or delete the line"
    zh = f"必须是从 1 起的整数，由 `hub device add` 写入（现在是 {value!r}）；或删除这一行"
    raise ConfigError(path, [ConfigProblem("format", lines.get(("format",)), en, zh)])


def _drop(raw: dict[str, Any], loc: tuple[str, ...]) -> None:
    """Remove the key at ``loc`` from the parsed file."""
    table = raw
    for part in loc[:-1]:
        table = table[part]
    del table[loc[-1]]


def _skipped(loc: tuple[Any, ...], lines: dict[tuple[str, ...], int], written_as: int) -> ConfigProblem:
    """The warning for a newer hub's key this version does not know."""
    where = tuple(str(part) for part in loc)
    en = (
        f"not known to this terminal's software, so ignored: the file is format {written_as}, from a "
        f"newer hub (this software reads format {CONFIG_FORMAT}); update the terminal to use it"
    )
    zh = (f"本终端软件不认识此项，已忽略：此文件为格式 {written_as}，来自较新的中心"
          f"（本终端软件读取格式 {CONFIG_FORMAT}）；更新终端软件后生效")  # fmt: skip
    return ConfigProblem(".".join(where), _line_for(where, lines), en, zh)


def _raise_syntax(path: str, line: int | None, detail: str) -> KioskConfig:
    problem = ConfigProblem(
        "(syntax)",
        line,
        f"not valid TOML: {detail}; check quotes and `key = value` form",
        f"不是有效的 TOML：{detail}；请检查引号和 `键 = 值` 的写法",
    )
    raise ConfigError(path, [problem])


def load_config(path: str | Path) -> KioskConfig:
    """Read and validate a ``kiosk.toml`` file; raise :class:`ConfigError` on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = ConfigProblem(
            "(file)",
            None,
            f"cannot read the file: {exc}; check the path and permissions",
            f"无法读取该文件：{exc}；请检查路径和权限",
        )
        raise ConfigError(str(path), [problem]) from exc
    return parse_config(text, str(path))


def config_warnings(config: KioskConfig, path: str | Path) -> list[ConfigProblem]:
    """What in the file at ``path`` stops nothing: a newer hub's keys skipped, a logo that cannot be shown.

    Located like errors (``file:line``); the terminal runs, without that part.
    """
    problem = config.store.logo_problem()
    if problem is None:
        return list(config._skipped)
    try:
        lines = _table_lines(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        lines = {}
    logo = ConfigProblem("store.logo", _line_for(("store", "logo"), lines), problem[0], problem[1])
    return [*config._skipped, logo]


def dump_config(config: KioskConfig) -> str:
    """The TOML text of ``config``, with a header saying what the file is."""
    fields = {"format": CONFIG_FORMAT, **config.model_dump(mode="json", exclude_none=True)}
    body = tomli_w.dumps(fields, multiline_strings=True)
    header = (
        "# kiosk.toml: this terminal's identity and secrets. Keep it private.\n"
        "# kiosk.toml：本终端的身份与密钥，请妥善保管，勿外传。\n"
        "# Copy onto the SD card's boot partition; first boot moves it to /etc/kiosk.\n"
        "# `format` is the file format of the hub that wrote it: leave it as it is.\n"
        "# `format` 是生成此文件的中心所用的格式编号，请勿修改。\n\n"
    )
    return header + body
