"""``hub keys rotate`` end to end while a shop keeps selling: real Mosquitto, the hub (ingest, member
downlink, HTTP snapshot) on a SQLite file, two terminals with their ``kiosk sync`` processes.

Both terminals are provisioned with the old key. During the rotation one terminal sells without
pause and the other, still on the old key, registers members; afterwards every member is under the
new key at the hub, both terminals hold the new key (received sealed with the members), find members
by phone, report the new key, and nothing was quarantined or lost.
"""

import base64
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.fleet.presence import DeviceStatus
from hub.ingest.models import Quarantine
from hub.members import business_keys, rotation
from hub.members import ledger as loyalty
from hub.members.models import HubMember
from kiosk.devtools.broker import MosquittoBroker
from kiosk.domain.loyalty import LoyaltyRules
from kiosk.store import business_keys as terminal_keys
from kiosk.store import members
from kiosk.store.pii import PiiKey, key_id_of
from kiosk.store.sales import Terminal
from tests.sync.harness import hub_totals, kiosk_totals, kiosk_unsent, spawn, stop, sync_agent_cmd
from tests.sync.test_member_downlink import CONSENT, TZ, Hub, on_kiosk, settle, snapshotted, start_hub

OLD = bytes(range(32))
IMPORTED = 300  # members at the hub before the rotation: several batches of 50


@pytest.fixture
def hub(own_broker: MosquittoBroker, tmp_path: Path) -> Iterator[Hub]:
    """The hub with the business key in its data directory, read again when it changes."""
    data = tmp_path / "data"
    data.mkdir()
    (data / business_keys.KEY_FILE).write_text(base64.b64encode(OLD).decode() + "\n")
    loyalty.configure(LoyaltyRules(), business_keys.KeyFiles(data, check_every=0.2))
    own_broker.start()
    try:
        yield from start_hub(own_broker, tmp_path, downlink=True)
    finally:
        loyalty.configure(LoyaltyRules(), None)


def hub_cli(tmp_path: Path, *args: str) -> list[str]:
    return ["-m", "hub.cli", *args, "--db", f"sqlite:///{tmp_path / 'hub.db'}"]


def test_rotate_while_selling_every_member_moves_and_both_terminals_follow(hub: Hub, tmp_path: Path) -> None:
    data = tmp_path / "data"
    rows = tmp_path / "members.csv"
    rows.write_text(
        "phone,name\n" + "".join(f"+86139{n:08d},会员{n}\n" for n in range(IMPORTED)), encoding="utf-8"
    )
    importer = spawn(
        [*hub_cli(tmp_path, "member", "import", str(rows)), "--key-file", str(data / business_keys.KEY_FILE)],
        tmp_path / "import.log",
    )
    assert importer.wait(timeout=120) == 0, (tmp_path / "import.log").read_text()
    kiosks = {"KA": tmp_path / "ka.db", "KB": tmp_path / "kb.db"}
    agents, commands = [], {}
    for device, db in kiosks.items():
        extra = ("--username", device, "--password", hub.add_device(device), "--hub-url", hub.url)
        commands[device] = sync_agent_cmd(db, hub.broker.port, device, *extra)
        agents.append(spawn(commands[device], tmp_path / f"{device}.log"))
    seller = None
    try:
        for db in kiosks.values():
            settle(lambda db=db: snapshotted(db), what="first snapshot")
        old = PiiKey(OLD)
        store_a, store_b = (Terminal(store="S01", device=d, boot=f"boot-{d}") for d in kiosks)
        on_kiosk(kiosks["KA"], lambda: terminal_keys.report_key(old, dt.datetime.now(TZ)))
        on_kiosk(kiosks["KB"], lambda: terminal_keys.report_key(old, dt.datetime.now(TZ)))
        # KB goes offline before m-a exists, so it cannot know m-a's phone when it registers it again;
        # m-a is at the hub before KB's duplicate arrives, so the duplicate is the one merged
        agents[1].terminate()
        agents[1].wait(timeout=30)
        on_kiosk(kiosks["KA"], lambda: register(old, store_a, "m-a", "13812341234", "张三"))
        settle(lambda: HubMember.get_or_none(HubMember.id == "m-a") is not None, what="m-a at the hub")

        # KA sells without pause; the rotation starts; KB, still on the old key, registers members
        seller = spawn(
            [*("-m", "tests.sync.sell_loop"), str(kiosks["KA"]), "KA", "120", "0.03"], tmp_path / "sell.log"
        )
        rotate = spawn(
            [*hub_cli(tmp_path, "keys", "rotate", "--data", str(data)), "--batch", "50", "--pause", "0.05"],
            tmp_path / "rotate.log",
        )
        on_kiosk(kiosks["KB"], lambda: register(old, store_b, "m-b", "13700001111", "李四"))
        on_kiosk(kiosks["KB"], lambda: register(old, store_b, "m-b2", "138 1234 1234", "张三"))  # m-a's phone
        agents[1] = spawn(commands["KB"], tmp_path / "KB.log")  # KB back online during the rotation
        assert rotate.wait(timeout=180) == 0, (tmp_path / "rotate.log").read_text()
        assert seller.wait(timeout=180) == 0
        new = key_id_of(base64.b64decode((data / business_keys.KEY_FILE).read_text()))
        assert "re-encrypted" in (tmp_path / "rotate.log").read_text()

        # the hub: every member under the new key, m-b2 merged into m-a by the phone under either key
        settle(lambda: HubMember.get_or_none(HubMember.id == "m-b2") is not None, what="m-b2 at the hub")
        settle(
            lambda: rotation.members_by_key() == {new: IMPORTED + 3}, what="every member under the new key"
        )
        assert HubMember.get_by_id("m-b2").merged_into == "m-a"
        # the new key alone reads every member (imported: re-encrypted; registered: data key re-wrapped)
        key_store = loyalty.settings.key_store
        assert key_store is not None and key_store.count_by_key() == {new: 3}
        only_new = PiiKey(base64.b64decode((data / business_keys.KEY_FILE).read_text())).with_data_keys(
            key_store.get
        )
        for member in HubMember.select():
            assert only_new.decrypt(member.phone_enc, f"{member.id}:phone").startswith("+86")

        # the terminals: the new key arrived with the members; phone lookup works for old and new members
        def follows() -> bool:
            ring = terminal_keys.key_ring(OLD)
            if ring.key_id != new:
                return False
            terminal_keys.report_key(ring, dt.datetime.now(TZ))  # what the app's refresh_keys does
            found = [
                members.find_by_phone(ring, p) for p in ("13812341234", "+8613700001111", "+8613900000299")
            ]
            return [m.id if m else None for m in found][:2] == ["m-a", "m-b"] and found[2] is not None

        for db in kiosks.values():
            settle(lambda db=db: on_kiosk(db, follows), what="the terminal on the new key, members found")
        member_299 = on_kiosk(
            kiosks["KB"], lambda: members.find_by_phone(terminal_keys.key_ring(OLD), "13900000299")
        )
        assert member_299 is not None
        ring_b = on_kiosk(kiosks["KB"], lambda: terminal_keys.key_ring(OLD))
        assert on_kiosk(kiosks["KB"], lambda: members.profile(ring_b, member_299))["name"] == "会员299"
        assert member_299.phone_enc.startswith(f"{new}:")
        settle(
            lambda: rotation.terminals_by_key() == {"KA": new, "KB": new},
            what="both heartbeats reporting the new key",
        )

        # nothing lost, nothing quarantined
        settle(lambda: on_kiosk(kiosks["KA"], kiosk_unsent) == 0, what="KA's outbox drained")
        settle(lambda: on_kiosk(kiosks["KB"], kiosk_unsent) == 0, what="KB's outbox drained")
        sold, fen = on_kiosk(kiosks["KA"], kiosk_totals)
        assert sold == 120 and hub_totals()[:2] == (sold, fen)
        assert Quarantine.select().count() == 0

        retire = spawn(hub_cli(tmp_path, "keys", "retire", "--data", str(data)), tmp_path / "retire.log")
        assert retire.wait(timeout=60) == 0, (tmp_path / "retire.log").read_text()
        assert business_keys.load_ring(data).key_ids == (new,)  # type: ignore[union-attr]
        # after the old key is gone, KB registers under the new key and the hub reads it
        ring_b = on_kiosk(kiosks["KB"], lambda: terminal_keys.key_ring(OLD))
        on_kiosk(kiosks["KB"], lambda: register(ring_b, store_b, "m-c", "13600002222", "王五"))
        settle(lambda: HubMember.get_or_none(HubMember.id == "m-c") is not None, what="m-c at the hub")
        m_c = HubMember.get_by_id("m-c")
        assert (m_c.key_id, only_new.decrypt(m_c.phone_enc, "m-c:phone")) == (new, "+8613600002222")
        assert DeviceStatus.get_by_id("KA").key_id == new
    finally:
        if seller is not None:
            stop(seller)
        for process in agents:
            stop(process)


def register(key: PiiKey, terminal: Terminal, member_id: str, phone: str, name: str) -> None:
    members.register_member(
        key, terminal, dt.datetime.now(TZ), phone, CONSENT, member_id=member_id, name=name
    )
