#!/usr/bin/env python3
"""Boot the built image in qemu-system-aarch64 and check first boot and sync (``make image-test``).

1. Copies the newest ``image/out/*.img.xz`` to a scratch image with 512 MiB of
   free space after the data partition (so first boot has something to grow).
2. Starts a private Mosquitto on the host with a registered device, writes
   that device's kiosk.toml into the image with ``hub device write --image``.
3. Boots it with ``-M virt -cpu cortex-a72`` (kernel and initrd taken from the
   image's boot partition), serial console to ``build/boot-test/serial.log``.
4. Passes when the serial log shows first boot installed the file and the
   device's retained ``pos/{d}/status`` arrives at the broker; fails after
   ``--timeout`` seconds otherwise. Slow (minutes): never part of ``make test``.
"""

from __future__ import annotations

import argparse
import lzma
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

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

WORK = REPO / "build/boot-test"


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


def free_port() -> int:
    """An unused TCP port on the host."""
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


def start_broker(port: int, device: DeviceRecord, password: str, hub_password: str) -> Path:
    """A Mosquitto on all interfaces (qemu's user network reaches the host as 10.0.2.2)."""
    base = Path(tempfile.mkdtemp(prefix="kiosk-boot-broker-", dir="/tmp"))
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


def start_hub(port: int, hub_password: str) -> tuple[subprocess.Popen[bytes], int]:
    """``hub serve`` on the host broker, as the hub would run beside it; returns it and its HTTP port."""
    http_port = free_port()
    argv = [
        sys.executable, "-m", "hub.cli", "serve", "--db", f"sqlite:///{WORK / 'hub.db'}",
        "--mqtt-port", str(port), "--mqtt-user", "hub", "--http-port", str(http_port),
        "--data-dir", str(WORK / "hub"),
    ]  # fmt: skip
    env = {**os.environ, "HUB_MQTT_PASSWORD": hub_password}
    with (WORK / "hub.log").open("ab") as log:
        hub = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    return hub, http_port


def hub_saw_online(http_port: int, device_id: str, deadline: float) -> str | None:
    """The device's state on the hub's fleet API once it says online, or the last state by ``deadline``."""
    import json
    import urllib.request

    state = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/api/fleet", timeout=5) as reply:
                rows = {row["device"]: row for row in json.loads(reply.read())}
        except OSError:
            rows = {}
        state = rows.get(device_id, {}).get("state")
        if state == "online":
            return state
        time.sleep(2)
    return state


# Host tools the test runs, and the Debian package of each (installed when missing and root).
HOST_TOOLS = {"qemu-system-aarch64": "qemu-system-arm", "mosquitto": "mosquitto", "mcopy": "mtools"}


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


def main() -> int:
    """Run the boot test; exit 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument("--image", type=Path, default=None, help=".img or .img.xz (default: newest)")
    args = parser.parse_args()
    problem = ensure_host_tools()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    image = scratch_image(args.image or newest_image())
    kernel, initrd = extract_boot_files(image)

    port = free_port()
    device = DeviceRecord("d-b00700", "s-test", "Boot test", datetime.now(UTC).isoformat())
    password, hub_password = new_password(), new_password()
    config = kiosk_config_for(
        device,
        encryption_key=business_key(WORK / "hub"),
        password=password,
        store_name="Boot test",
        broker_host="10.0.2.2",
        broker_port=port,
    )
    write_to_image(image, render(config))
    broker = subprocess.Popen(["mosquitto", "-c", str(start_broker(port, device, password, hub_password))])
    try:
        return boot(args.timeout, image, kernel, initrd, device, port, hub_password, broker)
    finally:
        broker.terminate()
        broker.wait(timeout=10)


def boot(
    timeout: int,
    image: Path,
    kernel: Path,
    initrd: Path,
    device: DeviceRecord,
    port: int,
    hub_password: str,
    broker: subprocess.Popen[bytes],
) -> int:
    """Start the hub, boot the image and wait for the device; exit status of the test."""
    hub, http_port = start_hub(port, hub_password)
    serial = WORK / "serial.log"
    qemu = [
        "qemu-system-aarch64",
        "-M",
        "virt",
        "-cpu",
        "cortex-a72",
        "-smp",
        "2",
        "-m",
        "1024",
        "-kernel",
        str(kernel),
        "-initrd",
        str(initrd),
        "-append",
        "root=LABEL=kiosk-root ro rootwait console=ttyAMA0 net.ifnames=0",
        "-drive",
        f"file={image},if=virtio,format=raw",
        "-netdev",
        "user,id=n0",
        "-device",
        "virtio-net-pci,netdev=n0",
        "-nographic",
        "-serial",
        f"file:{serial}",
        "-monitor",
        "none",
    ]
    started = time.monotonic()
    deadline = started + timeout
    try:
        vm = subprocess.Popen(qemu, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            status = wait_for_status(port, device.id, hub_password, deadline)
            online_at = time.monotonic() - started
            on_hub = hub_saw_online(http_port, device.id, min(deadline, time.monotonic() + 60))
            hub_at = time.monotonic() - started
            log = serial.read_text(errors="replace") if serial.exists() else ""
        finally:
            vm.terminate()
            vm.wait(timeout=30)
    finally:
        hub.terminate()
        hub.wait(timeout=10)
    firstboot = f"kiosk firstboot: installed device {device.id}" in log
    print(f"image-test: first boot applied the file: {firstboot}")
    print(f"image-test: status from the device: {status!r} after {online_at:.0f} s")
    print(f"image-test: the hub's fleet page shows the device: {on_hub!r} after {hub_at:.0f} s")
    print(f"image-test: serial log: {serial}")
    return 0 if firstboot and status is not None and on_hub == "online" else 1


if __name__ == "__main__":
    sys.exit(main())
