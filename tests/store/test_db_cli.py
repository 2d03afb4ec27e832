from pathlib import Path

from click.testing import CliRunner

from kiosk.cli import main


def test_db_migrate_then_info_reports_schema_and_counts(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    runner = CliRunner()
    migrated = runner.invoke(main, ["db", "migrate", "--db", str(db), "--demo-catalog"])
    assert migrated.exit_code == 0, migrated.output
    assert migrated.output.splitlines() == [
        f"{db}: migrations applied: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]",
        "demo products added: 123",  # 112 with barcodes + 11 loose (bakery, produce, bags)
    ]
    again = runner.invoke(main, ["db", "migrate", "--db", str(db), "--demo-catalog"])
    assert again.output.splitlines()[-1] == "demo products added: 0"
    info = runner.invoke(main, ["db", "info", "--db", str(db)])
    assert info.exit_code == 0, info.output
    lines = info.output.splitlines()
    assert "  product: 123" in lines
    assert "  sale: 0" in lines
    assert lines[-4:] == [
        "member version: 0 (no snapshot yet)",
        "often bought together: version 0, rules: 0",
        "event sequence: 0",
        "outbox pending: 0",
    ]


def test_bad_paths_and_sizes_are_one_clear_line_and_create_nothing(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = tmp_path / "nowhere" / "kiosk.db"
    info = runner.invoke(main, ["db", "info", "--db", str(missing)])
    assert info.exit_code == 2 and f"no terminal database at {missing}" in info.output
    assert not (tmp_path / "nowhere").exists()
    folder = runner.invoke(main, ["db", "migrate", "--db", str(tmp_path)])
    assert folder.exit_code == 2 and "is a directory: name the database file" in folder.output
    size = runner.invoke(main, ["run", "--size", "big", "--db", str(tmp_path / "k.db")])
    assert size.exit_code == 2 and "'big': use WxH, e.g. 800x480 / 窗口大小应为" in size.output
    assert not (tmp_path / "k.db").exists()
    assert all("Traceback" not in r.output for r in (info, folder, size))
