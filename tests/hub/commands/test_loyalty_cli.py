"""``hub member`` import, export, show and merge on a real SQLite hub database."""

import base64
import datetime as dt
from pathlib import Path

import pytest
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
    assert imported.stdout.splitlines() == ["imported 2 members, updated 0, skipped 2"]
    assert imported.stderr.startswith("line 4: skipped: not a valid phone number: '12345'")

    exported = runner.invoke(main, ["member", "export", "--db", db, "--key-file", str(key)])
    lines = exported.stdout.splitlines()
    assert lines[0] == "id,phone,name,tier,points,stored_principal,stored_bonus,tags"
    assert sorted(line.split(",", 1)[1] for line in lines[1:]) == [
        "+8613812341234,张三,,0,0,0,",
        "+8613900000000,李四,,0,0,0,",
    ]
    first, second = (line.split(",", 1)[0] for line in lines[1:])

    merged = runner.invoke(main, ["member", "merge", first, second, "--by", "owner", "--db", db])
    assert merged.exit_code == 0, merged.output
    assert merged.output == f"merged {second} into {first}: 0 entries\n"
    shown = runner.invoke(main, ["member", "show", second, "--db", db])
    assert shown.output == f"member {second} tier=- now={first}\n"
    missing = runner.invoke(main, ["member", "show", "nobody", "--db", db])
    assert missing.exit_code == 1 and "会员不存在" in missing.output


def test_import_and_export_carry_tags_and_attributes(tmp_path: Path) -> None:
    from hub.db.schema import open_hub_database
    from hub.members import attributes as member_attributes
    from kiosk.domain.loyalty.attributes import AttributeSpec

    db = f"sqlite:///{tmp_path / 'hub.db'}"
    key = tmp_path / "data.key"
    key.write_text(base64.b64encode(bytes(range(32))).decode())
    open_hub_database(db)
    skin = AttributeSpec(code="skin", label_zh="肤质", type="choice", options=("干性", "油性"))
    member_attributes.define_attribute(skin, "owner", dt.datetime(2026, 11, 24, tzinfo=dt.UTC))
    member_attributes.define_attribute(
        AttributeSpec(code="height_cm", label_zh="身高", type="number"),
        "owner",
        dt.datetime(2026, 11, 24, 1, tzinfo=dt.UTC),
    )
    rows = tmp_path / "members.csv"
    rows.write_text(
        "phone,name,tags,attr:skin,attr:height_cm\n"
        "13812341234,张三,VIP|宝妈,油性,162.0\n"
        "13900000000,李四,,中性,\n"
        "13700000000,王五,团购;客户,,\n"
        "13812341234,,老客,,\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    imported = runner.invoke(main, ["member", "import", str(rows), "--db", db, "--key-file", str(key)])
    assert imported.stdout.splitlines() == ["imported 1 members, updated 1, skipped 2"]
    assert imported.stderr.splitlines() == [
        "line 3: skipped: 肤质 (skin): “中性” is not one of 干性 / 油性 / 请从选项中选择",
        "line 4: skipped: tag “团购;客户” contains a separator (, ; |) / 标签不能包含逗号、分号或竖线",
    ]
    exported = runner.invoke(
        main, ["member", "export", "--db", db, "--key-file", str(key)]
    ).stdout.splitlines()
    assert (
        exported[0] == "id,phone,name,tier,points,stored_principal,stored_bonus,tags,attr:skin,attr:height_cm"
    )
    assert [line.split(",", 1)[1] for line in exported[1:]] == ["+8613812341234,张三,,0,0,0,老客,油性,162"]

    again = tmp_path / "again.csv"
    again.write_text("\n".join(exported) + "\n", encoding="utf-8")
    reimported = runner.invoke(main, ["member", "import", str(again), "--db", db, "--key-file", str(key)])
    assert reimported.stdout == "imported 0 members, updated 1, skipped 0\n"
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("phone,attr:eyes\n13812341234,blue\n", encoding="utf-8")
    refused = runner.invoke(main, ["member", "import", str(unknown), "--db", db, "--key-file", str(key)])
    assert refused.exit_code == 1 and "columns attr:eyes: no such attribute" in refused.output
    member_id = exported[1].split(",", 1)[0]
    shown = runner.invoke(main, ["member", "show", member_id, "--db", db]).output
    assert shown.splitlines() == [
        f"member {member_id} tier=- now={member_id}",
        "  tags: 老客",
        "  attr:height_cm: 162",
        "  attr:skin: 油性",
    ]


@pytest.mark.parametrize("hub_db_url", ["sqlite", "postgresql"], indirect=True)
def test_import_in_chunks_counts_repeats_across_chunks_and_versions_each_new_member(
    hub_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.commands import member as member_cli
    from hub.db.schema import open_hub_database
    from hub.members import attributes as member_attributes
    from hub.members import feed as member_feed
    from hub.members.models import HubMember
    from kiosk.store.pii import PiiKey

    monkeypatch.setattr(member_cli, "IMPORT_CHUNK", 3)
    monkeypatch.setattr(member_cli, "INSERT_ROWS", 2)
    key = tmp_path / "data.key"
    key.write_text(base64.b64encode(bytes(range(32))).decode())
    rows = tmp_path / "members.csv"
    rows.write_text(
        "phone,name,birthday,tags\n"
        "13800000001,一号,1990-01-01,\n"
        "13800000002,二号,,\n"
        "bad,坏,,\n"  # line 4: the first chunk's third row
        "138 0000 0001,一号again,,\n"  # a repeat of line 2, in the next chunk: no second member
        "13800000003,三号,1990-02-30,\n"  # line 6: no such date
        "13800000001,,,VIP\n"  # tags for line 2's member
        "13800000004,四号,,\n"
        "13800000005,,,\n",
        encoding="utf-8",
    )
    imported = CliRunner().invoke(
        main, ["member", "import", str(rows), "--db", hub_db_url, "--key-file", str(key), "--store", "S02"]
    )
    assert imported.exit_code == 0, imported.output
    assert imported.stdout == "imported 4 members, updated 1, skipped 3\n"
    assert imported.stderr.splitlines() == [
        "line 4: skipped: not a phone number: 'bad' / 不是手机号：“bad”",
        "line 6: skipped: day is out of range for month",
    ]
    db = open_hub_database(hub_db_url)
    try:
        data_key = PiiKey(bytes(range(32)))
        found = {}
        for m in HubMember.select():
            phone = data_key.decrypt(m.phone_enc, f"{m.id}:phone")
            name = data_key.decrypt(m.name_enc, f"{m.id}:name") if m.name_enc else ""
            birthday = data_key.decrypt(m.birthday_enc, f"{m.id}:birthday") if m.birthday_enc else ""
            assert m.phone_index == data_key.blind_index(phone)
            found[phone] = (name, birthday, m.home_store, m.source)
        assert found == {
            "+8613800000001": ("一号", "1990-01-01", "S02", "import"),
            "+8613800000002": ("二号", "", "S02", "import"),
            "+8613800000004": ("四号", "", "S02", "import"),
            "+8613800000005": ("", "", "S02", "import"),
        }
        versions = sorted(v.version for v in member_feed.MemberVersion.select())
        assert (versions, member_feed.current_version()) == ([1, 2, 3, 4], 4)
        first = HubMember.get(HubMember.phone_index == data_key.blind_index("+8613800000001"))
        assert member_attributes.member_tags(first.id) == ["VIP"]
    finally:
        db.close()
