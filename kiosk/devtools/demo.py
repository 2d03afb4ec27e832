"""``make demo``: the whole system on embedded defaults.

Starts a private Mosquitto on a free port, the hub (SQLite, dashboard on a
printed URL), the kiosk's sync agent and the kiosk app with simulated
hardware. Without a display it runs the app under its own Xvfb with a
scripted shopper, saves screenshots, checks the sale reached the hub, and
exits 0. With a display it opens the window and runs until it is closed.
"""

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from hub.fleet.receipt_keys import device_receipt_key_text
from kiosk.devtools import browser
from kiosk.devtools.broker import MosquittoBroker
from kiosk.devtools.ports import free_port, wait_for_port
from kiosk.devtools.xvfb import Xvfb
from kiosk.store.demo_catalog import demo_products

ROOT = Path(__file__).resolve().parents[2]  # the checkout: var/ and build/ are ignored there
STORE, DEVICE = "S01", "K01"


def _spawn(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, *args], stdout=handle, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL
    )


def _owner_and_token(hub_url: str, log: Path) -> tuple[str, str]:
    """An owner account with a fresh random password, and a read-only API token for the demo's check.

    Made with the real ``hub user add`` and ``hub token add``: the hub has no default password, so
    the demo makes one for this run and prints it (the dashboard asks for it).
    """
    password = secrets.token_urlsafe(12)
    env = {**os.environ, "HUB_PASSWORD": password}
    with log.open("ab") as handle:
        subprocess.run(
            [sys.executable, "-m", "hub.cli", "user", "add", "owner", "--role", "owner", "--db", hub_url],
            env=env, stdout=handle, stderr=subprocess.STDOUT, check=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        token = subprocess.run(
            [sys.executable, "-m", "hub.cli", "token", "add", "demo-check", "--scope", "reports:read",
             "--db", hub_url],
            stdout=subprocess.PIPE, stderr=handle, check=True, text=True, stdin=subprocess.DEVNULL,
        ).stdout.strip()  # fmt: skip
    return password, token


def _summary(http_port: int, token: str) -> dict[str, int]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{http_port}/api/summary", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        return json.loads(reply.read())


def _wait_for_sales(http_port: int, token: str, count: int, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    summary = _summary(http_port, token)
    while summary["sales"] < count and time.monotonic() < deadline:
        time.sleep(0.3)
        summary = _summary(http_port, token)
    return summary


def _scripted_shopper(workdir: Path, shots: Path, kiosk_cmd: list[str], log: Path) -> dict[str, object]:
    products = demo_products()
    script = {
        "barcodes": [products[0]["barcode"], products[20]["barcode"], products[0]["barcode"]],
        "bad_barcodes": ["6901234567892"],
        "screenshots": str(shots),
        "report": str(workdir / "shopper.json"),
    }
    (workdir / "script.json").write_text(json.dumps(script))
    with Xvfb() as display:
        env = {**os.environ, "DISPLAY": display.display}
        app = _spawn([*kiosk_cmd, "--script", str(workdir / "script.json")], log, env)
        if app.wait(timeout=120) != 0:
            raise SystemExit(f"demo: the kiosk app failed, see {log}")
    return json.loads((workdir / "shopper.json").read_text())


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "demo")
    # an ignored folder: `make demo` leaves the tracked tree as it was; the screenshots in docs/
    # change only when someone means it (`--screenshots docs/screenshots`)
    parser.add_argument("--screenshots", type=Path, default=ROOT / "build" / "demo-screenshots")
    parser.add_argument("--headless", action="store_true", help="Scripted shopper even with a display.")
    args = parser.parse_args(argv)
    headless = args.headless or not os.environ.get("DISPLAY")

    workdir: Path = args.workdir
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    log = workdir / "demo.log"
    kiosk_db, hub_db = workdir / "kiosk.db", workdir / "hub.db"
    http_port = free_port()
    processes: list[subprocess.Popen[bytes]] = []
    hub_url = f"sqlite:///{hub_db}"
    password, token = _owner_and_token(hub_url, log)
    with MosquittoBroker(workdir / "broker") as broker:
        try:
            processes.append(
                _spawn(
                    ["-m", "hub.cli", "serve", "--db", hub_url, "--data-dir", str(workdir / "hub"),
                     "--mqtt-port", str(broker.port), "--http-port", str(http_port)],
                    log,
                )
            )  # fmt: skip
            wait_for_port(http_port, timeout=30)
            print(f"demo: broker on 127.0.0.1:{broker.port}")
            print(f"demo: hub dashboard on http://127.0.0.1:{http_port}/ (sign in: owner / {password})")
            processes.append(
                _spawn(
                    ["-m", "kiosk.cli", "sync", "--db", str(kiosk_db), "--device", DEVICE,
                     "--broker-port", str(broker.port)],
                    log,
                )
            )  # fmt: skip
            kiosk_cmd = ["-m", "kiosk.cli", "run", "--db", str(kiosk_db), "--demo",
                         "--store", STORE, "--device", DEVICE]  # fmt: skip
            # the receipt QR's link: signed with the key `hub device add` would give this terminal
            os.environ["KIOSK_HUB_URL"] = f"http://127.0.0.1:{http_port}"
            os.environ["KIOSK_RECEIPT_KEY"] = device_receipt_key_text(workdir / "hub", DEVICE)
            if not headless:
                print("demo: kiosk window open; close it to stop the demo")
                _spawn(kiosk_cmd, log).wait()
                return 0
            # the demo shopper's own screens go beside, not over, the full set the window tests keep
            report = _scripted_shopper(workdir, args.screenshots / "demo", kiosk_cmd, log)
            summary = _wait_for_sales(http_port, token, 1, timeout=30)
            # a browser from the command line cannot sign in: it sees what a stranger sees, the login
            # page (the signed-in pages are screenshotted by the hub's stories, docs/screenshots/)
            url = f"http://127.0.0.1:{http_port}/"
            browser.screenshot(url, args.screenshots / "hub-login-zh.png")
            browser.screenshot(url + "?lang=en", args.screenshots / "hub-login-en.png")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=10)
    print(f"demo: shopper bought {report['screens']['cart']['rows']}")  # type: ignore[index]
    print(f"demo: receipt {report.get('receipt_no')}, paid {report['screens']['pay']['total']}")  # type: ignore[index]
    print(f"demo: hub sees today: {summary['sales']} sale(s), {summary['total_fen']} fen")
    print(f"demo: screenshots in {args.screenshots / 'demo'} (kiosk) and {args.screenshots} (hub)")
    if summary["sales"] < 1 or report.get("errors"):
        print(f"demo: FAILED, the sale did not reach the hub; see {log}", file=sys.stderr)
        return 1
    print("demo: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
