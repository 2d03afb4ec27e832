#!/usr/bin/env python3
"""Boot the built image in qemu-system-aarch64 and check the terminal does its job (``make image-test``).

1. Copies the newest ``image/out/*.img.xz`` to a scratch image with 512 MiB of
   free space after the data partition (so first boot has something to grow).
2. Starts a private Mosquitto on the host with a registered device, loads one
   product into a fresh hub database and publishes it (retained) to the device,
   then starts ``hub serve``. Writes the device's kiosk.toml into the image
   with the ``hub device write --image`` code, naming QEMU's USB keyboard as
   the scanner and ``/boot/firmware/logo.png`` (written beside it) as the logo.
3. Boots it with ``-M virt -cpu cortex-a72``, a virtio GPU at 800x480, a USB
   keyboard, the journal forwarded to the serial console
   (``build/boot-test/serial.log``) and QEMU's monitor on a UNIX socket.
4. Passes when all of these hold, in order:
   - first boot installed the file;
   - ``kiosk.service`` reported READY (sd_notify) and was not restarted for
     the next ``--stable`` seconds (60);
   - the monitor's ``screendump`` is the idle screen (compared with the Xvfb
     screenshot ``docs/screenshots/kiosk-idle-zh.png``), and the logo was readable;
   - the sync agent's status reached the broker and the hub's fleet API says online;
   - a barcode typed with ``sendkey`` on the USB keyboard opens the cart with
     the product (screen dump compared with ``kiosk-cart-zh.png``), and the
     cart, left alone, reaches the hub as a ``cart.abandoned`` event with that
     product's line: scanner → app → outbox → MQTT → hub;
   - a paid sale: the product scanned again, the Pay button tapped with QEMU's
     ``usb-tablet`` (QMP ``input-send-event``, as a finger on the touchscreen),
     the pay screen shown (``kiosk-pay-zh.png``), a WeChat payment code typed on
     the scanner and charged by the payment gateway simulator on the host
     (kiosk.toml's ``[payments] gateway_url``); the hub books exactly that sale:
     total, its one line, the wallet payment with the gateway's transaction id.
   Timings go to ``build/boot-test/timings.json``. Slow (minutes): never part of ``make test``.
"""

from __future__ import annotations

import argparse
import io
import json
import lzma
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "image"))

from boot_update import release_wheels, wait_for_terminal  # noqa: E402
from bootwatch import CART_PAY, Monitor, Pointer, SerialLog, cart_problem, centre, idle_problem, pay_problem  # noqa: E402

from hub.fleet.broker_config import BrokerLayout, render_conf  # noqa: E402
from hub.fleet.devices import DeviceRecord, new_password  # noqa: E402
from hub.fleet.provision import (  # noqa: E402
    BrokerFiles,
    business_key,
    find_boot_partition,
    kiosk_config_for,
    render,
    write_to_image,
)
from kiosk.config import HardwareConfig, KioskConfig  # noqa: E402
from kiosk.payments.gateway_sim import PaymentGatewaySimulator  # noqa: E402

WORK = REPO / "build/boot-test"
SCREENSHOTS = REPO / "docs/screenshots"
# What QEMU's usb-kbd calls itself to evdev; kiosk.toml names the scanner by it.
QEMU_KEYBOARD = "QEMU QEMU USB Keyboard"
# How long a screen may take to appear in the dump (llvmpipe under TCG on a loaded host).
SCREEN_WAIT_S = 240
LOGO = "/boot/firmware/logo.png"
PRODUCT = {
    "sku": "BOOT-001",
    "barcode": "6901234567892",
    "name_zh": "启动测试矿泉水",
    "name_en": "Boot test water",
    "price_fen": 250,
}
# A WeChat Pay payment code (18 digits, 10-15 first): the simulator approves any code not ending 91-93.
PAYMENT_CODE = "134567890123456780"


def newest_image() -> Path:
    """The most recent .img.xz in image/out."""
    images = sorted((REPO / "image/out").glob("*.img.xz"), key=lambda p: p.stat().st_mtime)
    if not images:
        sys.exit("image-test: no image in image/out; run `make image` first / 请先构建镜像")
    return images[-1]


def scratch_image(source: Path) -> Path:
    """Copy (or decompress) ``source`` and add 512 MiB at the end for the data partition to grow into."""
    target = WORK / "boot-test.img"
    if source.suffix == ".xz":
        with lzma.open(source) as packed, open(target, "wb") as out:
            shutil.copyfileobj(packed, out, 1 << 20)
    else:
        subprocess.run(["cp", "--sparse=always", str(source), str(target)], check=True)
    with open(target, "r+b") as handle:
        handle.truncate(target.stat().st_size + 512 * 1024 * 1024)
    return target


def extract_boot_files(image: Path) -> tuple[Path, Path]:
    """Copy vmlinuz-* and initrd.img-* out of the boot partition with mtools."""
    offset = find_boot_partition(image)
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    listing = subprocess.run(
        ["mdir", "-b", "-i", f"{image}@@{offset}", "::"], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    found = {}
    for name in listing:
        base = name.removeprefix("::/")
        for prefix in ("vmlinuz-", "initrd.img-"):
            if base.startswith(prefix):
                found[prefix] = WORK / base
                subprocess.run(
                    ["mcopy", "-o", "-n", "-i", f"{image}@@{offset}", f"::{base}", str(found[prefix])],
                    env=env,
                    check=True,
                )
    return found["vmlinuz-"], found["initrd.img-"]


# Drop-ins written into the scratch copy only (never the image): QEMU's TCG emulation runs the
# terminal 10-50 times slower than a Pi 4, and more on a loaded build machine, where the app's
# first start took over 120 s (its TimeoutStartSec) and the sync agent's over 90 s (the default).
SLOW_EMULATION = """# image/boot_test.py: QEMU TCG is far slower than a Pi 4 (the image's unit is unchanged).
[Service]
TimeoutStartSec=900
WatchdogSec=120
"""
SLOW_UPDATE = """# image/boot_test.py: under QEMU TCG a restarted app takes minutes to report ready.
[Service]
ExecStart=
ExecStart=/opt/kiosk/bin/kiosk update apply --health-timeout 900
"""


def root_partition_offset(image: Path) -> int:
    """Byte offset of the root file system (the second partition)."""
    table = json.loads(
        subprocess.run(["sfdisk", "--json", str(image)], capture_output=True, check=True).stdout
    )
    partitions = table["partitiontable"]["partitions"]
    return int(partitions[1]["start"]) * int(table["partitiontable"].get("sectorsize", 512))


def add_dropins(image: Path, dropins: dict[str, str]) -> None:
    """Write systemd drop-ins (unit -> text) into the image's root file system with debugfs."""
    target = f"{image}?offset={root_partition_offset(image)}"
    commands = []
    for unit, text in dropins.items():
        local = WORK / f"{unit}.boot-test.conf"
        local.write_text(text)
        folder = f"/etc/systemd/system/{unit}.d"
        commands += [f"mkdir {folder}", f"write {local} {folder}/boot-test.conf"]
    script = WORK / "debugfs.cmd"
    script.write_text("\n".join(commands) + "\n")
    subprocess.run(["debugfs", "-w", "-f", str(script), target], capture_output=True, check=True)
    for unit, text in dropins.items():
        path = f"/etc/systemd/system/{unit}.d/boot-test.conf"
        argv = ["debugfs", "-R", f"cat {path}", target]
        if subprocess.run(argv, capture_output=True, text=True, check=True).stdout != text:
            raise RuntimeError(f"debugfs did not write {path}")


def free_port() -> int:
    """An unused TCP port on the host."""
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


def logo_png() -> bytes:
    """A small PNG logo (an orange disc) for the card's boot partition."""
    image = Image.new("RGBA", (96, 96), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((4, 4, 92, 92), fill=(196, 64, 18, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def provisioning_file(device: DeviceRecord, password: str, port: int, gateway_port: int) -> bytes:
    """The device's kiosk.toml: the hub's, plus the USB keyboard as scanner, the logo and the
    payment gateway simulator on the host (QEMU's user network: the host's loopback is 10.0.2.2)."""
    config: KioskConfig = kiosk_config_for(
        device,
        encryption_key=business_key(WORK / "hub"),
        password=password,
        store_name="Boot test",
        broker_host="10.0.2.2",
        broker_port=port,
        gateway_url=f"http://10.0.2.2:{gateway_port}",  # as `hub device add --gateway-url` writes it
    )
    config = config.model_copy(
        update={
            "store": config.store.model_copy(update={"logo": LOGO}),
            "hardware": HardwareConfig(scanner=QEMU_KEYBOARD),
        }
    )
    return render(config)


def start_broker(base: Path, port: int, device: DeviceRecord, password: str, hub_password: str) -> Path:
    """A Mosquitto config on all interfaces (qemu's user network reaches the host as 10.0.2.2)."""
    os.chmod(base, 0o755)
    files = BrokerFiles(base / "broker")
    files.set_password(device.id, password)
    files.set_password("hub", hub_password)
    files.write_acl([device])
    (base / "persist").mkdir()
    shutil.chown(base / "persist", user="mosquitto")
    conf = base / "mosquitto.conf"
    layout = BrokerLayout(
        broker_dir=files.directory, data_dir=base / "persist", port=port, tls_port=None, log_dest="stderr"
    )
    conf.write_text(render_conf(layout))
    return conf


def hub_command(*args: str, hub_password: str) -> None:
    """Run one ``hub`` command on the test's hub database; its output goes to hub.log."""
    env = {**os.environ, "HUB_MQTT_PASSWORD": hub_password}
    with (WORK / "hub.log").open("ab") as log:
        subprocess.run(
            [sys.executable, "-m", "hub.cli", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            check=True,
        )


def publish_catalog(port: int, device_id: str, hub_password: str) -> None:
    """One product in the hub's catalog, published retained to the device before it boots."""
    products = WORK / "products.json"
    products.write_text(json.dumps([PRODUCT], ensure_ascii=False))
    db = f"sqlite:///{WORK / 'hub.db'}"
    hub_command("catalog", "load", str(products), "--db", db, hub_password=hub_password)
    hub_command(
        "config", "publish", "--db", db, "--device", device_id, "--mqtt-port", str(port),
        "--mqtt-user", "hub", hub_password=hub_password,
    )  # fmt: skip


def wait_for_status(port: int, device_id: str, hub_password: str, deadline: float) -> str | None:
    """The first retained status payload of the device, or None by ``deadline``."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    got: list[str] = []
    arrived = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set("hub", hub_password)

    def on_message(_c, _u, message) -> None:
        got.append(message.payload.decode(errors="replace"))
        arrived.set()

    client.on_connect = lambda c, *_: c.subscribe(f"pos/{device_id}/status", qos=1)
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        arrived.wait(max(0.0, deadline - time.monotonic()))
    finally:
        client.loop_stop()
        client.disconnect()
    return got[0] if got else None


def last_status(device_id: str, port: int, hub_password: str) -> str | None:
    """The device's retained status now (its outbox depth says whether events wait to be sent)."""
    return wait_for_status(port, device_id, hub_password, time.monotonic() + 10)


def start_hub(port: int, hub_password: str, reachable: bool) -> tuple[subprocess.Popen[bytes], int]:
    """``hub serve`` on the host broker, as the hub would run beside it; returns it and its HTTP port.

    ``reachable``: on all interfaces, so the terminal downloads releases from it (as 10.0.2.2).
    """
    http_port = free_port()
    argv = [
        sys.executable, "-m", "hub.cli", "serve", "--db", f"sqlite:///{WORK / 'hub.db'}",
        "--mqtt-port", str(port), "--mqtt-user", "hub", "--http-port", str(http_port),
        "--data-dir", str(WORK / "hub"), "--http-host", "0.0.0.0" if reachable else "127.0.0.1",
    ]  # fmt: skip
    env = {**os.environ, "HUB_MQTT_PASSWORD": hub_password}
    with (WORK / "hub.log").open("ab") as log:
        hub = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    return hub, http_port


def fleet_token() -> str:
    """A read-only API token for the fleet (``hub token add``): the hub's API answers no stranger."""
    argv = [sys.executable, "-m", "hub.cli", "token", "add", "boot-test", "--scope", "fleet:read",
            "--db", f"sqlite:///{WORK / 'hub.db'}"]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()


def hub_saw_online(http_port: int, token: str, device_id: str, deadline: float) -> str | None:
    """The device's state on the hub's fleet API once it says online, or the last state by ``deadline``."""
    import urllib.request

    state = None
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{http_port}/api/fleet", headers={"Authorization": f"Bearer {token}"}
            )
            with urllib.request.urlopen(request, timeout=5) as reply:
                rows = {row["device"]: row for row in json.loads(reply.read())}
        except OSError:
            rows = {}
        state = rows.get(device_id, {}).get("state")
        if state == "online":
            return state
        time.sleep(2)
    return state


def paid_sale_at_hub(
    device_id: str, deadline: float, on_wait: Callable[[], None] = lambda: None
) -> dict[str, object] | None:
    """The device's first booked sale in the hub's database, by ``deadline``: its ``sale`` row, its
    ``sale_line`` rows, the payments of its ``sale.completed`` event and the ``sales_payment_day`` rows."""
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(WORK / "hub.db", timeout=5) as db:
                db.row_factory = sqlite3.Row
                sale = db.execute(
                    "SELECT * FROM sale WHERE device = ? ORDER BY sold_at", (device_id,)
                ).fetchone()
                if sale is not None:
                    lines = db.execute(
                        "SELECT position, sku, quantity, unit_price_fen, total_fen FROM sale_line"
                        " WHERE sale_id = ? ORDER BY position",
                        (sale["id"],),
                    ).fetchall()
                    body = db.execute("SELECT body FROM event WHERE id = ?", (sale["event_id"],)).fetchone()
                    by_method = db.execute(
                        "SELECT method, payments, amount_fen FROM sales_payment_day WHERE store = ?",
                        (sale["store"],),
                    ).fetchall()
                    event = json.loads(body[0])
                    return {
                        "sale": {k: sale[k] for k in ("total_fen", "item_count", "currency", "receipt_no")},
                        "lines": [dict(row) for row in lines],
                        "payments": event.get("data", event).get("payments"),
                        "sales_payment_day": [dict(row) for row in by_method],
                    }
        except sqlite3.Error:
            pass
        on_wait()
        time.sleep(3)
    return None


def abandoned_cart_at_hub(
    device_id: str, deadline: float, on_wait: Callable[[], None] = lambda: None
) -> dict[str, object] | None:
    """The data of the device's first ``cart.abandoned`` event in the hub's database, by ``deadline``;
    ``on_wait`` runs between looks (the test dumps the screen there)."""
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(WORK / "hub.db", timeout=5) as db:
                rows = db.execute(
                    "SELECT body FROM event WHERE device = ? AND type = 'cart.abandoned'", (device_id,)
                ).fetchall()
        except sqlite3.Error:
            rows = []
        if rows:
            body = json.loads(rows[0][0])
            return body.get("data", body)
        on_wait()
        time.sleep(3)
    return None


# Host tools the test runs, and the Debian package of each (installed when missing and root).
HOST_TOOLS = {
    "qemu-system-aarch64": "qemu-system-arm",
    "mosquitto": "mosquitto",
    "mcopy": "mtools",
    "debugfs": "e2fsprogs",
}


def ensure_host_tools() -> str | None:
    """Install missing host tools as root, like build.sh does; the problem (bilingual) if any remain."""
    missing = sorted({pkg for tool, pkg in HOST_TOOLS.items() if shutil.which(tool) is None})
    if missing and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=False, env=env)
        missing = sorted({pkg for tool, pkg in HOST_TOOLS.items() if shutil.which(tool) is None})
    if missing:
        return (
            f"image-test: missing host packages: {' '.join(missing)}; run as root or "
            f"`apt-get install {' '.join(missing)}`\n"
            f"image-test: 缺少主机软件包：{' '.join(missing)}；请以 root 运行或先安装它们"
        )
    return None


def qemu_argv(image: Path, kernel: Path, initrd: Path, serial: Path, monitor: Path) -> list[str]:
    """The emulated terminal: a virtio GPU at the kiosk's 800x480, a USB keyboard as its scanner,
    a USB tablet as its touchscreen; the human monitor at ``monitor``, QMP beside it (qmp.sock)."""
    append = (
        "root=LABEL=kiosk-root ro rootwait console=ttyAMA0 net.ifnames=0 "
        # the app's and systemd's journal lines on the serial console, without a login
        "systemd.journald.forward_to_console=1 video=Virtual-1:800x480 "
        # udev's coldplug under loaded TCG takes over systemd's 90 s for the partitions' devices (then
        # emergency mode). Device jobs time out after DefaultTimeoutStartSec: systemd 252 (bookworm)
        # has no systemd.default_device_timeout_sec= (v254) and ignored it
        "systemd.default_timeout_start_sec=600"
    )
    return [
        "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-smp", "2", "-m", "1024",
        "-kernel", str(kernel), "-initrd", str(initrd), "-append", append,
        "-drive", f"file={image},if=virtio,format=raw",
        "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0",
        "-device", "virtio-gpu-pci,xres=800,yres=480",
        "-device", "qemu-xhci", "-device", "usb-kbd", "-device", "usb-tablet",
        "-display", "none", "-serial", f"file:{serial}",
        "-monitor", f"unix:{monitor},server=on,wait=off",
        "-qmp", f"unix:{monitor.with_name('qmp.sock')},server=on,wait=off",
    ]  # fmt: skip


def main() -> int:
    """Run the boot test; exit 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=int, default=900, help="Seconds from qemu start to READY.")
    parser.add_argument(
        "--stable", type=int, default=60, help="Seconds kiosk.service must stay up after READY."
    )
    parser.add_argument("--image", type=Path, default=None, help=".img or .img.xz (default: newest)")
    parser.add_argument(
        "--update", action="store_true", help="Then update to 0.2.0 and roll back a broken 0.3.0 (slow)."
    )
    parser.add_argument(
        "--no-scan", action="store_true", help="Skip the scan, abandoned-cart and paid-sale checks."
    )
    args = parser.parse_args()
    problem = ensure_host_tools()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    image = scratch_image(args.image or newest_image())
    kernel, initrd = extract_boot_files(image)
    dropins = {"kiosk.service": SLOW_EMULATION, "kiosk-sync.service": SLOW_EMULATION}
    add_dropins(image, dropins | ({"kiosk-update.service": SLOW_UPDATE} if args.update else {}))

    port = free_port()
    device = DeviceRecord("d-b00700", "s-test", "Boot test", datetime.now(UTC).isoformat())
    password, hub_password = new_password(), new_password()
    gateway = PaymentGatewaySimulator().start()  # on the host's loopback, which the guest sees as 10.0.2.2
    gateway_port = int(gateway.url.rsplit(":", 1)[1])
    write_to_image(image, provisioning_file(device, password, port, gateway_port))
    write_to_image(image, logo_png(), name="logo.png")
    # The broker's password and ACL files live only as long as the test.
    broker_dir = Path(tempfile.mkdtemp(prefix="kiosk-boot-broker-", dir="/tmp"))
    try:
        conf = start_broker(broker_dir, port, device, password, hub_password)
        broker = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=(WORK / "mosquitto.log").open("wb"))
        try:
            time.sleep(1)
            publish_catalog(port, device.id, hub_password)
            vm = (image, kernel, initrd)
            return boot(args, vm, device, port, hub_password, gateway)
        finally:
            broker.terminate()
            broker.wait(timeout=10)
    finally:
        gateway.stop()
        shutil.rmtree(broker_dir, ignore_errors=True)


class Checks:
    """The boot test's findings, printed as they come and summed up at the end."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.timings: dict[str, float | None] = {}

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        """Record and print one check."""
        print(f"image-test: {'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}", flush=True)
        if not ok:
            self.failed.append(what)
        return ok


def boot(
    args: argparse.Namespace,
    vm: tuple[Path, Path, Path],
    device: DeviceRecord,
    port: int,
    hub_password: str,
    gateway: PaymentGatewaySimulator,
) -> int:
    """Start the hub, boot the image and run the checks; exit status of the test."""
    hub, http_port = start_hub(port, hub_password, reachable=args.update)
    serial, monitor_path = WORK / "serial.log", WORK / "monitor.sock"
    checks = Checks()
    log = SerialLog(serial)
    qemu = subprocess.Popen(
        qemu_argv(*vm, serial, monitor_path), stdout=subprocess.DEVNULL, stderr=(WORK / "qemu.log").open("wb")
    )
    try:
        monitor = Monitor(monitor_path)
        pointer = Pointer(monitor_path.with_name("qmp.sock"))
        try:
            run_checks(
                args, checks, log, (monitor, pointer), device, (port, hub_password), http_port, gateway
            )
        finally:
            pointer.close()
            monitor.close()
    finally:
        qemu.terminate()
        qemu.wait(timeout=30)
        hub.terminate()
        hub.wait(timeout=10)
        log.poll()
    timings = {name: log.at(name) for name in ("kernel", "systemd", "firstboot", "ready")} | checks.timings
    (WORK / "timings.json").write_text(json.dumps(timings, indent=2))
    print(
        "image-test: seconds after qemu started: "
        + ", ".join(f"{k} {v:.0f}" for k, v in timings.items() if v is not None)
    )
    print(f"image-test: serial log: {serial}")
    if checks.failed:
        print(f"image-test: FAILED: {'; '.join(checks.failed)}")
    return 1 if checks.failed else 0


def run_checks(
    args: argparse.Namespace,
    checks: Checks,
    log: SerialLog,
    qemu: tuple[Monitor, Pointer],
    device: DeviceRecord,
    broker: tuple[int, str],
    http_port: int,
    gateway: PaymentGatewaySimulator,
) -> None:
    """The checks in boot order; stops at the first that leaves nothing further to see."""
    (monitor, pointer), (port, hub_password) = qemu, broker
    deadline = log.started + args.timeout
    ready = wait_ready(log, deadline)
    checks.check(log.at("firstboot") is not None, "first boot installed the provisioning file")
    why = f"after {log.at('ready') or 0:.0f} s; restarts before: {len(log.restarts)}"
    if not checks.check(ready, "kiosk.service reported READY", "; ".join([why, *log.failures[-2:]])):
        return
    ready_at = log.seen["ready"]
    wait_until(log, ready_at + args.stable)
    restarts = log.restarts_since(ready_at)
    checks.check(
        restarts == 0, f"kiosk.service stayed up {args.stable} s after READY", f"{restarts} restarts"
    )
    with Image.open(SCREENSHOTS / "kiosk-idle-zh.png") as reference:
        problem = wait_for_screen(monitor, WORK / "idle.png", reference.convert("RGB"), idle_problem)
    checks.timings["idle_screen"] = time.monotonic() - log.started
    checks.check(problem is None, "the screen dump is the idle screen", problem or str(WORK / "idle.png"))
    if problem is None:
        shutil.copy(WORK / "idle.png", SCREENSHOTS / "image-idle.png")
    text = log.path.read_text(errors="replace")
    checks.check("store.logo" not in text, "the logo on /boot/firmware was readable", LOGO)
    status = wait_for_status(port, device.id, hub_password, time.monotonic() + 300)
    checks.timings["status_at_broker"] = time.monotonic() - log.started
    checks.check(status is not None, "the sync agent's status reached the broker", status or "")
    online = hub_saw_online(http_port, fleet_token(), device.id, time.monotonic() + 60)
    checks.timings["online_at_hub"] = time.monotonic() - log.started
    checks.check(online == "online", "the hub's fleet page shows the device online", repr(online))
    if not args.no_scan:
        # The paid sale first: it is the proof that matters most, and the slow abandoned-cart
        # timeout (90 s + the countdown) then runs after it.
        time.sleep(10)  # the UI polls the database for the catalog the agent wrote
        scan_and_pay(checks, log, (monitor, pointer), device, gateway)
        scan_and_abandon(checks, log, monitor, device, port, hub_password)
    if args.update:
        update_and_rollback(checks, log, device.id, port, hub_password, http_port)


def wait_for_screen(
    monitor: Monitor,
    target: Path,
    reference: Image.Image,
    problem_of: Callable[[Image.Image, Image.Image], str | None],
    within: float = SCREEN_WAIT_S,
) -> str | None:
    """Dump the screen every few seconds until it matches ``reference``; the last problem, or None.

    READY is sent from the app's first Clock tick, before its first frame: under TCG, llvmpipe
    takes tens of seconds to draw it, and the dump stays black until then.
    """
    deadline = time.monotonic() + within
    while True:
        problem = problem_of(monitor.screendump(target), reference)
        if problem is None or time.monotonic() > deadline:
            return problem
        time.sleep(5)


def wait_ready(log: SerialLog, deadline: float) -> bool:
    """Wait for READY; give up early on a crash loop (three restarts before READY)."""
    while time.monotonic() < deadline:
        if log.wait_for("ready", min(deadline, time.monotonic() + 5)):
            return True
        if len(log.restarts) >= 3:
            return False
    return False


def wait_until(log: SerialLog, moment: float) -> None:
    """Keep reading the console until ``moment``."""
    while time.monotonic() < moment:
        log.poll()
        time.sleep(min(1.0, max(0.0, moment - time.monotonic())))
    log.poll()


def scan_and_abandon(
    checks: Checks, log: SerialLog, monitor: Monitor, device: DeviceRecord, port: int, hub_password: str
) -> None:
    """Scan the product on the USB keyboard; the cart opens with it and, left alone, reaches the hub."""
    with Image.open(SCREENSHOTS / "kiosk-idle-zh.png") as reference:  # after the thank-you screen's timeout
        problem = wait_for_screen(
            monitor, WORK / "idle-again.png", reference.convert("RGB"), idle_problem, within=480
        )
    if not checks.check(problem is None, "back on the idle screen after the paid sale", problem or ""):
        return
    scanned = time.monotonic()
    monitor.type_code(str(PRODUCT["barcode"]))
    with Image.open(SCREENSHOTS / "kiosk-cart-zh.png") as reference:
        problem = wait_for_screen(monitor, WORK / "cart.png", reference.convert("RGB"), cart_problem)
    checks.timings["second_scan_to_cart"] = time.monotonic() - scanned
    checks.check(problem is None, "the second scan opened the cart", problem or str(WORK / "cart.png"))
    # Nobody touches it: after the idle timeout (90 s) and the countdown (20 s) the cart is
    # written as cart.abandoned with its lines, and the sync agent takes it to the hub.
    dumps: list[float] = []

    def dump_now_and_then() -> None:  # what the screen showed while waiting: the countdown, the reset
        if not dumps or time.monotonic() - dumps[-1] > 30:
            dumps.append(time.monotonic())
            monitor.screendump(WORK / f"after-scan-{dumps[-1] - scanned:03.0f}s.png")

    data = abandoned_cart_at_hub(device.id, scanned + 600, dump_now_and_then)
    checks.timings["abandoned_cart_at_hub"] = time.monotonic() - log.started
    lines = data.get("lines", []) if data else []
    skus = [line.get("sku") for line in lines] if isinstance(lines, list) else []
    checks.check(
        skus == [PRODUCT["sku"]],
        "the scanned product reached the hub in a cart.abandoned event",
        json.dumps(data, ensure_ascii=False),
    )
    if data is None:  # was it written and not sent (outbox_depth > 0), or never written?
        print(f"image-test: the device's last status: {last_status(device.id, port, hub_password)}")


def scan_and_pay(
    checks: Checks,
    log: SerialLog,
    qemu: tuple[Monitor, Pointer],
    device: DeviceRecord,
    gateway: PaymentGatewaySimulator,
) -> None:
    """Scan the product, tap Pay, scan a WeChat payment code: the hub books exactly that sale."""
    monitor, pointer = qemu
    started = time.monotonic()
    monitor.type_code(str(PRODUCT["barcode"]))
    with Image.open(SCREENSHOTS / "kiosk-cart-zh.png") as reference:
        problem = wait_for_screen(monitor, WORK / "cart-pay.png", reference.convert("RGB"), cart_problem)
    checks.timings["scan_to_cart"] = time.monotonic() - started
    if not checks.check(problem is None, "a scan on the USB keyboard opened the cart", problem or ""):
        return
    tapped = time.monotonic()
    pointer.tap(*centre(CART_PAY))
    with Image.open(SCREENSHOTS / "kiosk-pay-zh.png") as reference:
        problem = wait_for_screen(
            monitor, WORK / "pay.png", reference.convert("RGB"), pay_problem, within=120
        )
    checks.timings["tap_to_pay_screen"] = time.monotonic() - tapped
    if not checks.check(
        problem is None, "a tap on Pay (usb-tablet) opened the pay screen", problem or str(WORK / "pay.png")
    ):
        return
    shutil.copy(WORK / "pay.png", SCREENSHOTS / "image-pay.png")
    monitor.type_code(PAYMENT_CODE)
    dumps: list[float] = []

    def dump_now_and_then() -> None:  # the approval and the thank-you screen, for the record
        if not dumps or time.monotonic() - dumps[-1] > 15:
            dumps.append(time.monotonic())
            monitor.screendump(WORK / f"after-pay-{dumps[-1] - started:03.0f}s.png")

    sale = paid_sale_at_hub(device.id, time.monotonic() + 600, dump_now_and_then)
    checks.timings["paid_sale_at_hub"] = time.monotonic() - log.started
    with gateway.ledger.lock:
        charged = [o for o in gateway.ledger.orders.values() if o.state == "SUCCESS"]
    reference = charged[0].transaction_id if len(charged) == 1 else "?"
    checks.check(
        [(o.auth_code, o.total_fen) for o in charged] == [(PAYMENT_CODE, PRODUCT["price_fen"])],
        "the gateway simulator charged the payment code once",
        repr([(o.auth_code, o.total_fen, o.state) for o in gateway.ledger.orders.values()]),
    )
    expected = expected_sale(reference)
    got = None if sale is None else {k: sale[k] for k in expected}
    if got is not None:  # the receipt number is the terminal's to choose
        got["sale"] = {k: v for k, v in got["sale"].items() if k != "receipt_no"}  # type: ignore[union-attr]
    checks.check(got == expected, "the hub booked the paid sale", json.dumps(sale, ensure_ascii=False))


def expected_sale(reference: str) -> dict[str, object]:
    """The booked sale the paid-sale check expects: one product, paid in full by WeChat Pay."""
    price = PRODUCT["price_fen"]
    return {
        "sale": {"total_fen": price, "item_count": 1, "currency": "CNY"},
        "lines": [
            {"position": 1, "sku": PRODUCT["sku"], "quantity": 1, "unit_price_fen": price, "total_fen": price}
        ],
        "payments": [{"method": "wechat", "amount_fen": price, "reference": reference}],
        "sales_payment_day": [{"method": "wechat", "payments": 1, "amount_fen": price}],
    }


def update_and_rollback(
    checks: Checks, log: SerialLog, device_id: str, port: int, hub_password: str, http_port: int
) -> None:
    """Offer 0.2.0: installed and reported; then a broken 0.3.0: rolled back by the terminal itself."""
    good, broken = release_wheels(REPO, WORK / "releases")
    db, data = f"sqlite:///{WORK / 'hub.db'}", str(WORK / "hub")

    def offer(wheel: Path, version: str) -> None:
        hub_command("release", "add", str(wheel), "--db", db, "--data-dir", data, hub_password=hub_password)
        hub_command(
            "release", "offer", version, "--base-url", f"http://10.0.2.2:{http_port}", "--device", device_id,
            "--db", db, "--data-dir", data, "--mqtt-port", str(port), "--mqtt-user", "hub",
            hub_password=hub_password,
        )  # fmt: skip

    def listing() -> str:
        argv = [sys.executable, "-m", "hub.cli", "release", "list", "--db", db]
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout

    started = time.monotonic()
    offer(good, "0.2.0")
    line = wait_for_terminal(listing, device_id, ("running 0.2.0", "installed 0.2.0"), started + 1500)
    checks.timings["update_installed"] = time.monotonic() - started
    ok = checks.check(
        "installed 0.2.0" in line and "running 0.2.0" in line, "update to 0.2.0 installed", line
    )
    if not ok:
        return
    started = time.monotonic()
    console_before = log.path.stat().st_size
    offer(broken, "0.3.0")
    line = wait_for_terminal(listing, device_id, ("running 0.2.0", "rolled_back 0.3.0"), started + 1500)
    checks.timings["broken_update_rolled_back"] = time.monotonic() - started
    checks.check("rolled_back 0.3.0" in line, "broken 0.3.0 rolled back to 0.2.0 by the terminal", line)
    # The rollback is the updater doing its job: kiosk-update.service must not end "failed".
    ended = update_unit_end(log.path, console_before, time.monotonic() + 180)
    checks.check(ended == "finished", "kiosk-update.service ended successfully after the rollback", ended)


def update_unit_end(console: Path, offset: int, deadline: float) -> str:
    """How ``kiosk-update.service`` ended on the console after byte ``offset``: finished, failed, or
    not yet (by ``deadline``)."""
    while True:
        with console.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode(errors="replace")
        failed = ("kiosk-update.service: Failed with result", "Failed to start kiosk-update.service")
        if any(line in text for line in failed):
            return "failed"
        if "Finished kiosk-update.service" in text:
            return "finished"
        if time.monotonic() > deadline:
            return "no end seen on the console"
        time.sleep(5)


if __name__ == "__main__":
    sys.exit(main())
