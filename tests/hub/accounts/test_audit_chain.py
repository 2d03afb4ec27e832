"""The owner's audit log is a hash chain: an edit, a removal or an insertion behind the hub's back shows."""

import datetime as dt
import re

from click.testing import CliRunner

from hub.accounts import audit
from hub.cli import main as hub_main
from hub.devtools.loyalty_story import TZ
from hub.members.models import OwnerAudit
from hub.web.app import create_app

NOW = dt.datetime(2026, 11, 24, 15, 30, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def write_three() -> None:
    for n, action in enumerate(["catalog.update", "rules.saved", "member.erased"]):
        audit.record("owner", action, f"thing:{n}", NOW + dt.timedelta(minutes=n), n=n, text="价格 ¥7.20")


def test_a_clean_log_verifies_and_every_kind_of_tampering_is_found(hub_db, hub_db_url: str) -> None:  # type: ignore[no-untyped-def]
    write_three()
    assert audit.verify() == (3, [])
    rows = list(OwnerAudit.select().order_by(OwnerAudit.id))
    assert rows[0].prev == audit.GENESIS and rows[1].prev == rows[0].hash and len(rows[2].hash) == 64
    cli = CliRunner()
    ok = cli.invoke(hub_main, ["audit", "verify", "--db", hub_db_url])
    assert (ok.exit_code, ok.output) == (0, "审计日志完整：3 条 / audit log intact: 3 rows\n")

    OwnerAudit.update(by="someone else").where(OwnerAudit.id == rows[1].id).execute()
    assert audit.verify() == (3, [audit.Break(rows[1].id, "was changed after it was written")])
    OwnerAudit.update(by="owner").where(OwnerAudit.id == rows[1].id).execute()
    assert audit.verify() == (3, [])

    OwnerAudit.delete().where(OwnerAudit.id == rows[1].id).execute()
    count, breaks = audit.verify()
    assert count == 2
    assert breaks == [
        audit.Break(rows[2].id, "does not follow the row before it (a row was removed or inserted)")
    ]
    broken = cli.invoke(hub_main, ["audit", "verify", "--db", hub_db_url])
    assert broken.exit_code == 1 and "audit log broken in 1 place(s) of 2 rows" in broken.output
    assert f"row {rows[2].id}: does not follow the row before it" in broken.output


def test_rows_from_before_the_chain_are_chained_in_order(hub_db) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):
        OwnerAudit.create(at=NOW, by="owner", action="old", subject=f"s{n}", detail="{}")
    assert audit.verify()[1] != []
    assert audit.chain_unchained() == 3
    audit.record("owner", "new", "s3", NOW)
    assert audit.verify() == (4, [])


def test_the_audit_page_shows_a_broken_chain_to_the_owner(hub_db, signed_in) -> None:  # type: ignore[no-untyped-def]
    write_three()
    owner = signed_in(create_app(TZ))
    page = owner.get("/audit?lang=en").text
    assert re.search(r'id="chain-ok">Hash chain intact: (\d+) rows', page).group(1) == str(
        OwnerAudit.select().count()
    )  # type: ignore[union-attr]
    assert '<span id="signed-in">owner</span>' in page and 'id="nav-audit"' in page
    victim = OwnerAudit.get(OwnerAudit.action == "rules.saved")
    OwnerAudit.update(detail='{"n": 9}').where(OwnerAudit.id == victim.id).execute()
    page = owner.get("/audit").text
    assert "哈希链已断开：1 处记录" in page
    assert f'<tr id="audit-{victim.id}" class="broken" title="was changed after it was written">' in page
    assert signed_in(create_app(TZ), "accountant").get("/audit").status_code == 403


def test_an_anchor_kept_outside_shows_the_newest_rows_removed_or_the_end_rewritten(
    hub_db, hub_db_url: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    write_three()
    cli = CliRunner()
    stick = tmp_path / "usb" / "audit-anchors.txt"
    stick.parent.mkdir()
    printed = cli.invoke(hub_main, ["audit", "anchor", "--db", hub_db_url, "--append", str(stick)])
    rows = list(OwnerAudit.select().order_by(OwnerAudit.id))
    kept = f"{rows[2].id}:{rows[2].hash}"
    assert (printed.exit_code, printed.output) == (0, f"{kept}\n")
    assert stick.read_text().split()[1] == kept  # a dated line on the stick
    ok = cli.invoke(hub_main, ["audit", "verify", "--db", hub_db_url, "--anchor", kept])
    assert (ok.exit_code, ok.output) == (
        0,
        f"审计日志完整：3 条，锚点行 {rows[2].id} 仍在 / "
        f"audit log intact: 3 rows, anchor row {rows[2].id} still there\n",
    )

    # the newest row deleted: the chain that is left still verifies; the anchor does not
    OwnerAudit.delete().where(OwnerAudit.id == rows[2].id).execute()
    assert audit.verify() == (2, [])
    cut = cli.invoke(hub_main, ["audit", "verify", "--db", hub_db_url, "--anchor", kept])
    assert cut.exit_code == 1
    assert f"row {rows[2].id}: the anchored row is gone: the newest rows were removed" in cut.output

    # the last two rows rewritten with fresh hashes, the same ids: a chain that verifies, a changed end
    OwnerAudit.delete().where(OwnerAudit.id == rows[1].id).execute()
    prev = rows[0].hash
    for row, by in ((rows[1], "someone else"), (rows[2], "someone else")):
        digest = audit.row_hash(prev, row.at, by, row.action, row.subject, row.detail)
        OwnerAudit.insert(id=row.id, at=row.at, by=by, action=row.action, subject=row.subject,
                          detail=row.detail, prev=prev, hash=digest).execute()  # fmt: skip
        prev = digest
    assert audit.verify() == (3, [])
    rewritten = cli.invoke(hub_main, ["audit", "verify", "--db", hub_db_url, "--anchor", kept])
    assert rewritten.exit_code == 1
    assert f"row {rows[2].id}: the anchored row has another hash now: the log was rewritten up to it" in (
        rewritten.output
    )
    bad = cli.invoke(hub_main, ["audit", "verify", "--db", hub_db_url, "--anchor", "12:nothex"])
    assert bad.exit_code == 2 and "not an anchor" in bad.output and "Traceback" not in bad.output
