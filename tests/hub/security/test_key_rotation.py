"""``hub keys rotate`` at the hub: members moved to the new key in batches, registrations under the old
key still booked (and merged by phone) during and after it, the key files, ``hub keys retire``."""

import base64
import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.db.schema import open_hub_database
from hub.fleet.presence import DeviceStatus
from hub.ingest.models import Quarantine
from hub.members import business_keys, rotation
from hub.members import ledger as loyalty
from hub.members.feed import MemberVersion
from hub.members.key_store import KEY_STORE_FILE, MemberKeyStore
from hub.members.models import HubMember, OwnerAudit
from hub.messaging.models import MarketingConsent
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.store import members
from kiosk.store.pii import PiiError, PiiKey, key_id_of
from kiosk.store.sales import Terminal
from tests.hub.members.test_loyalty import CONSENT, KEY, NOW, PHONE, grant, ingest, on_terminal

OLD_ID = KEY.key_id


@pytest.fixture
def data_dir(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A hub data directory holding the business key the terminals were provisioned with (``KEY``)."""
    path = tmp_path / "data"
    path.mkdir()
    (path / business_keys.KEY_FILE).write_text(base64.b64encode(bytes(range(32))).decode() + "\n")
    loyalty.configure(LoyaltyRules(), business_keys.KeyFiles(path, check_every=0))
    yield path
    loyalty.configure(LoyaltyRules(), None)


def register(member_id: str, phone: str, name: str):  # type: ignore[no-untyped-def]
    def work(terminal: Terminal) -> None:
        members.register_member(
            KEY, terminal, NOW, phone, CONSENT, member_id=member_id, name=name, birthday=dt.date(1990, 3, 22)
        )

    return work


def clear(member: HubMember, key: PiiKey) -> tuple[str, str, str]:
    return (
        key.decrypt(member.phone_enc, f"{member.id}:phone"),
        key.decrypt(member.name_enc, f"{member.id}:name"),
        key.decrypt(member.birthday_enc, f"{member.id}:birthday"),
    )


def test_members_move_to_the_new_key_and_old_key_registrations_still_book(hub_db, data_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", register("m-1", PHONE, "张三")))
    MarketingConsent.create(
        member_id="m-1", granted=True, at=NOW, email_enc=KEY.encrypt("z@example.cn", "m-1:email")
    )
    assert HubMember.get_by_id("m-1").key_id == OLD_ID

    old, new = business_keys.begin_rotation(data_dir)
    assert old == OLD_ID and new != old
    ring = business_keys.load_ring(data_dir)
    assert ring is not None and ring.key_ids == (new, old)
    # K02 has not got the new key: it registers the same phone under the old one, before m-1 moved
    ingest("K02", on_terminal(tmp_path, "K02", register("m-2", "138 1234 1234", "张三")))
    m2 = HubMember.get_by_id("m-2")
    assert (m2.merged_into, m2.key_id, m2.phone_index) == ("m-1", new, ring.blind_index("+86" + PHONE))
    version_before = MemberVersion.get_by_id("m-1").version

    progress = rotation.Progress()
    looked = []
    while batch := rotation.move_batch(ring, progress, NOW, limit=1):
        looked.append(batch)
    assert (looked, progress.moved, progress.merged, progress.unreadable) == ([1], 1, 0, [])
    m1 = HubMember.get_by_id("m-1")
    assert m1.key_id == new
    assert m1.phone_index == ring.blind_index("+86" + PHONE)
    only_new = PiiKey(base64.b64decode((data_dir / business_keys.KEY_FILE).read_text()))
    assert clear(m1, only_new) == ("+86" + PHONE, "张三", "1990-03-22")
    with pytest.raises(PiiError):
        KEY.decrypt(m1.phone_enc, "m-1:phone")  # the old key alone no longer opens the member row
    consent = MarketingConsent.get_by_id("m-1")
    assert only_new.decrypt(consent.email_enc, "m-1:email") == "z@example.cn"
    assert MemberVersion.get_by_id("m-1").version > version_before  # terminals get the moved copy

    # after the move: a terminal on the old key registers a new member and the same phone again
    ingest("K01", on_terminal(tmp_path, "K01", register("m-3", "13900001111", "李四")))
    ingest("K02", on_terminal(tmp_path, "K02", register("m-4", "+86 139 0000 1111", "李四")))
    assert clear(HubMember.get_by_id("m-3"), only_new) == ("+8613900001111", "李四", "1990-03-22")
    assert HubMember.get_by_id("m-4").merged_into == "m-3"
    later = on_terminal(tmp_path, "K01", lambda terminal: grant(terminal, "m-1", 5))[-1:]
    assert ingest("K01", later).rejected == []
    assert Quarantine.select().count() == 0
    assert rotation.members_by_key() == {new: 4}
    assert rotation.move_batch(ring, rotation.Progress(), NOW) == 0


def test_a_member_erased_during_the_rotation_stays_erased(hub_db, data_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", register("m-1", PHONE, "张三")))
    ingest("K01", on_terminal(tmp_path, "K01", register("m-2", "13900001111", "李四")))
    business_keys.begin_rotation(data_dir)
    loyalty.erase_member("m-1", NOW)
    ring = business_keys.load_ring(data_dir)
    assert ring is not None
    progress = rotation.Progress()
    while rotation.move_batch(ring, progress, NOW):
        pass
    assert progress.moved == 1
    erased = HubMember.get_by_id("m-1")
    assert (erased.phone_enc, erased.name_enc, erased.key_id) == ("", "", OLD_ID)  # left as it was
    assert rotation.members_by_key() == {ring.key_id: 1}


def test_key_files_rotate_resumably_and_a_running_hub_reads_them_again(tmp_path: Path) -> None:
    with pytest.raises(business_keys.KeyFileError, match="nothing to rotate"):
        business_keys.begin_rotation(tmp_path)
    (tmp_path / business_keys.KEY_FILE).write_text(base64.b64encode(bytes(range(32))).decode())
    watched = business_keys.KeyFiles(tmp_path, check_every=0)
    assert watched() is not None and watched().key_ids == (OLD_ID,)  # type: ignore[union-attr]
    first = business_keys.begin_rotation(tmp_path)
    assert business_keys.begin_rotation(tmp_path) == first  # run again: the same rotation goes on
    assert watched().key_ids == (first[1], first[0])  # type: ignore[union-attr]
    assert (tmp_path / business_keys.KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert business_keys.retire_previous(tmp_path) == OLD_ID
    assert watched().key_ids == (first[1],)  # type: ignore[union-attr]
    # a crash after the previous key was kept, before the new one was written: the next run goes on
    (tmp_path / business_keys.PREVIOUS_FILE).write_text((tmp_path / business_keys.KEY_FILE).read_text())
    resumed = business_keys.begin_rotation(tmp_path)
    assert resumed[0] == first[1] and resumed[1] not in (first[0], first[1])
    with pytest.raises(business_keys.KeyFileError, match="32 bytes"):
        (tmp_path / business_keys.KEY_FILE).write_text(base64.b64encode(b"short").decode())
        business_keys.load_ring(tmp_path)


def test_rotate_status_and_retire_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    data = tmp_path / "data"
    data.mkdir()
    (data / business_keys.KEY_FILE).write_text(base64.b64encode(bytes(range(32))).decode())
    rows = tmp_path / "members.csv"
    rows.write_text("phone,name\n13812341234,张三\n13900001111,李四\n", encoding="utf-8")
    runner = CliRunner()
    key_file = str(data / business_keys.KEY_FILE)
    imported = runner.invoke(main, ["member", "import", str(rows), "--db", db, "--key-file", key_file])
    assert imported.exit_code == 0, imported.output
    DeviceStatus.create(device="K01", key_id=OLD_ID)

    rotated = runner.invoke(
        main, ["keys", "rotate", "--data", str(data), "--db", db, "--batch", "1", "--pause", "0"]
    )
    assert rotated.exit_code == 0, rotated.output
    new = key_id_of(base64.b64decode((data / business_keys.KEY_FILE).read_text()))
    assert f"new business key {new} (the previous, {OLD_ID}, still read)" in rotated.output
    assert "re-encrypted 2 members, merged 0 duplicates" in rotated.output
    assert f"members under {new}: 2" in rotated.output
    assert f"terminal K01: {OLD_ID} waiting" in rotated.output

    refused = runner.invoke(main, ["keys", "retire", "--data", str(data), "--db", db])
    assert refused.exit_code == 1 and "terminals not yet on key" in refused.output and "K01" in refused.output
    DeviceStatus.update(key_id=new).execute()
    status = runner.invoke(main, ["keys", "status", "--data", str(data), "--db", db])
    assert f"terminal K01: {new} ok" in status.output
    # the member import reads the old and the new key during the rotation: no duplicate
    again = runner.invoke(main, ["member", "import", str(rows), "--db", db, "--key-file", key_file])
    assert again.stdout.splitlines() == ["imported 0 members, updated 0, skipped 2"]
    retired = runner.invoke(main, ["keys", "retire", "--data", str(data), "--db", db])
    assert retired.exit_code == 0, retired.output
    assert not (data / business_keys.PREVIOUS_FILE).exists()
    assert [a.action for a in OwnerAudit.select().order_by(OwnerAudit.id)] == ["keys.rotate", "keys.retire"]
    nothing = runner.invoke(main, ["keys", "retire", "--data", str(data), "--db", db])
    assert nothing.exit_code == 1 and "no rotation to finish" in nothing.output


def test_rotation_rewraps_data_keys_and_leaves_the_fields_as_they_are(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    data = tmp_path / "data"
    data.mkdir()
    (data / business_keys.KEY_FILE).write_text(base64.b64encode(bytes(range(32))).decode())
    open_hub_database(db)
    store = MemberKeyStore(data / KEY_STORE_FILE)
    loyalty.configure(LoyaltyRules(), business_keys.KeyFiles(data, check_every=0), key_store=store)
    try:
        ingest("K01", on_terminal(tmp_path, "K01", register("m-1", PHONE, "张三")))
        before = HubMember.get_by_id("m-1")
        assert before.phone_enc.startswith("dk-") and store.count_by_key() == {OLD_ID: 1}
        runner = CliRunner()
        rotated = runner.invoke(
            main, ["keys", "rotate", "--data", str(data), "--db", db, "--batch", "1", "--pause", "0"]
        )
        assert rotated.exit_code == 0, rotated.output
        new_raw = base64.b64decode((data / business_keys.KEY_FILE).read_text())
        new = key_id_of(new_raw)
        assert "re-wrapped 1 members' data keys" in rotated.output
        assert f"members' data keys wrapped under {new}: 1" in rotated.output
        after = HubMember.get_by_id("m-1")
        assert (after.phone_enc, after.name_enc, after.key_id) == (before.phone_enc, before.name_enc, new)
        assert after.phone_index == PiiKey(new_raw).blind_index("+86" + PHONE)
        # the new key alone reads the member: the old one can be retired
        alone = PiiKey(new_raw).with_data_keys(store.get)
        assert clear(after, alone) == ("+86" + PHONE, "张三", "1990-03-22")
        retired = runner.invoke(main, ["keys", "retire", "--data", str(data), "--db", db])
        assert retired.exit_code == 0, retired.output
    finally:
        loyalty.configure(LoyaltyRules(), None)
        store.close()
