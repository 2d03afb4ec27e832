"""The hub's device registry: which terminals exist, for which store, and which are revoked.

Stored as one JSON file, ``{hub data}/devices.json``, written atomically::

    {"version": 1, "devices": {"d-7f3a": {"store": "s-001", "name": "Front till",
      "created_at": "2026-11-24T08:00:00+00:00", "revoked_at": null}}}

It holds no secrets: device passwords live only in the device's
``kiosk.toml`` and, hashed, in Mosquitto's password file.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

__all__ = ["DeviceRecord", "DeviceRegistry", "RegistryError", "new_device_id", "new_password"]

REGISTRY_FILE = "devices.json"
FORMAT_VERSION = 1


class RegistryError(Exception):
    """The registry refused a change; the message is bilingual and says what to do."""


@dataclass(frozen=True)
class DeviceRecord:
    """One terminal the hub knows."""

    id: str
    store: str
    name: str
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        """True until the device is revoked."""
        return self.revoked_at is None


def new_device_id(taken: set[str]) -> str:
    """A fresh ``d-xxxxxx`` id not in ``taken`` (lowercase hex: valid as host name and topic)."""
    while True:
        candidate = f"d-{secrets.token_hex(3)}"
        if candidate not in taken:
            return candidate


def new_password() -> str:
    """A 32-character URL-safe password (192 bits) for the device's broker login."""
    return secrets.token_urlsafe(24)


class DeviceRegistry:
    """The registry file under the hub's data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / REGISTRY_FILE
        self._devices: dict[str, DeviceRecord] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        if raw.get("version") != FORMAT_VERSION:
            raise RegistryError(
                f"{self.path}: registry version {raw.get('version')!r} is not {FORMAT_VERSION}; "
                f"upgrade the hub\n{self.path}：设备登记表版本不符，请升级 hub"
            )
        self._devices = {key: DeviceRecord(id=key, **value) for key, value in raw["devices"].items()}

    def save(self) -> None:
        """Write the registry atomically (temp file, fsync, rename)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        devices = {d.id: {k: v for k, v in asdict(d).items() if k != "id"} for d in self.all()}
        text = json.dumps({"version": FORMAT_VERSION, "devices": devices}, indent=2, ensure_ascii=False)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def all(self) -> list[DeviceRecord]:
        """Every device, revoked ones included, by id."""
        return [self._devices[key] for key in sorted(self._devices)]

    def active(self) -> list[DeviceRecord]:
        """Devices that may connect, by id."""
        return [d for d in self.all() if d.active]

    def get(self, device_id: str) -> DeviceRecord:
        """The device ``device_id``; :class:`RegistryError` if unknown."""
        try:
            return self._devices[device_id]
        except KeyError:
            raise RegistryError(
                f"no device {device_id!r}; see `hub device list`\n"
                f"没有终端 {device_id!r}；请用 `hub device list` 查看"
            ) from None

    def add(self, store: str, name: str, now: datetime, device_id: str | None = None) -> DeviceRecord:
        """Register a new device (with a fresh id unless one is given)."""
        device_id = device_id or new_device_id(set(self._devices))
        if device_id in self._devices:
            raise RegistryError(
                f"device {device_id!r} already exists; pick another id or revoke it first\n"
                f"终端 {device_id!r} 已存在；请换一个编号或先吊销它"
            )
        record = DeviceRecord(device_id, store, name, now.isoformat(timespec="seconds"))
        self._devices[device_id] = record
        return record

    def revoke(self, device_id: str, now: datetime) -> DeviceRecord:
        """Mark ``device_id`` revoked (kept in the registry for the audit trail)."""
        record = self.get(device_id)
        if not record.active:
            raise RegistryError(
                f"device {device_id!r} was already revoked at {record.revoked_at}\n"
                f"终端 {device_id!r} 已于 {record.revoked_at} 吊销"
            )
        revoked = DeviceRecord(**{**asdict(record), "revoked_at": now.isoformat(timespec="seconds")})
        self._devices[device_id] = revoked
        return revoked
