"""Member downlink at the terminal: deltas over MQTT, a snapshot over HTTP when new or behind.

``pos/{d}/down/members`` carries ``{"v": 1, "from": a, "to": b, "members": [...]}``:
the whole state of every member whose latest change is in versions ``a+1..b``.
The agent hands each message to :meth:`MemberDownlink.receive`; :meth:`step`
applies what continues the terminal's version, in order. A message that starts
past it waits ``gap_patience`` seconds for the missing one (two hub messages may
cross); after that, or when the terminal never had a snapshot, it pages through
``GET {hub}/api/v1/devices/{d}/members`` with its broker credentials.

All database work runs on the agent's thread (``receive`` is called from there too).
"""

import base64
import datetime as dt
import json
import logging
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from kiosk.store import business_keys
from kiosk.store.members import hub_copy
from kiosk.sync.schema import SCHEMA_VERSION, SchemaError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MemberDelta:
    """One delta message: member states covering versions ``first + 1 .. last``."""

    first: int
    last: int
    members: list[dict[str, Any]]
    keys: dict[str, Any] | None = None  # during a key rotation: the business keys, each sealed


def _check_state(state: Any) -> None:
    if not isinstance(state, dict):
        raise SchemaError("a member state is not an object")
    if not isinstance(state.get("id"), str) or not isinstance(state.get("version"), int):
        raise SchemaError("a member state lacks its id or version")
    if not isinstance(state.get("erased"), bool):
        raise SchemaError(f"member {state['id']}: erased must be true or false")
    if state["erased"]:
        return
    for name, kind in (("member", dict), ("cards", list), ("balances", dict), ("through_seq", int)):
        if not isinstance(state.get(name), kind):
            raise SchemaError(f"member {state['id']}: {name} missing or of the wrong type")
    if not isinstance(state.get("coupons", []), list):
        raise SchemaError(f"member {state['id']}: coupons must be a list")
    if state["member"].get("id") != state["id"] or not isinstance(state["member"].get("phone_index"), str):
        raise SchemaError(f"member {state['id']}: profile does not match its id or lacks phone_index")


def check_states(states: Any) -> list[dict[str, Any]]:
    """The member states of a delta or snapshot page; SchemaError names the first bad one."""
    if not isinstance(states, list):
        raise SchemaError("members must be a list")
    for state in states:
        _check_state(state)
    return states


def parse_delta(payload: bytes) -> MemberDelta:
    """Decode a ``pos/{d}/down/members`` message; raise SchemaError saying what is wrong."""
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaError(f"member delta is not JSON: {exc}") from exc
    if not isinstance(body, dict) or body.get("v") != SCHEMA_VERSION:
        raise SchemaError("member delta has an unknown schema version")
    first, last = body.get("from"), body.get("to")
    if not isinstance(first, int) or not isinstance(last, int) or not 0 <= first < last:
        raise SchemaError(f"member delta range from={first!r} to={last!r} is not 0 <= from < to")
    return MemberDelta(first, last, check_states(body.get("members")), _keys(body))


def _keys(body: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return business_keys.check_keys(body.get("keys"))
    except ValueError as exc:
        raise SchemaError(f"member message: {exc}") from exc


class SnapshotError(Exception):
    """The hub did not hand out a snapshot page; the message says why, in both languages."""


@dataclass(frozen=True)
class HubEndpoint:
    """Where the hub's HTTP API is and how this terminal signs in (its broker credentials)."""

    url: str  # e.g. http://hub.local:8080
    device: str
    password: str
    timeout: float = 30.0
    page_size: int = 1000
    # an https:// hub is verified against this CA (the broker's, from kiosk.toml): the hub's own CA
    # signs its web certificate too (`hub serve --tls-hostname`)
    ca_file: str | None = None

    def fetch_page(self, after: str) -> dict[str, Any]:
        """One snapshot page after member id ``after``; SnapshotError on any failure."""
        query = urllib.parse.urlencode({"after": after, "limit": self.page_size})
        device = urllib.parse.quote(self.device, safe="")
        request = urllib.request.Request(f"{self.url.rstrip('/')}/api/v1/devices/{device}/members?{query}")
        token = base64.b64encode(f"{self.device}:{self.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        try:
            context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as response:
                page = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise SnapshotError(
                f"hub refused the member snapshot ({exc.code} {exc.reason}); check the device's broker "
                f"password and the hub's --broker-dir / 总部拒绝会员快照，请检查终端密码"
            ) from exc
        except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
            raise SnapshotError(f"hub not reachable for the member snapshot: {exc} / 无法连接总部") from exc
        if not isinstance(page, dict) or not isinstance(page.get("version"), int):
            raise SnapshotError("hub sent a snapshot page without a version / 快照页缺少版本号")
        try:
            check_states(page.get("members"))
            _keys(page)
        except SchemaError as exc:
            raise SnapshotError(f"hub sent a malformed snapshot page: {exc} / 快照数据格式错误") from exc
        return page


@dataclass
class _Snapshot:
    """A snapshot in progress: the version of its first page and where the next page starts."""

    version: int | None = None
    after: str = ""
    members: int = 0
    total: int | None = None  # from the first page (an older hub does not say)
    started: float = field(default_factory=time.monotonic)
    reported: float = field(default_factory=time.monotonic)

    def progress(self, now: float) -> str:
        """The progress line at monotonic time ``now``: members applied, of how many, rate, time left."""
        elapsed = max(now - self.started, 1e-6)
        rate = self.members / elapsed
        line = f"member snapshot: {self.members:,} members"
        if self.total:
            left = max(self.total - self.members, 0) / rate if rate else 0.0
            share = min(100, 100 * self.members // self.total)
            line += f" of {self.total:,} ({share} %), {rate:,.0f}/s, about {_duration(left)} left"
        else:
            line += f", {rate:,.0f}/s"
        return f"{line} / 会员快照已载入 {self.members:,} 人"


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


PROGRESS_EVERY_S = 5.0  # a large snapshot logs how far it is this often (1M members: minutes on a Pi)


class MemberDownlink:
    """Applies member deltas in order and takes a snapshot when new or after a gap."""

    def __init__(self, hub: HubEndpoint | None, gap_patience: float = 5.0, retry_after: float = 10.0) -> None:
        self.hub = hub
        self.gap_patience = gap_patience
        self.retry_after = retry_after
        self._pending: dict[int, MemberDelta] = {}  # by ``first``, waiting for their turn
        self._gap_since: float | None = None
        self._snapshot: _Snapshot | None = None
        self._not_before = 0.0
        self.snapshots = 0  # completed, for tests and the log
        self.ready = False  # the agent sets it once the delta subscription is confirmed

    def receive(self, payload: bytes) -> None:
        """Keep a delta message for :meth:`step` (malformed ones are logged and dropped)."""
        try:
            delta = parse_delta(payload)
        except SchemaError as exc:
            log.error("ignored a member delta: %s", exc)
            return
        known = self._pending.get(delta.first)
        if known is None or known.last < delta.last:
            self._pending[delta.first] = delta

    def step(self, now: dt.datetime) -> bool:
        """Apply deltas that are due, or one snapshot page; True when the version may have changed."""
        if self._snapshot is not None or self._needs_snapshot():
            return self._snapshot_step(now)
        return self._apply_pending()

    def _apply_pending(self) -> bool:
        changed = False
        while self._pending:
            held = hub_copy.position()
            ready = [d for d in self._pending.values() if d.first <= held.version]
            if not ready:
                if self._gap_since is None:
                    self._gap_since = time.monotonic()
                    log.warning("member deltas skip versions after %d; waiting for them", held.version)
                return changed
            delta = min(ready, key=lambda d: d.first)
            del self._pending[delta.first]
            outcome = hub_copy.apply_delta(delta.first, delta.last, delta.members, delta.keys)
            changed |= outcome == "applied"
        self._gap_since = None
        return changed

    def _needs_snapshot(self) -> bool:
        if self.hub is None or not self.ready or time.monotonic() < self._not_before:
            return False
        if not hub_copy.position().has_snapshot:
            return True
        waited = self._gap_since is not None and time.monotonic() - self._gap_since >= self.gap_patience
        if waited:
            log.warning("member deltas missing for %.0f s; fetching a snapshot", self.gap_patience)
        return waited

    def _snapshot_step(self, now: dt.datetime) -> bool:
        assert self.hub is not None
        snapshot = self._snapshot = self._snapshot or _Snapshot()
        try:
            page = self.hub.fetch_page(snapshot.after)
        except SnapshotError as exc:
            log.error("%s; retrying in %.0f s", exc, self.retry_after)
            self._snapshot, self._not_before = None, time.monotonic() + self.retry_after
            return False
        if snapshot.version is None:
            snapshot.version = page["version"]
            total = page.get("total")
            snapshot.total = total if isinstance(total, int) and total > 0 else None
        snapshot.members += hub_copy.apply_snapshot_page(page["members"], page.get("keys"))
        if page.get("next"):
            snapshot.after = str(page["next"])
            if time.monotonic() - snapshot.reported >= PROGRESS_EVERY_S:
                snapshot.reported = time.monotonic()
                log.info("%s", snapshot.progress(snapshot.reported))
            return True
        hub_copy.finish_snapshot(snapshot.version, now)
        log.info(
            "member snapshot at version %d applied: %d members in %.1f s",
            snapshot.version,
            snapshot.members,
            time.monotonic() - snapshot.started,
        )
        self._snapshot, self._gap_since = None, None
        self.snapshots += 1
        self._pending = {f: d for f, d in self._pending.items() if d.last > snapshot.version}
        self._apply_pending()
        return True

    @property
    def busy(self) -> bool:
        """True while a snapshot is half done (the agent then loops without waiting)."""
        return self._snapshot is not None
