"""A kiosk.toml whose logo file is missing still starts the terminal: the shop name alone, and a warning."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from kiosk.config import KioskConfig, StoreConfig, dump_config
from tests.app.test_kiosk_window import PIN, WATER, zh


def test_kiosk_run_with_a_missing_logo_starts_with_the_name_alone_logs_the_warning_and_sells(
    tmp_path: Path, display: str
) -> None:
    logo = tmp_path / "boot" / "logo.png"  # never copied onto the card
    config = KioskConfig.demo(data_path=str(tmp_path / "kiosk.db"))
    config.store = StoreConfig(id="s-demo", name="街角便利店", logo=str(logo))
    toml = tmp_path / "kiosk.toml"
    toml.write_text(dump_config(config))
    steps = [
        {"observe": "idle"}, {"scan": WATER}, {"tap": "cart:pay"}, {"tap": "pay:cash"}, {"pin": PIN},
        {"wait_until": "receipt"}, {"observe": "sold"},
    ]  # fmt: skip
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"steps": steps, "report": str(tmp_path / "report.json")}))
    env = {**os.environ, "DISPLAY": display, "KIVY_HOME": str(tmp_path / "kivy")}
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "run", "--config", str(toml), "--demo", "--script", str(script)],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    # the line of `logo = ...` in the file written above, found the way a person reading the warning would
    (logo_line,) = [n for n, text in enumerate(toml.read_text().splitlines(), 1) if text.startswith("logo =")]
    warning = (
        f"{toml}:{logo_line}: `store.logo`: no file at {logo}; copy the logo there or remove `logo` "
        f"(the shop name is shown alone)\n"
        f"    {logo} 不存在；请把标志图片放到这里，或删除 `logo`（现只显示店名）"
    )
    assert warning in result.stderr
    (line,) = [x for x in result.stderr.splitlines() if "`store.logo`" in x]
    # logged as a warning in the CLI's format (time, level, logger), and the app ran on
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING kiosk: ", line), line
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["errors"] == []
    idle = report["screens"]["idle"]
    assert (idle["current"], idle["texts"]["shop"]) == ("idle", zh("街角便利店"))
    assert idle["images"] == {}  # no logo drawn: the shop name alone
    sold = report["screens"]["sold"]
    assert (sold["current"], report["receipt_no"].startswith("s-demo-d-demo-")) == ("receipt", True)
