"""``make demo`` headless: the whole system, one scripted sale, reaches the hub."""

import os
import re
import subprocess
import sys
from pathlib import Path


def test_headless_demo_sells_and_the_hub_sees_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.devtools.demo", "--workdir", str(tmp_path / "demo"),
         "--screenshots", str(tmp_path / "shots")],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    # no default password: the demo made one for its owner account and says it
    [hub_line] = [line for line in lines if line.startswith("demo: hub dashboard on ")]
    assert re.fullmatch(
        r"demo: hub dashboard on http://127\.0\.0\.1:\d+/ \(sign in: owner / [\w-]{16}\)", hub_line
    )
    assert "demo: hub sees today: 1 sale(s), 1050 fen" in lines
    assert lines[-1] == "demo: OK"
    hub_shots = {p.name for p in (tmp_path / "shots").iterdir() if p.is_file()}
    assert hub_shots == {"hub-login-zh.png", "hub-login-en.png"}
    kiosk_shots = {p.name for p in (tmp_path / "shots" / "demo").iterdir()}
    assert {"kiosk-idle-zh.png", "kiosk-cart-en.png", "kiosk-done-zh.png", "kiosk-pay-en.png"} <= kiosk_shots
