"""``hub serve`` runs the scheduled jobs by itself: started as the unit starts it, against a real
broker and a SQLite file, it records a run of the message sender (due every five minutes, so due
whatever the time of day) within its first check, with nobody calling ``hub jobs``. It also sends
each registered terminal the often-bought-together table (retained), which ``kiosk sync`` applies.
"""

import datetime as dt
import sqlite3
import subprocess
import sys
from pathlib import Path

from hub.fleet.devices import DeviceRegistry
from kiosk.devtools.broker import MosquittoBroker
from kiosk.devtools.ports import free_port
from kiosk.store import together
from tests.sync.harness import AgentThread, wait_until


def job_runs(db: Path) -> list[tuple[str, str]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT job, status FROM job_run ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # the schema is still being created
        return []


def test_hub_serve_runs_due_jobs_without_being_asked(
    broker: MosquittoBroker,
    tmp_path: Path,
    kiosk_db,  # type: ignore[no-untyped-def]
) -> None:
    db = tmp_path / "hub.db"
    registry = DeviceRegistry(tmp_path / "data")
    registry.add("S01", "Front till", dt.datetime.now(dt.UTC), device_id="KS9")
    registry.save()
    serve = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--db", f"sqlite:///{db}", "--mqtt-port", str(broker.port),
         "--http-port", str(free_port()), "--data-dir", str(tmp_path / "data"),
         "--broker-dir", str(tmp_path / "broker")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_until(lambda: ("send_messages", "ok") in job_runs(db), timeout=60, what="the sender's first run")
        agent = AgentThread(broker.port, device="KS9")  # the table is retained: sent at serve's start
        try:
            wait_until(lambda: together.table_version() == 1, timeout=30, what="together table 1 applied")
        finally:
            agent.close()
    finally:
        serve.terminate()
        output = serve.communicate(timeout=30)[0]
    assert serve.returncode is not None, output
    assert ("send_messages", "ok") in job_runs(db), output
