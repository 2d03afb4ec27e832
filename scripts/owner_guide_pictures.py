"""The pictures of docs/owner-guide.md, from real runs.

Run ``.venv/bin/python scripts/owner_guide_pictures.py`` (writes docs/screenshots/owner-*.png).

Everything shown really happens, in a scratch directory:

1. ``hub device add`` registers a terminal; ``hub device write --image`` puts its
   kiosk.toml on the FAT boot partition (label KIOSKBOOT) of a small disk image;
   the drive's listing (read back with mtools) and the file, secrets masked, are
   drawn as ``owner-boot-partition.png``.
2. The kiosk app starts from that kiosk.toml under Xvfb: ``owner-kiosk-first-{zh,en}.png``.
3. A private Mosquitto, the hub (ingest + dashboard) and the terminal's sync agent
   (through the image's kiosk-python wrapper) run; this source tree is built as
   version 0.1.1, added with ``hub release add`` and offered with ``hub release
   offer``; ``kiosk update apply`` installs it and restarts the agent, which then
   reports 0.1.1. Headless Chromium shoots ``/fleet`` and ``/releases``:
   ``owner-fleet-{zh,en}.png``, ``owner-releases-{zh,en}.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

import tomli_w

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.devtools import browser  # noqa: E402
from kiosk.devtools.broker import MosquittoBroker  # noqa: E402
from kiosk.devtools.ports import free_port, wait_for_port  # noqa: E402
from kiosk.devtools.xvfb import Xvfb  # noqa: E402

PY = sys.executable
WRAPPER = ROOT / "image/files/usr/local/lib/kiosk/kiosk-python"
TZ = ZoneInfo("Asia/Shanghai")
MIB = 1024 * 1024
NEW_VERSION = "0.1.1"
MONO_CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
MONO_CJK_SC = 7  # the face "Noto Sans Mono CJK SC" in that collection (fc-list ... index)


def run(*argv: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """Run a command; stop with its output if it fails."""
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def wait_for(check, what: str, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """Poll ``check`` until it is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise SystemExit(f"{what}: not within {timeout} s")


def boot_image(work: Path) -> Path:
    """A small disk image whose first partition is FAT32 labelled KIOSKBOOT, like the card's."""
    image = work / "card.img"
    with open(image, "wb") as handle:
        handle.truncate(40 * MIB)
    subprocess.run(
        ["sfdisk", "--quiet", str(image)],
        input="label: dos\nstart=2048, size=34MiB, type=c\n",
        text=True,
        check=True,
    )
    fat = work / "boot.fat"
    run("mkfs.vfat", "-F", "32", "-n", "KIOSKBOOT", "-C", str(fat), str(34 * 1024))
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    (work / "config.txt").write_text("arm_64bit=1\nenable_uart=0\ndisable_overscan=1\n")
    (work / "cmdline.txt").write_text(
        "console=tty3 root=LABEL=kiosk-root ro rootwait fsck.repair=yes net.ifnames=0 quiet loglevel=3\n"
    )
    for name in ("config.txt", "cmdline.txt"):
        run("mcopy", "-i", str(fat), str(work / name), f"::{name}", env=env)
    run("dd", f"if={fat}", f"of={image}", "bs=512", "seek=2048", "conv=notrunc", "status=none")
    return image


def masked(text: str) -> str:
    """kiosk.toml with its secrets replaced, fit to be shown."""
    lines = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip()
        if key in ("password", "encryption_key", "psk"):
            line = f'{key} = "••••••••"'
        lines.append(line)
    return "\n".join(lines)


def draw_boot_partition(listing: str, toml_text: str, target: Path) -> None:
    """The KIOSKBOOT drive as the owner sees it: its files, and what kiosk.toml holds."""
    from PIL import Image, ImageDraw, ImageFont

    from kiosk.fonts import simplified_chinese_face

    face = str(simplified_chinese_face())
    title, body = ImageFont.truetype(face, 26), ImageFont.truetype(face, 18)
    code = ImageFont.truetype(MONO_CJK, 15, index=MONO_CJK_SC)  # Chinese in the file must not be tofu
    toml_lines = toml_text.splitlines()
    width, height = 1280, max(560, 200 + 19 * len(toml_lines))
    image = Image.new("RGB", (width, height), "#f5f7fa")
    draw = ImageDraw.Draw(image)
    draw.text(
        (32, 24), "SD 卡的启动分区 KIOSKBOOT / The card's boot drive, KIOSKBOOT", font=title, fill="#1f2933"
    )
    draw.text(
        (32, 66),
        "运行 hub device write 之后 / after hub device write: kiosk.toml 在根目录 (at the top level)",
        font=body,
        fill="#616e7c",
    )
    bottom = height - 30
    panels = (
        (32, 110, 520, bottom, "文件 / Files"),
        (548, 110, 1248, bottom, "kiosk.toml（密码已隐藏 / secrets hidden）"),
    )
    for x0, y0, x1, y1, label in panels:
        draw.rounded_rectangle((x0, y0, x1, y1), radius=14, fill="#ffffff", outline="#e4e7eb", width=2)
        draw.text((x0 + 18, y0 + 14), label, font=body, fill="#616e7c")
    y = 160
    for line in listing.splitlines():
        highlight = "kiosk" in line.lower() and "toml" in line.lower()
        if highlight:
            draw.rounded_rectangle((44, y - 4, 508, y + 24), radius=6, fill="#fff7ed", outline="#c2410c")
        draw.text((56, y), line, font=code, fill="#c2410c" if highlight else "#1f2933")
        y += 30
    notes = (
        "只需放入 kiosk.toml，其余文件不要改动。",
        "Only kiosk.toml is yours to add;",
        "leave the other files alone.",
        "",
        "真实的卡上还有内核、initrd 和设备树；",
        "这张图用的是一张小的示例卡。",
        "A real card also holds the kernel,",
        "initrd and device trees; this picture",
        "uses a small stand-in card.",
    )
    y = max(y + 30, 300)
    for line in notes:
        draw.text((56, y), line, font=body, fill="#616e7c")
        y += 28
    y = 160
    for line in toml_lines:
        colour = "#1d4ed8" if line.startswith("[") else "#1f2933"
        draw.text((566, y), line[:76], font=code, fill=colour)
        y += 19
    target.parent.mkdir(parents=True, exist_ok=True)
    image.save(target)


def drive_listing(image: Path) -> str:
    """The boot partition's files as name, size and modification time, read back with mtools."""
    from hub.fleet.provision import find_boot_partition

    offset = find_boot_partition(image)
    out = run("mdir", "-a", "-i", f"{image}@@{offset}", "::", env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
    rows = []
    for line in out.splitlines():
        parts = line.split()
        # mdir: short name, extension, size, date, time, long name
        if len(parts) >= 5 and parts[2].isdigit() and parts[3].count("-") == 2:
            name = parts[-1] if len(parts) >= 6 else f"{parts[0]}.{parts[1]}".lower()
            rows.append(f"{name:<16}{int(parts[2]):>8} B")
    return "\n".join(rows)


def shoot_kiosk(config: Path, work: Path, shots: Path) -> None:
    """The kiosk's first screen with the provisioned kiosk.toml, in zh and en, under Xvfb."""
    script = {
        "steps": [{"wait": 1.5}, {"shot": "first"}],
        "screenshots": str(work / "kiosk-shots"),
        "pay": False,
    }
    (work / "first.json").write_text(json.dumps(script))
    with Xvfb(800, 480) as display:
        env = {**os.environ, "DISPLAY": display.display, "KIVY_HOME": str(work / "kivy")}
        run(
            PY,
            "-m",
            "kiosk.cli",
            "run",
            "--config",
            str(config),
            "--script",
            str(work / "first.json"),
            env=env,
        )
    for lang in ("zh", "en"):
        shutil.copy(work / "kiosk-shots" / f"kiosk-first-{lang}.png", shots / f"owner-kiosk-first-{lang}.png")


def add_device(
    hub_cli: list[str], data: Path, broker_dir: Path, name: str, host: str, port: int, hub_url: str
) -> str:
    """``hub device add`` for store s-001 (一号店); return the new device id."""
    added = run(
        *hub_cli, "device", "add", "--store", "s-001", "--store-name", "一号店", "--name", name,
        "--broker-host", host, "--broker-port", str(port), "--hub-url", hub_url,
        "--data", str(data), "--broker-dir", str(broker_dir), "--no-reload",
    )  # fmt: skip
    return next(word for word in added.split() if word.startswith("d-"))


def fleet(hub_url: str, device: str) -> dict[str, object]:
    """The hub's fleet row for ``device`` (empty until it reported)."""
    with urllib.request.urlopen(f"{hub_url}/api/fleet", timeout=10) as response:
        rows = json.load(response)
    return next((row for row in rows if row["device"] == device), {})


def build_new_version(work: Path) -> Path:
    """This source tree built as NEW_VERSION (a real wheel; only the version number differs)."""
    source = work / "tree"
    for name in run("git", "-C", str(ROOT), "ls-files").splitlines():  # what is committed, nothing else
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    pyproject = source / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text.replace('version = "0.1.0"', f'version = "{NEW_VERSION}"', 1))
    run(
        PY,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "--wheel-dir",
        str(work / "dist"),
        str(source),
    )
    return next((work / "dist").glob(f"member_kiosk-{NEW_VERSION}-*.whl"))


def main() -> None:
    """Make every picture (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs/screenshots")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="Keep the run here (default: a temporary one)."
    )
    args = parser.parse_args()
    shots: Path = args.out
    if args.workdir is not None:
        shutil.rmtree(args.workdir, ignore_errors=True)
        args.workdir.mkdir(parents=True)
        make_all(args.workdir.resolve(), shots)
        return
    with tempfile.TemporaryDirectory(prefix="owner-pictures-") as scratch:
        make_all(Path(scratch), shots)


def make_all(work: Path, shots: Path) -> None:
    """The three runs, in ``work``."""
    import uvicorn

    from hub.api.member_snapshot import DeviceAuth
    from hub.db.schema import open_hub_database
    from hub.devtools.signed_in import session_for, with_cookie
    from hub.ingest.worker import HubIngestor
    from hub.web.app import create_app

    hub_cli = [PY, "-m", "hub.cli"]
    data, broker_dir = work / "hubdata", work / "broker"
    broker_dir.mkdir()
    db_url = f"sqlite:///{work / 'hub.db'}"
    with MosquittoBroker(work / "mosquitto") as broker:
        http_port = free_port()
        hub_url = f"http://127.0.0.1:{http_port}"
        # The terminal of the guide's example, with the addresses a shop would use: its card is shown.
        shown = add_device(
            hub_cli, data, broker_dir, "前台收银 1", "hub.shop.lan", 1883, "http://hub.shop.lan:8080"
        )
        card = boot_image(work)
        run(*hub_cli, "device", "write", shown, "--image", str(card), "--data", str(data))
        issued = data / "devices" / shown / "kiosk.toml"
        draw_boot_partition(
            drive_listing(card), masked(issued.read_text()), shots / "owner-boot-partition.png"
        )
        # A second terminal, on this machine's private broker and hub: it runs, updates and reports.
        device = add_device(hub_cli, data, broker_dir, "前台收银 2", "127.0.0.1", broker.port, hub_url)

        # On the card the database lives on the data partition; here in the scratch directory.
        local = work / "kiosk.toml"
        settings = tomllib.loads((data / "devices" / device / "kiosk.toml").read_text())
        settings["data"]["path"] = str(work / "terminal/kiosk.db")
        (work / "terminal").mkdir()
        local.write_bytes(tomli_w.dumps(settings).encode())
        shoot_kiosk(local, work, shots)

        open_hub_database(db_url)
        app = create_app(TZ, device_auth=DeviceAuth(broker_dir / "passwd"), data_dir=data)
        app = with_cookie(app, session_for()[0])  # the pictures show the dashboard signed in as the owner
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=http_port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        wait_for_port(http_port)
        ingestor = HubIngestor("127.0.0.1", broker.port, TZ, "pictures")
        ingestor.start()
        venvs, health = work / "terminal/venvs", work / "terminal/health"
        restart = work / "restart-sync.sh"
        restart.write_text(
            "#!/bin/sh\n"
            f"cd {work}\n"
            "[ -f sync.pid ] && pid=$(cat sync.pid) && kill $pid 2>/dev/null && "
            "while kill -0 $pid 2>/dev/null; do sleep 0.1; done\n"
            f"KIOSK_VENVS={venvs} KIOSK_BASE={Path(PY).parent.parent} KIOSK_HEALTH_FILE={health}/sync.json "
            f"RUNTIME_DIRECTORY={work}/run {WRAPPER} -m kiosk.launch sync {local} >>sync.log 2>&1 &\n"
            "echo $! > sync.pid\n"
        )
        restart.chmod(0o755)
        try:
            run(str(restart))
            wait_for(lambda: fleet(hub_url, device).get("state") == "online", "device online")
            wheel = build_new_version(work)
            run(*hub_cli, "release", "add", str(wheel), "--db", db_url, "--data-dir", str(data))
            run(
                *hub_cli, "release", "offer", NEW_VERSION, "--base-url", hub_url, "--device", device,
                "--db", db_url, "--data-dir", str(data), "--mqtt-port", str(broker.port),
            )  # fmt: skip
            update_dir = work / "terminal/update"
            wait_for((update_dir / "offer.json").exists, "the offer at the terminal")
            run(
                PY, "-m", "kiosk.cli", "update", "apply", "--dir", str(update_dir), "--venvs", str(venvs),
                "--health-file", str(health / "sync.json"), "--restart", str(restart),
                "--settle", "3", "--health-timeout", "60",
            )  # fmt: skip
            wait_for(
                lambda: fleet(hub_url, device).get("app_version") == NEW_VERSION, "the new version at the hub"
            )
            wait_for(
                lambda: "tag installed" in browser.dump_dom(f"{hub_url}/releases"), "the outcome at the hub"
            )
            for lang in ("zh", "en"):
                query = "?lang=en" if lang == "en" else ""
                browser.screenshot(f"{hub_url}/fleet{query}", shots / f"owner-fleet-{lang}.png", 1280, 560)
                browser.screenshot(
                    f"{hub_url}/releases{query}", shots / f"owner-releases-{lang}.png", 1280, 640
                )
        finally:
            pid_file = work / "sync.pid"
            if pid_file.exists():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid_file.read_text()), signal.SIGTERM)
            ingestor.stop()
            server.should_exit = True
    print(f"pictures written to {shots}")


if __name__ == "__main__":
    main()
