"""``hub member`` import, export, show and merge on a real SQLite hub database."""

import base64
from pathlib import Path

from click.testing import CliRunner

from hub.cli import main


def test_import_export_show_merge(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    key = tmp_path / "data.key"
    key.write_text(base64.b64encode(bytes(range(32))).decode())
    rows = tmp_path / "members.csv"
    rows.write_text(
        "phone,name,birthday\n"
        "13812341234,张三,1990-03-22\n"
        "138 1234 1234,张三,\n"
        "12345,坏号码,\n"
        "13900000000,李四,\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    imported = runner.invoke(main, ["member", "import", str(rows), "--db", db, "--key-file", str(key)])
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.splitlines() == ["imported 2 members, skipped 2"]
    assert imported.stderr.startswith("line 4: skipped: not a valid phone number: '12345'")

    exported = runner.invoke(main, ["member", "export", "--db", db, "--key-file", str(key)])
    lines = exported.stdout.splitlines()
    assert lines[0] == "id,phone,name,tier,points,stored_principal,stored_bonus"
    assert sorted(line.split(",", 1)[1] for line in lines[1:]) == [
        "+8613812341234,张三,,0,0,0",
        "+8613900000000,李四,,0,0,0",
    ]
    first, second = (line.split(",", 1)[0] for line in lines[1:])

    merged = runner.invoke(main, ["member", "merge", first, second, "--by", "owner", "--db", db])
    assert merged.exit_code == 0, merged.output
    assert merged.output == f"merged {second} into {first}: 0 entries\n"
    shown = runner.invoke(main, ["member", "show", second, "--db", db])
    assert shown.output == f"member {second} tier=- now={first}\n"
    missing = runner.invoke(main, ["member", "show", "nobody", "--db", db])
    assert missing.exit_code == 1 and "会员不存在" in missing.output
