"""What `kiosk run` leaves unimported until it is needed (memory, docs/perf.md "Memory, fourth pass")."""

import os
import subprocess
import sys

from click.testing import CliRunner

from kiosk.cli import GROUPS, main

#: loaded on first use: the update, hardware and configuration tools, phone numbers, QR codes
LATER = ("kiosk.updates.cli", "kiosk.hw.cli", "kiosk.config_cli", "phonenumbers", "qrcode")


def _run(script: str) -> list[str]:
    env = {**os.environ, "KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    return done.stdout.splitlines()


def test_the_app_and_its_flows_import_none_of_the_later_modules() -> None:
    script = (
        "import sys, datetime as dt, kiosk.cli, kiosk.app, kiosk.flows.receipt, kiosk.store.members\n"
        f"print(sorted(m for m in {LATER!r} if m in sys.modules))\n"
        "from kiosk.domain.loyalty.phone import mask_phone\n"
        "print(mask_phone('+8613812341234'), 'phonenumbers' in sys.modules, 'qrcode' in sys.modules)\n"
        "from kiosk.hw.receipt_render import render_receipt, sample_receipt\n"
        "print(render_receipt(sample_receipt(dt.datetime(2026, 12, 7, 12))).width, 'qrcode' in sys.modules)\n"
    )
    assert _run(script) == ["[]", "138****1234 True False", "576 True"]


def test_each_group_is_found_when_named() -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["--help"])
    assert listed.exit_code == 0
    assert all(f"  {name} " in listed.output for name in (*GROUPS, "run", "sync", "db"))
    for name in GROUPS:
        shown = runner.invoke(main, [name, "--help"])
        assert shown.exit_code == 0, shown.output
        assert shown.output.startswith(f"Usage: main {name} [OPTIONS] COMMAND [ARGS]...")
