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
"""

import datetime as dt
import json
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from peewee import fn

from hub.db.schema import open_hub_database
from hub.ingest.models import Event, Sale
from kiosk.devtools.broker import MosquittoBroker
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


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [PYTHON, *args], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )


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
    devices = [f"SIM{i:03d}-{uuid.uuid4().hex[:6]}" for i in range(kiosks)]
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
        processes += [
            _spawn(["-m", "hub.cli", "ingest", "--db", db_url, "--mqtt-port", str(mqtt_port),
                    "--worker", f"sim-{uuid.uuid4().hex[:6]}"], workdir / f"worker-{w}.log")
            for w in range(workers)
        ]  # fmt: skip
        time.sleep(0.5)  # let the workers subscribe before the first batch (they would get it later anyway)
        agent = ["--broker-port", str(mqtt_port), "--batch-size", str(batch_size), "--linger-ms", "50"]
        started = time.monotonic()
        processes += [
            _spawn(["-m", "kiosk.cli", "sync", "--db", str(db), "--device", d, *agent], workdir / f"{d}.log")
            for d, db in pairs
        ]
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
) -> SimulationResult:
    """Run a simulation in ``workdir``; start a private Mosquitto unless ``mqtt_port`` is given."""

    workdir.mkdir(parents=True, exist_ok=True)
    db_url = db_url or f"sqlite:///{workdir / 'hub.db'}"
    open_hub_database(db_url)
    broker = None
    if mqtt_port is None:
        broker = MosquittoBroker(workdir / "broker").start()
        mqtt_port = broker.port
    try:
        started = time.monotonic()
        pairs = prepare(workdir, kiosks, sales, timeout)
        sell_seconds = time.monotonic() - started
        drain_seconds, _steady = drain(workdir, pairs, workers, db_url, mqtt_port, batch_size, timeout)
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
    )  # fmt: skip


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "sell":
    sell(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
