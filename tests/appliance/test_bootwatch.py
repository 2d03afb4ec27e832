"""The boot test's eyes (image/bootwatch.py): console milestones, restarts, screen checks, keys.

The boot test itself needs an image and QEMU (``make image-test``); what it
concludes from a console line or a screen dump is checked here, on recorded
lines and on the Xvfb screenshots of the same screens.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "docs/screenshots"


def _load_bootwatch():
    spec = importlib.util.spec_from_file_location("bootwatch", REPO / "image/bootwatch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bootwatch"] = module
    spec.loader.exec_module(module)
    return module


bootwatch = _load_bootwatch()

# Lines as the serial console shows them with systemd.journald.forward_to_console=1.
BOOT = """\
[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x410fd083]
[    9.120000] systemd[1]: systemd 252.39-1~deb12u1 running in system mode (+PAM +AUDIT)
[   60.211000] kiosk-firstboot.service: kiosk firstboot: installed device d-b00700 for store s-test
[   80.000000] kiosk-sync.service: Scheduled restart job, restart counter is at 1.
[   95.000000] python[612]: sdl2 - ImportError: libGL.so.1: cannot open shared object file
[   95.100000] systemd[1]: kiosk.service: Main process exited, code=exited, status=1/FAILURE
[   95.200000] systemd[1]: kiosk.service: Failed with result 'exit-code'.
[   97.300000] systemd[1]: kiosk.service: Scheduled restart job, restart counter is at 1.
[  145.000000] systemd[1]: Started kiosk.service - Member Kiosk touchscreen app.
"""


def test_serial_log_notes_milestones_and_restarts_of_the_app_only() -> None:
    log = bootwatch.SerialLog(Path("/nonexistent"), started=100.0)
    for n, line in enumerate(BOOT.splitlines()):
        log.note(line, 100.0 + n)
    assert log.seen == {"kernel": 100.0, "systemd": 101.0, "firstboot": 102.0, "ready": 108.0}
    assert log.at("ready") == 8.0
    assert log.restarts == [107.0]  # kiosk-sync.service's restart is not the app's
    assert log.failures == [
        "[   95.100000] systemd[1]: kiosk.service: Main process exited, code=exited, status=1/FAILURE",
        "[   95.200000] systemd[1]: kiosk.service: Failed with result 'exit-code'.",
    ]
    assert log.restarts_since(107.0) == 0
    assert log.restarts_since(106.5) == 1


def test_serial_log_reads_a_growing_file_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "serial.log"
    log = bootwatch.SerialLog(path)
    log.poll()  # no file yet
    path.write_text("[    0.0] Booting Linux on physical CPU 0x0\n[   145.0] systemd[1]: Started kiosk.se")
    log.poll()
    assert set(log.seen) == {"kernel"}
    with path.open("a") as out:
        out.write("rvice - Member Kiosk touchscreen app.\n")
    log.poll()
    assert set(log.seen) == {"kernel", "ready"}


def test_keys_for_a_barcode_end_with_enter() -> None:
    assert bootwatch.keys_for("6901234567892") == [*"6901234567892", "ret"]
    assert bootwatch.keys_for("ab-1") == ["a", "b", "minus", "1", "ret"]
    with pytest.raises(ValueError, match="cannot type"):
        bootwatch.keys_for("A1")


def _shot(name: str) -> Image.Image:
    with Image.open(SHOTS / name) as image:
        return image.convert("RGB")


def test_idle_screen_is_recognised_with_another_shop_name_and_logo() -> None:
    idle = _shot("kiosk-idle-zh.png")
    assert bootwatch.idle_problem(_shot("kiosk-idle_logo-zh.png"), idle) is None
    other_shop = idle.copy()
    ImageDraw.Draw(other_shop).rectangle((200, 90, 600, 150), fill=bootwatch.BACKGROUND)
    assert bootwatch.idle_problem(other_shop, idle) is None


def test_a_text_console_or_another_screen_is_not_the_idle_screen() -> None:
    idle = _shot("kiosk-idle-zh.png")
    console = Image.new("RGB", (800, 480), (0, 0, 0))
    ImageDraw.Draw(console).text((8, 8), "Debian GNU/Linux 12 kiosk tty1", fill=(170, 170, 170))
    assert "background colour" in bootwatch.idle_problem(console, idle)
    assert "top-right buttons" in bootwatch.idle_problem(_shot("kiosk-cart-zh.png"), idle)
    assert "member buttons" in bootwatch.idle_problem(_shot("kiosk-done-zh.png"), idle)  # thank-you screen
    assert bootwatch.idle_problem(Image.new("RGB", (800, 600)), idle) == "the screen is 800x600, not 800x480"


def test_cart_screen_is_recognised_by_its_title_and_pay_button() -> None:
    cart = _shot("kiosk-cart-zh.png")
    assert bootwatch.cart_problem(_shot("kiosk-cart_error-zh.png"), cart) is None
    assert bootwatch.cart_problem(_shot("kiosk-idle-zh.png"), cart) is not None


def test_pay_screen_is_recognised_by_its_title_and_back_button() -> None:
    pay = _shot("kiosk-pay-zh.png")
    assert bootwatch.pay_problem(_shot("kiosk-pay_declined-zh.png"), pay) is None
    assert "pay title" in bootwatch.pay_problem(_shot("kiosk-cart-zh.png"), pay)
    assert bootwatch.pay_problem(_shot("kiosk-idle-zh.png"), pay) is not None


def test_a_tap_is_absolute_tablet_coordinates_then_the_left_button() -> None:
    assert bootwatch.centre(bootwatch.CART_PAY) == (654, 372)
    assert bootwatch.tap_events(654, 372, (800, 480), True) == [
        {"type": "abs", "data": {"axis": "x", "value": 26821}},  # 654 * 32767 / 799
        {"type": "abs", "data": {"axis": "y", "value": 25447}},  # 372 * 32767 / 479
        {"type": "btn", "data": {"down": True, "button": "left"}},
    ]
    corner = bootwatch.tap_events(799, 479, (800, 480), False)
    assert [e["data"] for e in corner] == [
        {"axis": "x", "value": 0x7FFF},
        {"axis": "y", "value": 0x7FFF},
        {"down": False, "button": "left"},
    ]
    with pytest.raises(ValueError, match="outside the 800x480 screen"):
        bootwatch.tap_events(800, 10, (800, 480), True)


def _load_boot_update():
    spec = importlib.util.spec_from_file_location("boot_update", REPO / "image/boot_update.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


boot_update = _load_boot_update()


def test_a_release_is_the_same_wheel_under_a_new_version_and_pip_installs_it(tmp_path: Path) -> None:
    import subprocess
    import zipfile

    from tests.appliance.wheels import GOOD_APP, make_wheel

    source = make_wheel(tmp_path / "house", "0.1.0", GOOD_APP)
    patch = {"kiosk_probe.py": ("time.sleep(300)", "time.sleep(1)")}
    wheel = boot_update.rewrap_wheel(source, "0.3.0", tmp_path / "out", patch)
    assert wheel.name == "member_kiosk-0.3.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert "member_kiosk-0.3.0.dist-info/METADATA" in names
        assert not [n for n in names if "0.1.0" in n]
        assert "Version: 0.3.0\n" in archive.read("member_kiosk-0.3.0.dist-info/METADATA").decode()
        assert "time.sleep(1)" in archive.read("kiosk_probe.py").decode()
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    assert (target / "member_kiosk-0.3.0.dist-info/METADATA").exists()
    with pytest.raises(ValueError, match="not there"):
        boot_update.rewrap_wheel(source, "0.4.0", tmp_path / "out", {"kiosk_probe.py": ("absent", "x")})


def test_the_broken_release_patch_still_applies_to_kiosk_launch() -> None:
    old, new = boot_update.BROKEN_LAUNCH
    assert old in (REPO / "kiosk/launch.py").read_text()
    assert "sys.exit(" in new


def test_terminal_line_picks_the_device_from_hub_release_list() -> None:
    release = "0.2.0\t1 file(s)\tab12…\t2026-12-07\n"
    listing = release + "d-b00700\tonline\trunning 0.2.0\toffered 0.3.0\trolled_back 0.3.0\n"
    line = boot_update.terminal_line(listing, "d-b00700")
    assert line == "d-b00700\tonline\trunning 0.2.0\toffered 0.3.0\trolled_back 0.3.0"
    assert boot_update.terminal_line(listing, "d-000000") == ""


def test_the_paid_sale_check_reads_what_the_hub_booked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The boot test's SQL against a real hub database: the sale, its line, the wallet payment."""
    import datetime as dt
    import time
    from zoneinfo import ZoneInfo

    from hub.db.schema import open_hub_database
    from hub.ingest.batch import ingest_batch
    from kiosk.sync.schema import batch, make_event
    from tests.events import GENESIS, sale_data

    spec = importlib.util.spec_from_file_location("boot_test", REPO / "image/boot_test.py")
    assert spec is not None and spec.loader is not None
    boot_test = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(boot_test)
    monkeypatch.setattr(boot_test, "WORK", tmp_path)
    db = open_hub_database(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        product = boot_test.PRODUCT
        data = sale_data("d-b00700-sale-1", [(product["sku"], product["price_fen"], 1)], store="s-test")
        data["payments"] = [{"method": "wechat", "amount_fen": 250, "reference": "4200000001"}]
        event = make_event(
            event_id="d-b00700-ev-1", device="d-b00700", seq=1, boot="boot",
            ts="2026-12-07T12:00:00.000+08:00", type="sale.completed", prev=GENESIS, data=data,
        )  # fmt: skip
        now = dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC)
        ingest_batch("pos/d-b00700/up/events", batch("d-b00700", [event]), now, ZoneInfo("Asia/Shanghai"))
        sale = boot_test.paid_sale_at_hub("d-b00700", time.monotonic() + 5)
    finally:
        db.close()
    assert sale is not None
    assert sale["sale"] == {
        "total_fen": 250,
        "item_count": 1,
        "currency": "CNY",
        "receipt_no": "s-test-K-d-b00700-sale-1",
    }
    assert {k: sale[k] for k in ("lines", "payments", "sales_payment_day")} == {
        k: v for k, v in boot_test.expected_sale("4200000001").items() if k != "sale"
    }
    assert boot_test.paid_sale_at_hub("d-other", time.monotonic() + 0.1) is None


def test_the_update_units_end_is_read_from_the_console_after_the_offer(tmp_path: Path) -> None:
    import time

    spec = importlib.util.spec_from_file_location("boot_test", REPO / "image/boot_test.py")
    assert spec is not None and spec.loader is not None
    boot_test = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(boot_test)
    console = tmp_path / "serial.log"
    first = "[ 1178.0] systemd[1]: Finished kiosk-update.service - Member Kiosk software update.\n"
    console.write_text(first)
    offset = console.stat().st_size  # the 0.3.0 offer: what the 0.2.0 run printed does not count
    assert boot_test.update_unit_end(console, offset, time.monotonic()) == "no end seen on the console"
    with console.open("a") as out:
        out.write("[ 1786.3] systemd[1]: kiosk-update.service: Main process exited, status=1/FAILURE\n")
        out.write("[ 1786.4] systemd[1]: kiosk-update.service: Failed with result 'exit-code'.\n")
    assert boot_test.update_unit_end(console, offset, time.monotonic()) == "failed"
    console.write_text(first + first.replace("1178.0", "1786.4"))
    assert boot_test.update_unit_end(console, offset, time.monotonic()) == "finished"
