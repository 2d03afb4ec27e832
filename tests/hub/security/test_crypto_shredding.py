"""Crypto-shredding: erasure deletes the member's data key, so every earlier copy opens for nobody.

Two members: one registers at a terminal (its ``member.registered`` carries the data key, wrapped
under the business key), one at the hub's front desk. A sealed backup is taken, the terminal's
member is erased, and the backup is restored into an empty hub that keeps the live key store:
the erased member's phone and name do not open, in the member row or in the raw event, the other
member's do, and both members' balances are what they were.
"""

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from peewee import SqliteDatabase

from hub.cli import main as hub_cli
from hub.db import transaction
from hub.db.backup import restore_backup, restore_key_store, take_backup
from hub.db.schema import connect_hub_database, open_hub_database
from hub.db.sealing import load_private, make_keys
from hub.ingest.batch import ingest_batch
from hub.ingest.models import Event, Quarantine
from hub.jobs import catalog
from hub.jobs.runner import JobContext
from hub.members import ledger as loyalty
from hub.members.book import erase_member, register_at_hub
from hub.members.feed import current_version, member_states
from hub.members.key_store import KEY_STORE_FILE, MemberKeyStore
from hub.members.models import HubMember
from hub.members.settings import settings
from hub.messaging import queue as messages
from hub.messaging.models import MarketingConsent
from kiosk.domain.loyalty import POINTS, LoyaltyRules
from kiosk.store import members
from kiosk.store.pii import PiiError
from kiosk.store.sales import Terminal
from kiosk.sync.schema import batch
from tests.conftest import _postgres_database
from tests.hub.members.test_loyalty import CONSENT, KEY, NOW, grant, ingest, on_terminal

TERMINAL_PHONE, DESK_PHONE = "13812341234", "13900002222"


@pytest.fixture
def key_store(tmp_path: Path) -> Iterator[MemberKeyStore]:
    store = MemberKeyStore(tmp_path / "data" / "member_keys.db")
    loyalty.configure(LoyaltyRules(), KEY, key_store=store)
    yield store
    loyalty.configure(LoyaltyRules(), None)
    store.close()


def at_terminal(terminal: Terminal) -> None:
    members.register_member(KEY, terminal, NOW, TERMINAL_PHONE, CONSENT, member_id="m-t", name="张三")
    grant(terminal, "m-t", 300)


def personal(member_id: str) -> tuple[str, str]:
    """The member's phone and name as the hub reads them now (PiiError when they do not open)."""
    row = HubMember.get_by_id(member_id)
    key = settings.key
    assert key is not None
    return key.decrypt(row.phone_enc, f"{member_id}:phone"), key.decrypt(row.name_enc, f"{member_id}:name")


def registered_body(member_id: str) -> dict:  # type: ignore[type-arg]
    [body] = [json.loads(e.body) for e in Event.select().where(Event.type == "member.registered")]
    assert body["data"]["member"]["id"] == member_id
    return body["data"]["member"]


def test_an_erased_member_stays_unreadable_in_a_backup_restored_with_the_live_key_store(  # type: ignore[no-untyped-def]
    hub_db, tmp_path: Path, key_store: MemberKeyStore
) -> None:
    private, public = tmp_path / "owner" / "backup.key", tmp_path / "data" / "backup.pub"
    make_keys(private, public)
    assert ingest("K01", on_terminal(tmp_path, "K01", at_terminal)).applied == 2
    with transaction():
        desk = register_at_hub(
            DESK_PHONE, "李四", None, ("privacy-2026-01", "S01/desk"), "S01", NOW
        ).member_id
    # the raw event keeps no data key; the member's fields are under their own key, which the
    # business key alone does not open
    raw = registered_body("m-t")
    assert raw["data_key"] == "" and raw["phone_enc"].startswith("dk-")
    with pytest.raises(PiiError, match="data key is not held"):
        KEY.decrypt(raw["phone_enc"], "m-t:phone")
    assert personal("m-t") == ("+86" + TERMINAL_PHONE, "张三")
    assert personal(desk) == ("+86" + DESK_PHONE, "李四")
    assert sorted(key_store.get_many(["m-t", desk])) == sorted(["m-t", desk])
    # terminals get each member's data key with the member
    [state] = member_states([HubMember.get_by_id(desk)], "K01")
    assert KEY.unwrap_data_key(state["member"]["data_key"], desk) == KEY.unwrap_data_key(
        key_store.get(desk), desk
    )
    balances = {"m-t": loyalty.member_balances("m-t"), desk: loyalty.member_balances(desk)}
    assert balances == {"m-t": {POINTS: 300}, desk: {}}

    taken = take_backup(hub_db, tmp_path / "backups", public, NOW, keep=7, key_store=key_store)
    assert taken.keys is not None and b"SQLite format" not in taken.keys.read_bytes()[:4096]
    with transaction():
        erase_member("m-t", dt.datetime(2026, 11, 25, tzinfo=NOW.tzinfo))
    assert key_store.get("m-t") is None
    [erased] = member_states([HubMember.get_by_id("m-t")], "K01")
    assert erased == {"id": "m-t", "version": erased["version"], "erased": True}

    with contextlib.ExitStack() as stack:
        if isinstance(hub_db, SqliteDatabase):
            url = f"sqlite:///{tmp_path / 'restored' / 'hub.db'}"
        else:
            url = stack.enter_context(contextlib.contextmanager(_postgres_database)())
        restored = connect_hub_database(url)
        restore_backup(taken.path, load_private(private), restored)
        restored.close()
        open_hub_database(url)
        said = restore_key_store(taken.path.parent, load_private(private), key_store.path)
        assert said.startswith("kept the live member key store")
        # the backup still holds the erased member's ciphertexts: nobody can open them
        row = HubMember.get_by_id("m-t")
        assert row.erased_at is None and row.phone_enc.startswith("dk-") and row.name_enc.startswith("dk-")
        for field in ("phone", "name"):
            with pytest.raises(PiiError, match="data key is not held here"):
                settings.key.decrypt(getattr(row, f"{field}_enc"), f"m-t:{field}")  # type: ignore[union-attr]
            with pytest.raises(PiiError):
                settings.key.decrypt(registered_body("m-t")[f"{field}_enc"], f"m-t:{field}")  # type: ignore[union-attr]
        assert personal(desk) == ("+86" + DESK_PHONE, "李四")
        assert {m: loyalty.member_balances(m) for m in ("m-t", desk)} == balances


def test_a_restore_without_a_live_key_store_takes_the_newest_sealed_one(tmp_path: Path) -> None:
    private, public = tmp_path / "owner" / "backup.key", tmp_path / "backup.pub"
    make_keys(private, public)
    store = MemberKeyStore(tmp_path / "member_keys.db")
    store.put("m-1", KEY.wrap_data_key(b"k" * 32, "m-1"))
    hub = SqliteDatabase(str(tmp_path / "hub.db"))
    hub.connect()
    folder = tmp_path / "backups"
    for hour in (1, 2, 3):  # only the newest two key-store backups are kept
        take_backup(hub, folder, public, dt.datetime(2026, 12, 7, hour), keep=7, key_store=store)
    assert sorted(p.name for p in folder.glob("member_keys-*")) == [
        "member_keys-20261207-020000.db.sealed",
        "member_keys-20261207-030000.db.sealed",
    ]
    live = tmp_path / "new" / "member_keys.db"
    said = restore_key_store(folder, load_private(private), live)
    assert said.startswith(
        f"member key store restored from {folder / 'member_keys-20261207-030000.db.sealed'}"
    )
    assert live.stat().st_mode & 0o777 == 0o600
    assert KEY.unwrap_data_key(MemberKeyStore(live).get("m-1") or "", "m-1") == b"k" * 32


def test_members_from_before_data_keys_get_one_each_and_read_the_same(  # type: ignore[no-untyped-def]
    hub_db, tmp_path: Path
) -> None:
    loyalty.configure(LoyaltyRules(), KEY)  # a hub from before data keys: fields under the business key
    with transaction():
        old = [
            register_at_hub(phone, name, None, ("privacy-2026-01", "S01/desk"), "S01", NOW).member_id
            for phone, name in ((TERMINAL_PHONE, "张三"), (DESK_PHONE, "李四"))
        ]
        messages.set_consent(old[0], True, "m-1", "S01/desk", "owner", NOW, email="zs@example.cn")
    assert HubMember.get_by_id(old[0]).phone_enc.startswith(f"{KEY.key_id}:")
    before = current_version()
    store = MemberKeyStore(tmp_path / "data" / "member_keys.db")
    loyalty.configure(LoyaltyRules(), KEY, key_store=store)
    try:
        job = catalog.job_named("data_keys")
        assert job.run(JobContext(NOW, NOW.tzinfo, dry_run=True)).figures == {"left": 2}  # type: ignore[arg-type]
        done = job.run(JobContext(NOW, NOW.tzinfo))  # type: ignore[arg-type]
        assert (done.figures, done.summary_en) == (
            {"moved": 2, "unreadable": 0},
            "2 members given a data key, 0 unreadable",
        )
        assert current_version() == before + 2  # terminals get both members again, with their keys
        assert sorted(store.get_many(old)) == sorted(old)
        rows = [HubMember.get_by_id(m) for m in old]
        assert [(r.phone_enc[:3], r.name_enc[:3]) for r in rows] == [("dk-", "dk-"), ("dk-", "dk-")]
        assert [personal(m) for m in old] == [("+86" + TERMINAL_PHONE, "张三"), ("+86" + DESK_PHONE, "李四")]
        email = MarketingConsent.get_by_id(old[0]).email_enc
        assert email.startswith("dk-") and settings.key.decrypt(email, f"{old[0]}:email") == "zs@example.cn"  # type: ignore[union-attr]
        assert job.run(JobContext(NOW, NOW.tzinfo)).figures == {"moved": 0, "unreadable": 0}  # type: ignore[arg-type]
        with transaction():
            erase_member(old[0], NOW)
        with pytest.raises(PiiError, match="data key is not held here"):
            settings.key.decrypt(rows[0].phone_enc, f"{old[0]}:phone")  # type: ignore[union-attr]
    finally:
        loyalty.configure(LoyaltyRules(), None)
        store.close()


def test_hub_backup_and_restore_carry_the_member_key_store(tmp_path: Path) -> None:
    runner, data, owner = CliRunner(), tmp_path / "data", tmp_path / "owner.key"
    made = runner.invoke(hub_cli, ["backup-key", "--private", str(owner), "--data-dir", str(data)])
    assert made.exit_code == 0, made.output
    store = MemberKeyStore(data / KEY_STORE_FILE)
    wrapped = store.put("m-1", KEY.wrap_data_key(b"k" * 32, "m-1"))
    store.close()
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    taken = runner.invoke(hub_cli, ["backup", "--db", db, "--data-dir", str(data)])
    [sealed_keys] = (data / "backups").glob("member_keys-*.db.sealed")
    assert taken.exit_code == 0 and f"member key store sealed to {sealed_keys}" in taken.output
    [sealed] = (data / "backups").glob("hub-*.db.sealed")
    new_data = tmp_path / "new-data"  # a new machine: no key store yet, then the one restored
    first, then = f"member key store restored from {sealed_keys}", "kept the live member key store"
    for n, said in ((1, first), (2, then)):
        target = f"sqlite:///{tmp_path / f'new{n}' / 'hub.db'}"
        done = runner.invoke(
            hub_cli,
            ["restore", str(sealed), "--key", str(owner), "--data-dir", str(new_data), "--db", target],
        )
        assert done.exit_code == 0 and said in done.output, done.output
        assert MemberKeyStore(new_data / KEY_STORE_FILE).get("m-1") == wrapped


def test_a_quarantined_registration_keeps_no_data_key_and_its_key_is_kept(  # type: ignore[no-untyped-def]
    hub_db, tmp_path: Path, key_store: MemberKeyStore
) -> None:
    [registered, _] = on_terminal(tmp_path, "K01", at_terminal)
    sent = registered["data"]["member"]["data_key"]
    result = ingest_batch("pos/K02/up/events", batch("K02", [registered]), NOW, NOW.tzinfo)  # another's event
    assert [r["id"] for r in result.rejected] == [registered["id"]]
    [held] = Quarantine.select()
    assert json.loads(held.payload)["data"]["member"]["data_key"] == "" and sent not in held.payload
    assert KEY.unwrap_data_key(key_store.get("m-t") or "", "m-t") == KEY.unwrap_data_key(sent, "m-t")
