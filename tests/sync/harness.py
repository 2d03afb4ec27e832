"""Shared pieces of the end-to-end sync tests: processes, polling, totals on both sides."""

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from peewee import fn

from hub.ingest.models import Event, Sale
from kiosk.domain.cart import Cart, Product
from kiosk.store import models as kiosk_models
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.sync.agent import AgentSettings, BrokerSettings, Clock, OutboxAgent, system_clock

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
TEA = Product("T1", "6901010370005", "绿茶", "Green tea", 300)
FAST = AgentSettings(
    batch_size=20, batch_linger=0.02, resend_after=1.0, max_backoff=2.0, heartbeat_interval=1.0
)


def wait_until(check: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    """Poll ``check`` every 20 ms until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what} not reached within {timeout} s")


def spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``python -m ...`` from the repository root, output appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )


def kill9(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL ``process`` (no clean-up runs) and reap it."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM ``process`` and reap it (SIGKILL after 10 s)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill9(process)


def sync_agent_cmd(db: Path, port: int, device: str = "K01", *extra: str) -> list[str]:
    """The ``kiosk sync`` command line for a subprocess agent with test-speed timings."""
    return ["-m", "kiosk.cli", "sync", "--db", str(db), "--device", device, "--broker-port", str(port),
            "--linger-ms", "20", "--resend-after", "1", "--heartbeat", "1", *extra]  # fmt: skip


def hub_worker_cmd(db_url: str, port: int, worker: str, *extra: str) -> list[str]:
    """The ``hub ingest`` command line for a subprocess worker."""
    return ["-m", "hub.cli", "ingest", "--db", db_url, "--mqtt-port", str(port), "--worker", worker, *extra]


def sell(count: int, now: dt.datetime | None = None, device: str = "K01", quantity: int = 2) -> int:
    """Commit ``count`` sales of tea on the open kiosk database; return the fen sold."""
    terminal = Terminal(store="S01", device=device, boot="boot-test")
    when = now or dt.datetime.now(TZ)
    for _ in range(count):
        commit_sale(Cart().add(TEA, quantity), [PaymentIntent("cash", 300 * quantity)], terminal, when)
    return count * 300 * quantity


def kiosk_unsent() -> int:
    """Outbox events not yet acked (rejected ones included: they are not delivered)."""
    return kiosk_models.Outbox.select().where(kiosk_models.Outbox.sent_at.is_null()).count()


def kiosk_totals() -> tuple[int, int]:
    """(sales, fen) the terminal sold."""
    sale = kiosk_models.Sale
    row = sale.select(fn.COUNT(sale.id), fn.SUM(sale.total_fen)).scalar(as_tuple=True)
    return int(row[0]), int(row[1] or 0)


def hub_totals() -> tuple[int, int, int]:
    """(sales, fen, events) the hub booked."""
    sales, fen = Sale.select(fn.COUNT(Sale.id), fn.SUM(Sale.total_fen)).scalar(as_tuple=True)
    return int(sales), int(fen or 0), Event.select().count()


class AgentThread:
    """An in-process :class:`OutboxAgent` on its own thread."""

    def __init__(
        self, port: int, device: str = "K01", settings: AgentSettings = FAST, clock: Clock = system_clock
    ) -> None:
        self.agent = OutboxAgent(device, BrokerSettings(port=port), settings, clock=clock)
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self.agent.run, args=(self.halt,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop the agent and wait for its thread."""
        self.halt.set()
        self.thread.join(timeout=10)
