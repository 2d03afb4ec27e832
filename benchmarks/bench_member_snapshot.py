"""A new kiosk's member snapshot: members imported at the hub, fetched over HTTP, applied to SQLite.

For each size: a fresh hub database gets N members with ``hub member import`` (the real CSV import,
encryption and member versions included), the hub serves its HTTP API (uvicorn) and an ingest worker
runs on a private Mosquitto; a kiosk agent with an empty database then takes its first snapshot.
Measured: the import, the snapshot end to end (agent start to last page applied), and the pages
alone (HTTP fetch without applying) to split the time between hub and terminal.

Prints one JSON object. ``python benchmarks/bench_member_snapshot.py [--members 2000 20000]``
"""

import argparse
import base64
import json
import os
import platform
import tempfile
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import uvicorn
from click.testing import CliRunner

from hub.api.member_snapshot import DeviceAuth
from hub.cli import main as hub_main
from hub.db.schema import open_hub_database
from hub.fleet.broker_config import password_line
from hub.ingest.worker import HubIngestor
from hub.web.app import create_app
from kiosk.devtools.broker import MosquittoBroker
from kiosk.devtools.ports import free_port, wait_for_port
from kiosk.store import open_database
from kiosk.store.connection import database
from kiosk.store.members import hub_copy
from kiosk.sync.agent import AgentSettings, BrokerSettings, OutboxAgent
from kiosk.sync.members import HubEndpoint

TZ = ZoneInfo("Asia/Shanghai")
KEY = bytes(range(32))
PASSWORD = "bench-device-password-0123"


def import_members(work: Path, db_url: str, count: int) -> float:
    """``hub member import`` of ``count`` members; return the seconds it took."""
    csv_file = work / "members.csv"
    rows = [f"+86138{n:08d},会员{n},1990-01-{n % 28 + 1:02d}" for n in range(count)]
    csv_file.write_text("phone,name,birthday\n" + "\n".join(rows) + "\n", encoding="utf-8")
    key_file = work / "business.key"
    key_file.write_text(base64.b64encode(KEY).decode())
    started = time.perf_counter()
    args = ["member", "import", str(csv_file), "--db", db_url, "--key-file", str(key_file)]
    result = CliRunner().invoke(hub_main, args, catch_exceptions=False)
    assert result.exit_code == 0 and f"imported {count} members" in result.output, result.output
    return time.perf_counter() - started


def snapshot(work: Path, broker: MosquittoBroker, url: str, count: int) -> float:
    """Seconds from a new agent's start to its snapshot of ``count`` members being applied."""
    open_database(work / "kiosk.db")
    endpoint = HubEndpoint(url, "KB", PASSWORD)
    agent = OutboxAgent("KB", BrokerSettings(port=broker.port), AgentSettings(), hub=endpoint)
    halt = threading.Event()
    started = time.perf_counter()
    thread = threading.Thread(target=agent.run, args=(halt,), daemon=True)
    thread.start()
    while agent.members.snapshots == 0:
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    halt.set()
    thread.join(timeout=10)
    assert hub_copy.position() == hub_copy.FeedPosition(count, True)
    database.close()
    return elapsed


def pages_only(url: str) -> float:
    """Seconds to fetch every page without applying it (the hub's and HTTP's share)."""
    endpoint = HubEndpoint(url, "KB", PASSWORD)
    started, after = time.perf_counter(), ""
    while True:
        page = endpoint.fetch_page(after)
        if not page["next"]:
            return time.perf_counter() - started
        after = page["next"]


def run(count: int) -> dict[str, object]:
    """One size, on a fresh broker, hub database and kiosk database."""
    with tempfile.TemporaryDirectory(prefix="bench-members-") as tmp:
        work = Path(tmp)
        db_url = f"sqlite:///{work / 'hub.db'}"
        imported = import_members(work, db_url, count)
        open_hub_database(db_url)
        (work / "passwd").write_text(password_line("KB", PASSWORD) + "\n")
        with MosquittoBroker(work / "broker") as broker:
            ingestor = HubIngestor("127.0.0.1", broker.port, TZ, worker="bench")
            ingestor.start()
            port = free_port()
            app = create_app(TZ, device_auth=DeviceAuth(work / "passwd"))
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
            threading.Thread(target=server.run, daemon=True).start()
            wait_for_port(port)
            url = f"http://127.0.0.1:{port}"
            try:
                total = snapshot(work, broker, url, count)
                fetch = pages_only(url)
            finally:
                server.should_exit = True
                ingestor.stop()
        kiosk_bytes = sum(f.stat().st_size for f in work.glob("kiosk.db*"))  # with its WAL
    return {
        "members": count,
        "import_s": round(imported, 2),
        "snapshot_s": round(total, 2),
        "members_per_s": round(count / total),
        "pages_only_s": round(fetch, 2),
        "kiosk_db_mb": round(kiosk_bytes / 1e6, 1),
    }


def main() -> None:
    """Run every size and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, nargs="+", default=[2000, 20000])
    sizes = parser.parse_args().members
    results = [run(count) for count in sizes]
    machine = {"cpus": os.cpu_count(), "load_avg": os.getloadavg(), "python": platform.python_version()}
    print(json.dumps({"hub_db": "sqlite", "page_size": 1000, "runs": results, **machine}, indent=2))


if __name__ == "__main__":
    main()
