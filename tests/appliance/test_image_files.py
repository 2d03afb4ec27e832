"""The image's scripts and files agree with each other (labels, units, mounts) and lint clean."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IMAGE = REPO / "image"


def test_shell_scripts_are_shellcheck_clean() -> None:
    scripts = sorted(
        [IMAGE / "build.sh", IMAGE / "kiosk-wheel.sh", *IMAGE.glob("steps/*.sh"),
         *IMAGE.glob("files/usr/local/lib/kiosk/*.sh")]
    )  # fmt: skip
    assert len(scripts) == 14
    assert shutil.which("shellcheck"), "bootstrap installs shellcheck"
    result = subprocess.run(["shellcheck", *map(str, scripts)], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "")


def test_steps_are_numbered_and_strict() -> None:
    steps = sorted(p.name for p in IMAGE.glob("steps/*.sh"))
    assert steps == [
        "00-essential.sh",
        "10-files.sh",
        "20-user.sh",
        "30-venv.sh",
        "35-initramfs.sh",
        "40-system.sh",
        "80-manifest.sh",
        "85-fonts.sh",
        "90-assemble.sh",
    ]
    for step in IMAGE.glob("steps/*.sh"):
        assert "set -euo pipefail" in step.read_text(), step.name


def test_kiosk_wheel_is_built_from_a_clean_copy_and_leaves_the_tree_as_it_was(tmp_path: Path) -> None:
    left_by_pip = [REPO / "member_kiosk.egg-info", REPO / "build"]
    before = [path.exists() for path in left_by_pip]
    # offline: the venv's setuptools builds it (the image build lets pip fetch one)
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0", "PYTHON": sys.executable}
    subprocess.run(["bash", str(IMAGE / "kiosk-wheel.sh"), str(tmp_path)], check=True, env=env)
    (wheel,) = tmp_path.glob("member_kiosk-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        config = archive.read("kiosk/config.py")
    assert config == (REPO / "kiosk/config.py").read_bytes()
    catalogs = {name for name in names if name.endswith(".mo")}
    assert catalogs == {
        f"{package}/locale/{lang}/LC_MESSAGES/{package}.mo"
        for package in ("kiosk", "hub")
        for lang in ("en", "zh_CN")
    }
    assert [path.exists() for path in left_by_pip] == before


def test_build_makes_the_kiosk_wheel_outside_the_tree() -> None:
    build = (IMAGE / "build.sh").read_text()
    assert 'bash "$REPO/image/kiosk-wheel.sh" "$WORK/wheels"' in build
    assert "pip wheel" not in build


def test_labels_agree_between_assembly_fstab_and_kernel_command_line() -> None:
    assemble = (IMAGE / "steps/90-assemble.sh").read_text()
    fstab = (IMAGE / "files/etc/fstab").read_text()
    system = (IMAGE / "steps/40-system.sh").read_text()
    made = set(re.findall(r"-[nL] (\S+)", assemble))
    assert made == {"KIOSKBOOT", "kiosk-root", "kiosk-data"}
    mounted = set(re.findall(r"^LABEL=(\S+)", fstab, re.M))
    assert mounted == made
    assert "root=LABEL=kiosk-root ro " in system
    grow = (IMAGE / "files/usr/local/lib/kiosk/growdata.sh").read_text()
    assert "/dev/disk/by-label/kiosk-data" in grow


def test_root_is_read_only_and_state_lives_on_data() -> None:
    mounts = {}
    for line in (IMAGE / "files/etc/fstab").read_text().splitlines():
        if line and not line.startswith("#"):
            source, target, kind, options, *_ = line.split()
            mounts[target] = (source, kind, options.split(","))
    assert mounts["/"][2][0] == "ro"
    assert "x-systemd.growfs" in mounts["/data"][2]
    assert mounts["/var/lib/kiosk"][:2] == ("/data/kiosk", "none")
    assert mounts["/var/log"][:2] == ("/data/log", "none")
    assert mounts["/var/lib/systemd"][:2] == ("/data/systemd", "none")
    assert mounts["/tmp"][1] == "tmpfs"


def test_image_enables_exactly_the_units_in_systemd_dir() -> None:
    system = (IMAGE / "steps/40-system.sh").read_text()
    copied = (IMAGE / "steps/10-files.sh").read_text()
    terminal_units = sorted(p for p in (REPO / "systemd").glob("kiosk*") if p.suffix != ".md")
    assert len(terminal_units) == 7
    for unit in terminal_units:
        assert f"systemd/{unit.name}" in copied
        # A unit without [Install] (kiosk-update.service) is started by its .path and .timer only.
        assert (unit.name in system) == ("[Install]" in unit.read_text()), unit.name
    assert "hub.service" not in copied


def test_nothing_secret_or_per_device_in_the_image_tree() -> None:
    names = [p.relative_to(IMAGE / "files").as_posix() for p in (IMAGE / "files").rglob("*")]
    assert not [n for n in names if "kiosk.toml" in n or n.endswith((".pem", ".key"))]
    for path in (IMAGE / "files").rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "password" not in text.lower(), path
            assert "PRIVATE KEY" not in text, path


def test_os_list_entry(tmp_path: Path) -> None:
    image = tmp_path / "member-kiosk-0.1.0-abc.img.xz"
    image.write_bytes(b"xz bytes")
    result = subprocess.run(
        [
            sys.executable,
            str(IMAGE / "os_list.py"),
            "--name",
            "member-kiosk-0.1.0-abc",
            "--version",
            "0.1.0",
            "--commit",
            "abc",
            "--image",
            str(image),
            "--extract-size",
            "1048576",
            "--extract-sha256",
            "ab" * 32,
            "--url-base",
            "https://hub.example/images/",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    (entry,) = json.loads(result.stdout)["os_list"]
    assert entry["name"] == "Member Kiosk 0.1.0"
    assert entry["url"] == "https://hub.example/images/member-kiosk-0.1.0-abc.img.xz"
    assert entry["extract_size"] == 1048576
    assert entry["image_download_size"] == 8
    assert entry["image_download_sha256"] == (
        "bef91a0af03f3b7707a1fb86bb13cdde7edfb8f39354f0d8e78b5cc19bb89987"
    )
    assert entry["devices"] == ["pi4-64bit"]
    assert entry["init_format"] == "none"


def _packages() -> set[str]:
    lines = (IMAGE / "packages.txt").read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def _service_environment(name: str) -> dict[str, str]:
    env = {}
    for line in (REPO / "systemd" / name).read_text().splitlines():
        if line.startswith("Environment="):
            env.update(item.split("=", 1) for item in line.removeprefix("Environment=").split())
    return env


def test_kivy_can_open_a_window_on_the_image() -> None:
    # Issue 20: without libGL.so.1 Kivy's default GL backend failed to import and the app
    # crash-looped. SDL2 makes the context on KMS through EGL; Kivy takes its entry points from it.
    packages = _packages()
    assert {"libgl1", "libegl1", "libgles2", "libgl1-mesa-dri", "libgbm1", "libdrm2"} <= packages
    env = _service_environment("kiosk.service")
    assert env["KIVY_GL_BACKEND"] == "sdl2"
    assert env["SDL_VIDEODRIVER"] == "kmsdrm"
    assert env["KIVY_WINDOW"] == "sdl2"


def test_wifi_regulatory_database_and_procps_are_installed() -> None:
    assert {"wireless-regdb", "procps", "wpasupplicant"} <= _packages()


def test_cjk_faces_are_flattened_into_the_cache_the_app_reads() -> None:
    env = _service_environment("kiosk.service")
    assert env["KIOSK_CACHE"] == "/var/lib/kiosk/cache"
    fstab = (IMAGE / "files/etc/fstab").read_text()
    assert re.search(r"^/data/kiosk\s+/var/lib/kiosk\s", fstab, re.M)
    fonts = (IMAGE / "steps/85-fonts.sh").read_text()
    assert "fonts.prepare_faces()" in fonts
    assert "$root/usr/share/fonts/opentype/noto" in fonts  # the image's fonts, not the build machine's
    assemble = (IMAGE / "steps/90-assemble.sh").read_text()
    assert 'cp -a "$WORK/kiosk-cache" "$stage/data/kiosk/cache"' in assemble


def test_the_logo_on_the_boot_partition_is_readable_by_the_kiosk_user_only() -> None:
    for line in (IMAGE / "files/etc/fstab").read_text().splitlines():
        if line.startswith("LABEL=KIOSKBOOT"):
            options = dict(o.partition("=")[::2] for o in line.split()[3].split(","))
    assert options["gid"] == "kiosk"
    assert int(options["fmask"], 8) & 0o040 == 0  # group may read files
    assert int(options["dmask"], 8) & 0o050 == 0  # and enter folders
    assert int(options["fmask"], 8) & 0o007 == 0o007  # others nothing
    assert int(options["dmask"], 8) & 0o007 == 0o007
    assert "umask" not in options


def test_wifi_starts_only_when_a_wlan0_appears() -> None:
    system = (IMAGE / "steps/40-system.sh").read_text()
    enabled = system[system.index("systemctl enable") :].split("\n# ")[0]
    assert "wpa_supplicant" not in enabled
    rule = (IMAGE / "files/etc/udev/rules.d/80-kiosk-wifi.rules").read_text()
    rules = [line for line in rule.splitlines() if line and not line.startswith("#")]
    assert rules == [
        'ACTION=="add", SUBSYSTEM=="net", KERNEL=="wlan0", TAG+="systemd", '
        'ENV{SYSTEMD_WANTS}+="wpa_supplicant@wlan0.service"'
    ]
    dropin = IMAGE / "files/etc/systemd/system/wpa_supplicant@wlan0.service.d/kiosk.conf"
    assert "ConditionPathExists=/etc/wpa_supplicant/wpa_supplicant-%i.conf" in dropin.read_text()


def _os_list(tmp_path: Path, *url_base: str) -> subprocess.CompletedProcess[str]:
    image = tmp_path / "member-kiosk-0.1.0-abc.img.xz"
    image.write_bytes(b"xz bytes")
    argv = [sys.executable, str(IMAGE / "os_list.py"), "--name", "n", "--version", "0.1.0",
            "--commit", "abc", "--image", str(image), "--extract-size", "1",
            "--extract-sha256", "ab" * 32, *url_base]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def test_os_list_needs_a_full_url_base(tmp_path: Path) -> None:
    assert "--url-base" in _os_list(tmp_path).stderr
    refused = _os_list(tmp_path, "--url-base", "images/")
    assert refused.returncode == 2
    assert "'images/' is not an http(s):// URL" in refused.stderr
    folder = _os_list(tmp_path, "--url-base", "http://hub.shop.lan:8080/images")
    (entry,) = json.loads(folder.stdout)["os_list"]
    assert entry["url"] == "http://hub.shop.lan:8080/images/member-kiosk-0.1.0-abc.img.xz"


def test_build_writes_os_list_only_with_an_image_url_base() -> None:
    build = (IMAGE / "build.sh").read_text()
    assert "export IMAGE_URL_BASE=${IMAGE_URL_BASE:-}" in build
    assemble = (IMAGE / "steps/90-assemble.sh").read_text()
    assert '--url-base "$IMAGE_URL_BASE"' in assemble
    assert 'if [ -z "${IMAGE_URL_BASE:-}" ]; then' in assemble


# Prints every option Kivy's own loader ends up with, as JSON: {section: {option: value}}.
READ_KIVY_CONFIG = """
import json
from kivy.config import Config
print(json.dumps({s: {o: Config.get(s, o, raw=True) for o in Config.options(s)} for s in Config.sections()}))
"""


def _kivy_config(home: Path) -> tuple[dict[str, dict[str, str]], str]:
    """Import kivy.config with KIVY_HOME=home; the options it loaded and its log."""
    env = {
        "KIVY_HOME": str(home), "KIVY_NO_ARGS": "1", "KIVY_NO_FILELOG": "1", "KIVY_LOG_MODE": "PYTHON",
        "PATH": "/usr/bin:/bin", "HOME": str(home),
    }  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", READ_KIVY_CONFIG], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


def test_kivy_reads_the_shipped_config_as_it_is_without_adding_probesysfs(tmp_path: Path) -> None:
    """The image's KIVY_HOME/config.ini is current, so Kivy's upgrade adds no touch provider."""
    shipped = IMAGE / "kivy-config.ini"
    home = tmp_path / "kivy"
    home.mkdir()
    (home / "config.ini").write_bytes(shipped.read_bytes())
    loaded, log = _kivy_config(home)
    assert "Older configuration version" not in log
    assert (home / "config.ini").read_bytes() == shipped.read_bytes()  # not rewritten by an upgrade
    assert loaded["input"] == {"mouse": "mouse,disable_multitouch"}  # SDL2's events only: no double taps
    assert (loaded["kivy"]["config_version"], loaded["graphics"]["fullscreen"]) == ("27", "auto")
    # Complete: every option Kivy writes into a new config is there, except the probesysfs provider.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    defaults, _ = _kivy_config(fresh)
    assert defaults["input"]["%(name)s"].startswith("probesysfs")  # what an upgrade would have added
    missing = {(s, o) for s, options in defaults.items() for o in options if o not in loaded.get(s, {})}
    assert missing == {("input", "%(name)s")}
