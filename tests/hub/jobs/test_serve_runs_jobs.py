"""``hub serve`` runs the scheduled jobs by itself: started as the unit starts it, against a real
broker and a SQLite file, it records a run of the message sender (due every five minutes, so due
whatever the time of day) within its first check, with nobody calling ``hub jobs``.
"""

import sqlite3
import subprocess
import sys
from pathlib import Path

from kiosk.devtools.broker import MosquittoBroker
from kiosk.devtools.ports import free_port
from tests.sync.harness import wait_until


def job_runs(db: Path) -> list[tuple[str, str]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT job, status FROM job_run ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # the schema is still being created
        return []


def test_hub_serve_runs_due_jobs_without_being_asked(broker: MosquittoBroker, tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    serve = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--db", f"sqlite:///{db}", "--mqtt-port", str(broker.port),
         "--http-port", str(free_port()), "--data-dir", str(tmp_path / "data"),
         "--broker-dir", str(tmp_path / "broker")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_until(lambda: ("send_messages", "ok") in job_runs(db), timeout=60, what="the sender's first run")
    finally:
        serve.terminate()
        output = serve.communicate(timeout=30)[0]
    assert serve.returncode is not None, output
    assert ("send_messages", "ok") in job_runs(db), output
