"""``hub simulate``: N headless kiosks (real store and sync code) against a broker and the hub.

Each kiosk is two real processes on its own SQLite file, as on a terminal: a
till that commits ``M`` sales through ``commit_sale`` (so every sale writes its
outbox event in its own transaction) and ``kiosk sync``, the agent. The hub is
``W`` ``hub ingest`` worker processes sharing the uplink. The run ends when the
hub has booked every event, then checks the hub's totals against the sum of
the kiosks' totals, to the fen.

Two phases, timed separately: ``sell`` (the kiosks fill their outboxes while the
agents are not running: a backlog, as after a day offline) and ``drain`` (agents
start; the clock stops when the hub has every event).

``secured`` runs on the configuration shops run (:class:`SecuredBroker`): Mosquitto
with the ``mosquitto.conf``, password file and ACL that ``hub broker-config`` and
``hub device add`` write (no anonymous login, each terminal writes only under its own
prefix), each kiosk registered in the hub's device registry with its own password,
the hub's workers signing in as ``hub`` and checking each terminal's store against the
registry; with ``tls`` every connection goes over TLS with the hub's own CA.
"""

import datetime as dt
import getpass
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from peewee import fn

from hub.db.schema import open_hub_database
from hub.fleet.broker_config import HUB_USER, BrokerLayout, write_broker_files
from hub.fleet.devices import DeviceRegistry, new_password
from hub.fleet.provision import BrokerFiles
from hub.ingest.models import Event, Sale
from kiosk.devtools.broker import MosquittoBroker
from kiosk.devtools.ports import free_port, wait_for_port
from kiosk.domain.cart import Cart, Product
from kiosk.store.db import open_database
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale

PYTHON = sys.executable


@dataclass(frozen=True)
class SimulationResult:
    """What a run did and how fast."""

    kiosks: int
    sales_per_kiosk: int
    workers: int
    database: str
    events: int
    sell_seconds: float
    drain_seconds: float
    events_per_second: float
    hub_sales: int
    hub_fen: int
    kiosk_fen: int
    exact: bool
    secured: str = "none"  # "password+acl" or "password+acl+tls": the broker configuration it ran on

    def as_json(self) -> str:
        """The result as one JSON line."""
        return json.dumps(asdict(self), ensure_ascii=False)


def sell(db_path: Path, device: str, sales: int) -> None:
    """Commit ``sales`` sales of 1–3 items on a kiosk database through the real store code."""

    items = [Product(f"P{i}", f"69010103700{i:02d}", f"商品{i}", f"Item {i}", 150 + 37 * i) for i in range(8)]
    open_database(db_path)
    terminal = Terminal(store="S01", device=device, boot=str(uuid.uuid4()))
    now = dt.datetime.now(dt.UTC)
    for n in range(sales):
        cart = Cart()
        for k in range(1 + n % 3):
            cart = cart.add(items[(n + k) % len(items)], 1 + k)
        commit_sale(cart, [PaymentIntent("cash", cart.total_fen)], terminal, now)


def kiosk_totals(db_path: Path) -> tuple[int, int, int]:
    """(sales, fen, events) stored on a kiosk database, read without the store's shared handle."""
    with sqlite3.connect(db_path) as conn:
        sales, fen = conn.execute("SELECT COUNT(*), COALESCE(SUM(total_fen), 0) FROM sale").fetchone()
        (events,) = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()
    return int(sales), int(fen), int(events)


def _spawn(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [PYTHON, *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **env} if env else None,
        )


class SecuredBroker:
    """A private Mosquitto on the files ``hub broker-config`` and ``hub device add`` write.

    ``hub broker-config``'s :func:`write_broker_files` writes mosquitto.conf (anonymous
    login off), the ACL and the hub's password; each device is registered as
    ``hub device add`` registers one (device registry in ``data_dir``, its own password
    through ``mosquitto_passwd``, the ACL rewritten from the registry). Mosquitto runs as
    the current user on a free loopback port (and a TLS port with the hub's CA when ``tls``).
    """

    def __init__(self, workdir: Path, tls: bool = False) -> None:
        self.root = workdir / "secured-broker"
        self.data_dir = workdir / "hub-data"
        self.tls = tls
        self.layout = BrokerLayout(
            broker_dir=self.root / "etc",
            data_dir=self.root / "data",
            port=None if tls else free_port(),
            bind="127.0.0.1",
            tls_port=free_port() if tls else None,
            run_as=getpass.getuser(),
            log_dest="stderr",
        )
        self.hub_password = secrets.token_urlsafe(24)
        self.passwords: dict[str, str] = {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        """The port terminals and workers connect to (the TLS one when ``tls``)."""
        port = self.layout.tls_port if self.tls else self.layout.port
        assert port is not None
        return port

    @property
    def ca_file(self) -> Path | None:
        """The hub's CA certificate, for TLS."""
        return self.layout.tls_dir / "ca.pem" if self.tls else None

    def start(self, devices: list[str], store: str = "S01") -> "SecuredBroker":
        """Write the files, register ``devices`` in ``store``, start Mosquitto, wait for its port."""
        self.layout.data_dir.mkdir(parents=True, exist_ok=True)
        write_broker_files(self.layout, ["localhost", "127.0.0.1"], self.hub_password)
        registry = DeviceRegistry(self.data_dir)
        files = BrokerFiles(self.layout.broker_dir)
        now = dt.datetime.now(dt.UTC)
        for device in devices:
            registry.add(store, f"simulated {device}", now, device)
            self.passwords[device] = new_password()
            files.set_password(device, self.passwords[device])
        files.write_acl(registry.active())
        registry.save()
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        with (self.root / "mosquitto.log").open("ab") as log:
            self.process = subprocess.Popen(
                [binary, "-c", str(self.layout.broker_dir / "mosquitto.conf")],
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        """Stop Mosquitto."""
        if self.process is not None:
            _stop([self.process])
            self.process = None

    def tls_args(self) -> list[str]:
        """``--ca-file`` for `hub ingest` and `kiosk sync` when on TLS."""
        return ["--ca-file", str(self.ca_file)] if self.ca_file else []

    def worker_args(self) -> tuple[list[str], dict[str, str]]:
        """`hub ingest` options and environment: the hub's login, the registry deciding stores."""
        args = ["--mqtt-host", "localhost" if self.tls else "127.0.0.1", "--mqtt-user", HUB_USER,
                "--data-dir", str(self.data_dir), *self.tls_args()]  # fmt: skip
        return args, {"HUB_MQTT_PASSWORD": self.hub_password}

    def agent_args(self, device: str) -> tuple[list[str], dict[str, str]]:
        """`kiosk sync` options and environment for ``device``: its own login."""
        args = ["--broker-host", "localhost" if self.tls else "127.0.0.1", "--username", device,
                *self.tls_args()]  # fmt: skip
        return args, {"KIOSK_MQTT_PASSWORD": self.passwords[device]}


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _hub_counts() -> tuple[int, int, int]:

    sales, fen = Sale.select(fn.COUNT(Sale.id), fn.COALESCE(fn.SUM(Sale.total_fen), 0)).scalar(as_tuple=True)
    return int(sales), int(fen), Event.select().count()


def prepare(workdir: Path, kiosks: int, sales: int, timeout: float = 600.0) -> list[tuple[str, Path]]:
    """Fill ``kiosks`` outboxes with ``sales`` sales each, tills in parallel; return (device, db) pairs."""
    workdir.mkdir(parents=True, exist_ok=True)
    devices = [f"sim{i:03d}-{uuid.uuid4().hex[:6]}" for i in range(kiosks)]
    pairs = [(d, workdir / f"{d}.db") for d in devices]
    tills = [
        _spawn(["-m", "hub.devtools.simulate", "sell", str(db), d, str(sales)], workdir / f"{d}.log")
        for d, db in pairs
    ]
    for till in tills:
        if till.wait(timeout=timeout) != 0:
            raise RuntimeError(f"a simulated till failed; see {workdir}")
    return pairs


def drain(
    workdir: Path,
    pairs: list[tuple[str, Path]],
    workers: int,
    db_url: str,
    mqtt_port: int,
    batch_size: int = 50,
    timeout: float = 300.0,
    secured: SecuredBroker | None = None,
) -> tuple[float, float]:
    """Start the hub workers, then every kiosk's agent; return seconds until the hub has every event.

    Also returns the seconds from the first event booked to the last (the steady rate, without
    the agents' process start-up).
    """

    open_hub_database(db_url)
    before = _hub_counts()[2]
    expected = sum(kiosk_totals(db)[2] for _, db in pairs) + before
    processes: list[subprocess.Popen[bytes]] = []
    try:
        login, login_env = secured.worker_args() if secured else ([], {})
        processes += [
            _spawn(["-m", "hub.cli", "ingest", "--db", db_url, "--mqtt-port", str(mqtt_port),
                    "--worker", f"sim-{uuid.uuid4().hex[:6]}", *login],
                   workdir / f"worker-{w}.log", login_env)
            for w in range(workers)
        ]  # fmt: skip
        time.sleep(0.5)  # let the workers subscribe before the first batch (they would get it later anyway)
        agent = ["--broker-port", str(mqtt_port), "--batch-size", str(batch_size), "--linger-ms", "50"]
        started = time.monotonic()
        for d, db in pairs:
            own, own_env = secured.agent_args(d) if secured else ([], {})
            processes.append(
                _spawn(["-m", "kiosk.cli", "sync", "--db", str(db), "--device", d, *agent, *own],
                       workdir / f"{d}.log", own_env)
            )  # fmt: skip
        first: float | None = None
        while (booked := _hub_counts()[2]) < expected:
            if first is None and booked > before:
                first = time.monotonic()
            if time.monotonic() > started + timeout:
                raise TimeoutError(f"hub booked {booked} of {expected} events within {timeout} s")
            time.sleep(0.01)
        done = time.monotonic()
        return done - started, done - (first or started)
    finally:
        _stop(processes)


def run(
    workdir: Path,
    kiosks: int,
    sales: int,
    workers: int = 1,
    db_url: str | None = None,
    mqtt_port: int | None = None,
    batch_size: int = 50,
    timeout: float = 300.0,
    secured: bool = False,
    tls: bool = False,
) -> SimulationResult:
    """Run a simulation in ``workdir``; start a private Mosquitto unless ``mqtt_port`` is given.

    ``secured`` (or ``tls``): a private Mosquitto on the generated secure configuration instead
    (:class:`SecuredBroker`; not with ``mqtt_port``).
    """
    if (secured or tls) and mqtt_port is not None:
        raise ValueError("--secured starts its own broker: leave out --mqtt-port / --secured 自带消息服务器")
    workdir.mkdir(parents=True, exist_ok=True)
    db_url = db_url or f"sqlite:///{workdir / 'hub.db'}"
    open_hub_database(db_url)
    broker: MosquittoBroker | SecuredBroker | None = None
    guarded = None
    try:
        started = time.monotonic()
        pairs = prepare(workdir, kiosks, sales, timeout)
        sell_seconds = time.monotonic() - started
        if secured or tls:
            broker = guarded = SecuredBroker(workdir, tls=tls).start([d for d, _ in pairs])
            mqtt_port = guarded.port
        elif mqtt_port is None:
            broker = MosquittoBroker(workdir / "broker").start()
            mqtt_port = broker.port
        assert mqtt_port is not None
        drain_seconds, _steady = drain(
            workdir, pairs, workers, db_url, mqtt_port, batch_size, timeout, secured=guarded
        )
    finally:
        if broker is not None:
            broker.stop()
    hub_sales, hub_fen, hub_events = _hub_counts()
    totals = [kiosk_totals(db) for _, db in pairs]
    kiosk_fen = sum(t[1] for t in totals)
    exact = (hub_sales, hub_fen, hub_events) == (
        sum(t[0] for t in totals),
        kiosk_fen,
        sum(t[2] for t in totals),
    )
    return SimulationResult(
        kiosks=kiosks, sales_per_kiosk=sales, workers=workers, database=db_url.split(":", 1)[0],
        events=hub_events, sell_seconds=round(sell_seconds, 3), drain_seconds=round(drain_seconds, 3),
        events_per_second=round(hub_events / drain_seconds, 1), hub_sales=hub_sales, hub_fen=hub_fen,
        kiosk_fen=kiosk_fen, exact=exact,
        secured="password+acl+tls" if tls else "password+acl" if secured else "none",
    )  # fmt: skip


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "sell":
    sell(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
