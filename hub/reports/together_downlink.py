"""The "often bought together" table to the terminals: retained on ``pos/{d}/down/together``.

The ``bought_together`` job replaces the rules (:mod:`hub.reports.together`); the owner's
thresholds (``hub jobs set together_min_support|together_min_lift|together_per_item``) choose
which of them the terminals get. Whenever that selection differs from the last table made, a new
**version** is recorded (:class:`TogetherRelease`, its content's digest beside it), so a table
means the same rules wherever it is read; each active terminal gets it retained, so one that was
off finds the newest when it reconnects, and applies a newer version only
(:func:`kiosk.store.together.apply_table`).

Whichever hub process runs the job, ``hub serve`` notices within :data:`CHECK_EVERY_S`
(:class:`TogetherPublisher`) and at its start, by a cheap look at the rules' stamp and the
thresholds, and builds the table only when they moved.
"""

import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from peewee import CharField, DateTimeField, IntegerField, IntegrityError, fn

from hub.catalog.releases import publish_retained
from hub.db import transaction
from hub.fleet.devices import DeviceRegistry
from hub.ingest.models import BaseModel
from hub.jobs import settings as job_settings
from hub.reports.together import BoughtTogether
from kiosk.sync.schema import canonical
from kiosk.sync.topics import together_topic

log = logging.getLogger(__name__)

CHECK_EVERY_S = 10.0
MAX_RULES = 5000  # the strongest this many: ~40 bytes each, a table stays well under 256 KiB


class TogetherRelease(BaseModel):
    """One version of the table sent to the terminals: what it held (digest) and when it was made."""

    version = IntegerField(primary_key=True)
    digest = CharField()  # sha256 of the canonical rules: a new version only when they change
    rules = IntegerField()
    made_at = DateTimeField()

    class Meta:
        table_name = "together_release"


MODELS = [TogetherRelease]


def selected_rules() -> list[list[Any]]:
    """The rules the terminals get, strongest first: ``[sku, with_sku, lift × 1000, support bp,
    confidence bp]`` above the owner's thresholds, each product's best ``together_per_item``."""
    least_support, least_lift, per_item = job_settings.together_thresholds()
    query = (
        BoughtTogether.select(
            BoughtTogether.sku, BoughtTogether.with_sku, BoughtTogether.lift_milli,
            BoughtTogether.support_bp, BoughtTogether.confidence_bp,
        )
        .where(BoughtTogether.support_bp >= least_support, BoughtTogether.lift_milli >= least_lift)
        .order_by(BoughtTogether.sku, BoughtTogether.lift_milli.desc(), BoughtTogether.confidence_bp.desc(),
                  BoughtTogether.with_sku)
        .tuples()
    )  # fmt: skip
    kept: dict[str, int] = {}
    chosen = []
    for row in query:
        if kept.get(row[0], 0) < per_item:
            kept[row[0]] = kept.get(row[0], 0) + 1
            chosen.append(list(row))
    chosen.sort(key=lambda r: (-r[2], -r[4], r[0], r[1]))
    return chosen[:MAX_RULES]


def current_release(now: dt.datetime) -> tuple[int, list[list[Any]]]:
    """The version for today's selection and its rules: the latest version when the selection is
    unchanged, else a new one recorded (two hub processes racing make it once)."""
    rules = selected_rules()
    digest = hashlib.sha256(canonical(rules)).hexdigest()
    for _attempt in range(3):
        try:
            with transaction():
                latest = TogetherRelease.select().order_by(TogetherRelease.version.desc()).first()
                if latest is not None and latest.digest == digest:
                    return latest.version, rules
                version = (latest.version if latest else 0) + 1
                TogetherRelease.create(version=version, digest=digest, rules=len(rules), made_at=now)
            return version, rules
        except IntegrityError:
            continue  # another hub process made this version a moment ago: look again
    raise RuntimeError("together table: the version kept moving / 常一起买版本号冲突")


def table_message(version: int, rules: list[list[Any]], now: dt.datetime) -> bytes:
    """The message a terminal applies (docs/protocol.md, "Often bought together")."""
    return canonical(
        {"v": 1, "version": version, "made_at": now.isoformat(timespec="seconds"), "rules": rules}
    )


def stamp() -> tuple[Any, ...]:
    """What moves when the table may have changed: the rules' computation and the thresholds."""
    computed = BoughtTogether.select(fn.MAX(BoughtTogether.computed_at), fn.COUNT(BoughtTogether.id)).tuples()
    return (*computed.get(), job_settings.together_thresholds())


Publish = Callable[[dict[str, bytes]], None]


class TogetherPublisher(threading.Thread):
    """``hub serve``'s thread: sends the table to every active terminal at start and whenever the
    rules, the thresholds or the set of terminals changed; retries while the broker is away."""

    def __init__(
        self,
        data_dir: Path,
        publish: Publish,
        clock: Callable[[], dt.datetime],
        every_s: float = CHECK_EVERY_S,
    ) -> None:
        super().__init__(daemon=True, name="together-publisher")
        self.data_dir, self.publish, self.clock, self.every_s = data_dir, publish, clock, every_s
        self.stop_event = threading.Event()
        self.sent: tuple[Any, ...] | None = None  # (stamp, devices) of the last table the broker took
        self.version = 0

    def check(self) -> int | None:
        """Send the table if anything moved since the last send; the version sent, or None."""
        devices = sorted(d.id for d in DeviceRegistry(self.data_dir).active())
        seen = (stamp(), tuple(devices))
        if seen == self.sent:
            return None
        now = self.clock()
        version, rules = current_release(now)
        payload = table_message(version, rules, now)
        if devices:
            self.publish({together_topic(d): payload for d in devices})
        self.sent, self.version = seen, version
        log.info("often-bought-together table %d (%d rules) sent to %d terminals / 常一起买已发送",
                 version, len(rules), len(devices))  # fmt: skip
        return version

    def run(self) -> None:
        """Check now, then every ``every_s`` seconds until :meth:`stop`."""
        while not self.stop_event.is_set():
            try:
                self.check()
            except (ConnectionError, OSError) as exc:
                log.warning("often-bought-together table not sent yet / 常一起买暂未发送: %s", exc)
            except Exception:  # a database hiccup must not end the thread: log it, look again later
                log.exception("often-bought-together check failed / 常一起买检查失败")
            self.stop_event.wait(self.every_s)

    def stop(self) -> None:
        """End :meth:`run` after its current check."""
        self.stop_event.set()


def broker_publish(
    host: str, port: int, username: str | None = None, password: str | None = None, ca_file: str | None = None
) -> Publish:
    """Publish retained through the broker at ``host:port`` (raises ConnectionError when away)."""

    def publish(messages: dict[str, bytes]) -> None:
        publish_retained(
            messages, host, port, username, password, ca_file, client_id="hub-together-publisher"
        )

    return publish
