"""Software releases of the terminal app: stored by ``hub release add``, offered to terminals.

A release is one version of the ``member-kiosk`` wheel, optionally with the
other wheels it needs (a wheelhouse directory). The files are kept under
``<hub data>/releases/<version>/`` exactly as added, each with its SHA-256 in
the database; a version never changes once added. ``hub release offer``
publishes a retained ``pos/{d}/down/update`` (:mod:`kiosk.sync.update_offer`)
naming the files and the URLs the hub's web server serves them from. The
terminal reports what it did as an ``app.update`` event, and its running
version in its status.
"""

import datetime as dt
import hashlib
import json
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peewee import CharField, DateTimeField, TextField

from hub.db import database
from hub.fleet.presence import DeviceStatus, as_utc
from hub.ingest.models import BaseModel, Event
from kiosk.sync.schema import SCHEMA_VERSION
from kiosk.sync.topics import update_topic
from kiosk.sync.update_offer import OfferedFile, UpdateOffer, offer_message

__all__ = [
    "AppRelease",
    "ReleaseError",
    "ReleaseOffer",
    "TerminalVersion",
    "add_release",
    "file_path",
    "make_offer",
    "offer_messages",
    "record_offer",
    "release_files",
    "releases",
    "terminal_versions",
]

RELEASES_DIR = "releases"
# name-version-(build-)python-abi-platform.whl (PEP 427); the name has no dashes.
WHEEL = re.compile(r"^(?P<name>[A-Za-z0-9_.]+)-(?P<version>[A-Za-z0-9_.+!]+)-.+\.whl$")


class ReleaseError(Exception):
    """A release could not be added or offered; the message is bilingual and says what to do."""


class AppRelease(BaseModel):
    """One version of the terminal software the hub can offer."""

    version = CharField(primary_key=True)
    files = TextField()  # JSON: [{"name", "sha256", "size"}], the member_kiosk wheel first
    added_at = DateTimeField()

    class Meta:
        table_name = "app_release"


class ReleaseOffer(BaseModel):
    """The version offered to each terminal now (one row per device)."""

    device = CharField(primary_key=True)
    version = CharField()
    offered_at = DateTimeField()

    class Meta:
        table_name = "app_release_offer"


MODELS = [AppRelease, ReleaseOffer]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 16):
            digest.update(chunk)
    return digest.hexdigest()


def _wheel_metadata_version(path: Path) -> str:
    """The ``Version:`` in the wheel's METADATA; raise ReleaseError if it is not a wheel."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
            if len(names) != 1:
                raise ReleaseError(
                    f"{path.name} has no .dist-info/METADATA: not a wheel built by pip or build\n"
                    f"{path.name} 不是有效的 wheel 安装包（缺少 METADATA）"
                )
            text = archive.read(names[0]).decode("utf-8", "replace")
    except zipfile.BadZipFile as exc:
        raise ReleaseError(
            f"{path.name} is not a wheel (not a zip file): build one with `python -m build --wheel`\n"
            f"{path.name} 不是 wheel 安装包，请用 `python -m build --wheel` 生成"
        ) from exc
    for line in text.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    raise ReleaseError(f"{path.name}: METADATA has no Version / METADATA 中没有版本号")


def _wheels(source: Path) -> tuple[Path, list[Path]]:
    """The member_kiosk wheel and every wheel in ``source`` (a wheel file or a directory)."""
    if source.is_dir():
        wheels = sorted(source.glob("*.whl"))
    elif source.is_file():
        wheels = [source]
    else:
        raise ReleaseError(f"{source} does not exist / 找不到 {source}")
    ours = [w for w in wheels if (m := WHEEL.match(w.name)) and m["name"] == "member_kiosk"]
    if len(ours) != 1:
        found = ", ".join(w.name for w in ours) or "none"
        raise ReleaseError(
            f"{source} must hold exactly one member_kiosk-<version>-….whl (found: {found})\n"
            f"{source} 中必须恰好有一个 member_kiosk 安装包（找到：{found}）"
        )
    return ours[0], [ours[0], *(w for w in wheels if w != ours[0])]


def add_release(source: Path, data_dir: Path, now: dt.datetime) -> AppRelease:
    """Store the wheel (or wheelhouse) ``source`` as a new release; return it."""
    main, wheels = _wheels(source)
    match = WHEEL.match(main.name)
    assert match is not None  # _wheels only returns names that match
    version = match["version"]
    for wheel in wheels:
        _wheel_metadata_version(wheel)
    if _wheel_metadata_version(main) != version:
        raise ReleaseError(
            f"{main.name}: the file name says {version} but its METADATA another version; rebuild it\n"
            f"{main.name} 文件名与内部版本号不一致，请重新打包"
        )
    if AppRelease.get_or_none(AppRelease.version == version) is not None:
        raise ReleaseError(
            f"release {version} was added before and a version never changes: bump the version\n"
            f"版本 {version} 已存在，发布的版本不可更改，请提高版本号"
        )
    target = data_dir / RELEASES_DIR / version
    staging = data_dir / RELEASES_DIR / f".staging-{version}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    files = []
    for wheel in wheels:
        shutil.copyfile(wheel, staging / wheel.name)
        files.append(
            {"name": wheel.name, "sha256": _sha256(staging / wheel.name), "size": wheel.stat().st_size}
        )
    shutil.rmtree(target, ignore_errors=True)  # left by an add that failed before its row was written
    staging.rename(target)
    with database.atomic():
        return AppRelease.create(version=version, files=json.dumps(files), added_at=now)


def release_files(release: AppRelease) -> list[dict[str, Any]]:
    """The release's files: name, sha256, size."""
    files: list[dict[str, Any]] = json.loads(release.files)
    return files


def releases() -> list[AppRelease]:
    """Every release, newest first."""
    return list(AppRelease.select().order_by(AppRelease.added_at.desc(), AppRelease.version.desc()))


def file_path(data_dir: Path, version: str, name: str) -> Path | None:
    """The stored file ``name`` of release ``version``, or None when there is no such file."""
    release = AppRelease.get_or_none(AppRelease.version == version)
    if release is None or name not in {f["name"] for f in release_files(release)}:
        return None
    return data_dir / RELEASES_DIR / version / name


def make_offer(version: str, base_url: str, now: dt.datetime) -> UpdateOffer:
    """The offer of release ``version``, downloadable from the hub at ``base_url``."""
    release = AppRelease.get_or_none(AppRelease.version == version)
    if release is None:
        raise ReleaseError(
            f"no release {version}: add it first with `hub release add member_kiosk-{version}-….whl`\n"
            f"没有版本 {version}，请先用 hub release add 添加"
        )
    base = base_url.rstrip("/")
    files = [
        OfferedFile(url=f"{base}/releases/{version}/files/{f['name']}", **f) for f in release_files(release)
    ]
    return UpdateOffer(
        v=SCHEMA_VERSION, version=version, issued_at=now.isoformat(timespec="seconds"), files=files
    )


def offer_messages(offer: UpdateOffer, devices: list[str]) -> dict[str, bytes]:
    """Topic -> retained payload for each device."""

    payload = offer_message(offer)
    return {update_topic(device): payload for device in devices}


def record_offer(version: str, devices: list[str], now: dt.datetime) -> None:
    """Remember that ``version`` is what ``devices`` are offered now."""
    with database.atomic():
        for device in devices:
            values = {"version": version, "offered_at": now}
            ReleaseOffer.insert(device=device, **values).on_conflict(
                conflict_target=[ReleaseOffer.device], update=values
            ).execute()


@dataclass(frozen=True)
class TerminalVersion:
    """What a terminal runs, what it is offered, and how its last update went."""

    device: str
    state: str
    running: str
    offered: str
    outcome: str  # installed | rolled_back | refused | "" (none reported)
    outcome_version: str
    reason: str
    reported_at: dt.datetime | None


def _last_outcomes() -> dict[str, dict[str, Any]]:
    rows = Event.select(Event.device, Event.body).where(Event.type == "app.update").order_by(Event.seq)
    return {row.device: json.loads(row.body)["data"] for row in rows}


def terminal_versions() -> list[TerminalVersion]:
    """Every terminal that reported a status or was offered a release, by device id."""
    statuses = {s.device: s for s in DeviceStatus.select()}
    offers = {o.device: o.version for o in ReleaseOffer.select()}
    outcomes = _last_outcomes()
    rows = []
    for device in sorted(statuses.keys() | offers.keys()):
        status = statuses.get(device)
        outcome = outcomes.get(device, {})
        rows.append(
            TerminalVersion(
                device=device,
                state=status.state if status else "unknown",
                running=status.app_version if status else "",
                offered=offers.get(device, ""),
                outcome=str(outcome.get("outcome", "")),
                outcome_version=str(outcome.get("version", "")),
                reason=str(outcome.get("reason", "")),
                reported_at=as_utc(status.reported_at) if status else None,
            )
        )
    return rows
