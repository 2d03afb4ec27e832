"""A real Kivy window under Xvfb: scans arrive through the fake scanner and the hardware queue."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from PIL import Image

WATER, MILK, DUMPLINGS = "6901010370005", "6902010370187", "6910012221116"
UNKNOWN = "6901234567892"  # a valid EAN-13 that is not in the catalog
GARBLED = "6901010370006"  # water's barcode with a wrong check digit


def run_kiosk(tmp_path: Path, display: str, script: dict[str, object]) -> dict:  # type: ignore[type-arg]
    script_path = tmp_path / "script.json"
    script_path.write_text(json.dumps(script))
    env = {**os.environ, "DISPLAY": display, "KIVY_HOME": str(tmp_path / "kivy")}
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "run", "--db", str(tmp_path / "kiosk.db"), "--demo",
         "--script", str(script_path)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((tmp_path / "report.json").read_text())


def test_scans_fill_the_cart_and_cash_sale_lands_in_the_outbox(tmp_path: Path, display: str) -> None:
    report = run_kiosk(
        tmp_path,
        display,
        {
            "barcodes": [WATER, MILK, WATER, DUMPLINGS],
            "bad_barcodes": [UNKNOWN, GARBLED],
            "screenshots": str(tmp_path / "shots"),
            "report": str(tmp_path / "report.json"),
        },
    )
    assert report["errors"] == []
    assert report["screens"]["cart"] == {
        "current": "cart",
        "rows": [
            ["农夫山泉 550ml", "2 × ¥2.00", "¥4.00"],
            ["蒙牛纯牛奶 250ml", "1 × ¥3.50", "¥3.50"],
            ["湾仔码头 虾仁水饺 300g", "1 × ¥26.90", "¥26.90"],
        ],
        "total": "¥34.40",
        "count": "4 件",
    }
    assert report["messages"] == [
        f"条码 {UNKNOWN} 未找到该商品，未加入购物车。请找店员帮助。",
        f"条码 {GARBLED} 读取有误（校验位不对），请重新扫描。",
    ]
    assert report["screens"]["pay"] == {"total": "¥34.40"}
    receipt = report["receipt_no"]
    assert receipt.startswith("S01-K01-") and receipt.endswith("0001")
    assert report["screens"]["done"]["paid"] == "已付: ¥34.40"

    with sqlite3.connect(tmp_path / "kiosk.db") as db:
        assert db.execute("select receipt_no, total_fen from sale").fetchall() == [(receipt, 3440)]
        assert db.execute("select type, seq, sent_at from outbox").fetchall() == [("sale.completed", 1, None)]
        lines = db.execute("select sku, quantity, total_fen from sale_line order by position").fetchall()
        assert lines == [("DRK-001", 2, 400), ("DRY-001", 1, 350), ("FRZ-006", 1, 2690)]

    shots = sorted(p.name for p in (tmp_path / "shots").iterdir())
    assert shots == sorted(
        f"kiosk-{screen}-{lang}.png"
        for screen in ("idle", "cart", "cart_error", "pay", "done")
        for lang in ("zh", "en")
    )
    with Image.open(tmp_path / "shots" / "kiosk-cart-zh.png") as image:
        assert image.size == (800, 480)


def test_unknown_barcode_alone_adds_nothing(tmp_path: Path, display: str) -> None:
    report = run_kiosk(
        tmp_path,
        display,
        {"barcodes": [], "bad_barcodes": [UNKNOWN], "pay": False, "report": str(tmp_path / "report.json")},
    )
    assert report["screens"]["cart"]["rows"] == []
    assert report["screens"]["cart"]["total"] == "¥0.00"
    assert report["messages"] == [f"条码 {UNKNOWN} 未找到该商品，未加入购物车。请找店员帮助。"]
    with sqlite3.connect(tmp_path / "kiosk.db") as db:
        assert db.execute("select count(*) from sale").fetchone() == (0,)
        assert db.execute("select count(*) from outbox").fetchone() == (0,)
