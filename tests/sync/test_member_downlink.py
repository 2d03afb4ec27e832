"""Members for offline lookup, end to end: real Mosquitto, real hub (ingest + HTTP), real kiosk databases.

A snapshot over HTTP when a terminal is new or has missed a delta, deltas over
MQTT on ``pos/{d}/down/members`` after that.
"""

import datetime as dt
import json
import sqlite3
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pytest
import uvicorn
from paho.mqtt.enums import CallbackAPIVersion

from hub.accounts import sessions as hub_sessions
from hub.api.member_snapshot import DeviceAuth
from hub.db.schema import open_hub_database
from hub.fleet.broker_config import password_line
from hub.ingest.batch import ingest_batch
from hub.ingest.worker import HubIngestor
from hub.members import details as member_details
from hub.members import downlink as member_downlink
from hub.members import feed as member_feed
from hub.members import ledger as loyalty
from hub.members.key_store import KEY_STORE_FILE, MemberKeyStore
from hub.members.models import HubCard, HubMember
from hub.web.app import create_app
from kiosk.devtools.broker import MosquittoBroker
from kiosk.devtools.ports import free_port, wait_for_port
from kiosk.domain.cart import Cart, Product
from kiosk.domain.loyalty import (
    POINTS,
    PRINCIPAL,
    EarnContext,
    LoyaltyRules,
    MemberPayment,
    Split,
    price_cart,
    sale_ledger,
)
from kiosk.domain.loyalty.member_details import DetailsChange
from kiosk.domain.loyalty.rules import StoredValueRule
from kiosk.store import members, open_database
from kiosk.store.connection import database
from kiosk.store.member_models import Member
from kiosk.store.members import hub_copy
from kiosk.store.pii import PiiKey
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale
from kiosk.sync.agent import AgentSettings, BrokerSettings, OutboxAgent
from kiosk.sync.members import HubEndpoint, _Snapshot
from kiosk.sync.schema import GENESIS, batch, make_event
from kiosk.sync.topics import members_topic
from tests.sync.harness import spawn, stop, sync_agent_cmd, wait_until

TZ = ZoneInfo("Asia/Shanghai")
KEY = PiiKey(bytes(range(32)))
RICE = Product("rice", "6900000000011", "大米", "Rice", 5000, "food")
CONSENT = members.Consent(version="privacy-2026-01", where="S01/KA")
EARNED = 50  # ¥50 paid with stored value principal and cash: 1 point per yuan (only bonus money earns none)
FAST = AgentSettings(batch_linger=0.02, resend_after=1.0, heartbeat_interval=0.5, member_gap_patience=1.0)


@dataclass
class Hub:
    """A hub on a SQLite file: ingest worker, member downlink and the HTTP API, in this process."""

    broker: MosquittoBroker
    url: str
    passwd: Path
    ingestor: HubIngestor
    passwords: dict[str, str] = field(default_factory=dict)

    def add_device(self, device: str) -> str:
        password = f"{device}-password-{uuid.uuid4().hex[:8]}"
        self.passwords[device] = password
        self.passwd.write_text("".join(password_line(d, p) + "\n" for d, p in self.passwords.items()))
        return password


def start_hub(broker: MosquittoBroker, tmp_path: Path, downlink: bool) -> Iterator[Hub]:
    open_hub_database(f"sqlite:///{tmp_path / 'hub.db'}")
    # members' data keys in the key store of the hub's data directory, as `hub serve` keeps them
    key_store = loyalty.settings.key_store = MemberKeyStore(tmp_path / "data" / KEY_STORE_FILE)
    passwd = tmp_path / "passwd"
    passwd.write_text("")
    ingestor = HubIngestor(
        "127.0.0.1", broker.port, TZ, worker=f"dl-{uuid.uuid4().hex[:6]}", member_downlink=downlink
    )
    ingestor.start()
    wait_until(ingestor.connected.is_set, what="hub subscribed")
    port = free_port()
    app = create_app(TZ, device_auth=DeviceAuth(passwd))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    try:
        yield Hub(broker, f"http://127.0.0.1:{port}", passwd, ingestor)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        ingestor.stop()
        loyalty.settings.key_store = None
        key_store.close()


@pytest.fixture
def hub(own_broker: MosquittoBroker, tmp_path: Path) -> Iterator[Hub]:
    """Hub with its own member downlink."""
    own_broker.start()
    yield from start_hub(own_broker, tmp_path, downlink=True)


@pytest.fixture
def quiet_hub(own_broker: MosquittoBroker, tmp_path: Path) -> Iterator[Hub]:
    """Hub whose deltas the test publishes itself, in the order it chooses."""
    own_broker.start()
    yield from start_hub(own_broker, tmp_path, downlink=False)


def on_kiosk(path: Path, work: Callable[[], Any]) -> Any:
    """Run ``work`` on the terminal database at ``path`` (opened in this process) and close it."""
    db = open_database(path)
    try:
        return work()
    finally:
        db.close()


def snapshotted(path: Path) -> bool:
    """Whether the terminal at ``path`` finished a snapshot (read-only: the agent owns the file)."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT snapshot_at FROM member_feed_state").fetchone()
    except sqlite3.OperationalError:  # not created or not migrated yet
        return False
    return row is not None and row[0] is not None


def settle(check: Callable[[], bool], what: str) -> None:
    """Wait for ``check`` at a calm pace: each look at a terminal database opens it anew."""
    wait_until(lambda: check() or bool(time.sleep(0.2)), timeout=45, what=what)


def member_sale(terminal: Terminal, member_id: str, stored_fen: int) -> int:
    """Sell one bag of rice (¥50) to the member, ``stored_fen`` from stored value, the rest cash."""
    sale_id = str(uuid.uuid4())
    now = dt.datetime.now(TZ)
    priced = price_cart(Cart().add(RICE, 1), (), now, member_id)
    paid = MemberPayment(points=0, points_fen=0, stored=Split(stored_fen, 0))
    stamp = members.new_stamp(terminal, now)
    earned, entries = sale_ledger(
        member_id, sale_id, priced, paid, LoyaltyRules(), EarnContext(now.date()), stamp
    )
    sale = members.MemberSale(member_id, sale_id, priced, tuple(entries), earned.points)
    pays = [PaymentIntent("stored_value", stored_fen), PaymentIntent("cash", priced.total_fen - stored_fen)]
    commit_sale(Cart().add(RICE, 1), pays, terminal, now, sale_id, member=sale)
    return earned.points


@contextmanager
def two_terminals(hub: Hub, tmp_path: Path) -> Iterator[dict[str, Path]]:
    """Terminals KA and KB, each with its ``kiosk sync`` signed in to the hub and its first
    member snapshot taken; their database files by device."""
    kiosks = {"KA": tmp_path / "ka.db", "KB": tmp_path / "kb.db"}
    procs = []
    for device, db in kiosks.items():
        password = hub.add_device(device)
        extra = ("--username", device, "--password", password, "--hub-url", hub.url)
        procs.append(spawn(sync_agent_cmd(db, hub.broker.port, device, *extra), tmp_path / f"{device}.log"))
    try:
        for db in kiosks.values():
            settle(lambda db=db: snapshotted(db), what="first snapshot")
        yield kiosks
    finally:
        for process in procs:
            stop(process)


STORE_A = Terminal(store="S01", device="KA", boot="boot-a")


def test_member_of_store_a_is_found_at_store_b_with_balances_and_erased_everywhere(
    hub: Hub, tmp_path: Path
) -> None:
    with two_terminals(hub, tmp_path) as kiosks:

        def at_store_a() -> int:
            members.register_member(
                KEY, STORE_A, dt.datetime.now(TZ), "138 1234 1234", CONSENT, name="李四", member_id="m-1"
            )
            members.link_card(STORE_A, dt.datetime.now(TZ), "m-1", "04A1B2C3")
            members.top_up_stored_value(
                STORE_A, dt.datetime.now(TZ), "m-1", 10000, StoredValueRule(), "staff-1"
            )
            return member_sale(STORE_A, "m-1", 3000)

        earned = on_kiosk(kiosks["KA"], at_store_a)
        assert earned == EARNED

        def seen_at_b() -> tuple[str, str, dict[str, int]] | None:
            member = members.find_by_card("04A1B2C3")
            if member is None:
                return None
            return member.id, members.profile(KEY, member)["name"], members.member_balances(member.id)

        expected = ("m-1", "李四", {POINTS: earned, PRINCIPAL: 7000})
        settle(lambda: on_kiosk(kiosks["KB"], seen_at_b) == expected, what="m-1 with its balance at B")
        phone_at_b = on_kiosk(kiosks["KB"], lambda: members.find_by_phone(KEY, "+8613812341234"))
        assert phone_at_b is not None and phone_at_b.id == "m-1"

        # the heartbeat reports the member version; the hub keeps it for the fleet page
        settle(
            lambda: member_feed.reported_versions().get("KB") == member_feed.current_version(),
            what="KB reporting the hub's member version",
        )

        # the owner's integration erases through the API with a token (hub token add)
        bearer = hub_sessions.issue_token("erasure", "members:write", "owner", dt.datetime.now(dt.UTC))
        request = urllib.request.Request(
            f"{hub.url}/api/v1/members/m-1/erase",
            method="POST",
            headers={"Authorization": f"Bearer {bearer}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["erased"] is True

        def erased_here() -> bool:
            member = Member.get_or_none(Member.id == "m-1")
            return (
                member is not None
                and (member.phone_enc, member.name_enc) == ("", "")
                and members.find_by_card("04A1B2C3") is None
                and members.find_by_phone(KEY, "13812341234") is None
            )

        for db in kiosks.values():
            settle(lambda db=db: on_kiosk(db, erased_here), what="m-1 erased on the terminal")
        # the anonymised balances stay
        assert on_kiosk(kiosks["KB"], lambda: members.member_balances("m-1")) == {
            POINTS: earned,
            PRINCIPAL: 7000,
        }


def registration(device: str, seq: int, prev: str, member_id: str, phone: str) -> dict[str, Any]:
    """A ``member.registered`` event as a terminal writes it (phone encrypted, blind-indexed)."""
    member = {
        "id": member_id,
        "phone_index": KEY.blind_index(phone),
        "phone_enc": KEY.encrypt(phone, f"{member_id}:phone"),
        "home_store": "S09",
        "source": "kiosk",
        "created_at": "2026-11-24T14:05:00.000+08:00",
    }
    return make_event(
        event_id=f"{device}-ev-{seq}", device=device, seq=seq, boot="b", ts="2026-11-24T14:05:00.000+08:00",
        type="member.registered", prev=prev, data={"member": member},
    )  # fmt: skip


class Registrar:
    """Registers members at the hub as terminal K09 would, one event at a time."""

    def __init__(self) -> None:
        self.seq, self.prev = 0, GENESIS

    def register(self, n: int) -> None:
        self.seq += 1
        event = registration("K09", self.seq, self.prev, f"m-{n}", f"+861390000{n:04d}")
        self.prev = event["hash"]
        result = ingest_batch("pos/K09/up/events", batch("K09", [event]), dt.datetime.now(dt.UTC), TZ)
        assert result is not None and result.acked == [event["id"]]


def deltas() -> list[bytes]:
    """The deltas the hub would send now (captured, not sent)."""
    sent: list[bytes] = []
    member_downlink.publish_due(lambda _topic, payload: sent.append(payload))
    return sent


class AgentThread:
    """An in-process kiosk agent with the member downlink, on the open kiosk database."""

    def __init__(self, hub: Hub, device: str) -> None:
        endpoint = HubEndpoint(hub.url, device, hub.add_device(device), page_size=1000)
        self.agent = OutboxAgent(device, BrokerSettings(port=hub.broker.port), FAST, hub=endpoint)
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self.agent.run, args=(self.halt,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.halt.set()
        self.thread.join(timeout=10)


def publisher(port: int) -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5
    )
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def test_duplicate_and_crossed_deltas_apply_once_in_order_and_a_gap_fetches_a_snapshot(
    quiet_hub: Hub, tmp_path: Path
) -> None:
    open_database(tmp_path / "kiosk.db")
    agent = AgentThread(quiet_hub, "KQ")
    client = publisher(quiet_hub.broker.port)
    try:
        wait_until(lambda: agent.agent.members.snapshots == 1, what="first snapshot")
        hub_side = Registrar()
        sent: list[bytes] = []
        for n in (1, 2, 3):
            hub_side.register(n)
            sent += deltas()
        assert [json.loads(d)["to"] for d in sent] == [1, 2, 3]
        topic = members_topic("KQ")
        for payload in (sent[1], sent[0], sent[0], sent[2], sent[1]):  # crossed, then repeated
            client.publish(topic, payload, qos=1).wait_for_publish(5)
        wait_until(lambda: hub_copy.position().version == 3, what="version 3")
        assert sorted(m.id for m in Member.select()) == ["m-1", "m-2", "m-3"]
        assert agent.agent.members.snapshots == 1

        hub_side.register(4)
        lost = deltas()  # never arrives
        hub_side.register(5)
        client.publish(topic, deltas()[0], qos=1).wait_for_publish(5)
        wait_until(lambda: agent.agent.members.snapshots == 2, what="a snapshot after the gap")
        assert hub_copy.position().version == 5
        assert sorted(m.id for m in Member.select()) == ["m-1", "m-2", "m-3", "m-4", "m-5"]
        client.publish(topic, lost[0], qos=1).wait_for_publish(5)  # arrives late: changes nothing
        time.sleep(0.3)
        assert hub_copy.position().version == 5 and agent.agent.members.snapshots == 2
    finally:
        client.loop_stop()
        client.disconnect()
        agent.close()
        database.close()


def seed_members(count: int) -> None:
    """``count`` members with a card each, as if imported at the hub (bulk insert, real encryption)."""
    rows, cards, versions = [], [], []
    for n in range(count):
        member_id, phone = f"m-{n:06d}", f"+86138{n:08d}"
        rows.append({"id": member_id, "phone_index": KEY.blind_index(phone),
                     "phone_enc": KEY.encrypt(phone, f"{member_id}:phone"),
                     "name_enc": KEY.encrypt(f"会员{n}", f"{member_id}:name"),
                     "source": "import", "created_at": "2026-11-24T09:00:00+08:00"})  # fmt: skip
        cards.append(
            {"uid": f"CARD{n:06d}", "member_id": member_id, "kind": "nfc", "linked_at": "2026-11-24"}
        )
        versions.append({"member_id": member_id, "version": n + 1})
    with member_feed.database.atomic():
        for start in range(0, count, 500):
            HubMember.insert_many(rows[start : start + 500]).execute()
            HubCard.insert_many(cards[start : start + 500]).execute()
            member_feed.MemberVersion.insert_many(versions[start : start + 500]).execute()
        member_feed.MemberFeed.update(version=count, published=count).execute()


def test_a_new_kiosk_snapshots_two_thousand_members(quiet_hub: Hub, tmp_path: Path) -> None:
    seed_members(2000)
    open_database(tmp_path / "kiosk.db")
    started = time.monotonic()
    agent = AgentThread(quiet_hub, "KN")
    try:
        wait_until(lambda: agent.agent.members.snapshots == 1, timeout=60, what="snapshot of 2,000 members")
        elapsed = time.monotonic() - started
        print(f"\nsnapshot of 2,000 members: {elapsed:.2f} s")  # docs/perf.md
        assert hub_copy.position() == hub_copy.FeedPosition(2000, True)
        assert Member.select().count() == 2000
        found = members.find_by_card("CARD001234")
        assert found is not None and members.profile(KEY, found)["name"] == "会员1234"
        assert members.find_by_phone(KEY, "+8613800001999").id == "m-001999"  # type: ignore[union-attr]
        assert elapsed < 30
    finally:
        agent.close()
        database.close()


def test_wrong_password_is_logged_and_retried_not_fatal(quiet_hub: Hub, tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    open_database(tmp_path / "kiosk.db")
    quiet_hub.add_device("KW")
    endpoint = HubEndpoint(quiet_hub.url, "KW", "not-the-password")
    agent = OutboxAgent("KW", BrokerSettings(port=quiet_hub.broker.port), FAST, hub=endpoint)
    halt = threading.Event()
    thread = threading.Thread(target=agent.run, args=(halt,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: "总部拒绝会员快照" in caplog.text, what="the refusal in the log")
        assert "hub refused the member snapshot (401 Unauthorized)" in caplog.text
        assert hub_copy.position() == hub_copy.FeedPosition(0, False)
    finally:
        halt.set()
        thread.join(timeout=10)
        database.close()


def test_a_large_snapshot_says_how_far_it_is() -> None:
    snapshot = _Snapshot(version=7, members=200_000, total=1_000_000, started=100.0)
    assert snapshot.progress(150.0) == (
        "member snapshot: 200,000 members of 1,000,000 (20 %), 4,000/s, about 3 min left"
        " / 会员快照已载入 200,000 人"
    )
    snapshot = _Snapshot(version=7, members=990_000, total=1_000_000, started=100.0)
    assert "(99 %), 4,000/s, about 2 s left" in snapshot.progress(347.5)
    older_hub = _Snapshot(version=7, members=3_000, started=0.0)
    assert older_hub.progress(2.0) == "member snapshot: 3,000 members, 1,500/s / 会员快照已载入 3,000 人"


def test_details_staff_correct_at_store_a_reach_the_hub_and_store_b(hub: Hub, tmp_path: Path) -> None:
    with two_terminals(hub, tmp_path) as kiosks:

        def at_store_a() -> None:
            now = dt.datetime.now(TZ)
            members.register_member(KEY, STORE_A, now, "138 1234 1234", CONSENT, name="李四", member_id="m-1")
            change = DetailsChange(name="王女士", birthday=dt.date(1990, 5, 17), marketing=False)
            members.change_details(KEY, STORE_A, now, "m-1", change, "st-zhao")

        on_kiosk(kiosks["KA"], at_store_a)

        def seen_at_b() -> dict[str, str] | None:
            member = Member.get_or_none(Member.id == "m-1")
            return members.profile(KEY, member) if member is not None else None

        expected = {"phone": "+8613812341234", "name": "王女士", "birthday": "1990-05-17"}
        settle(lambda: on_kiosk(kiosks["KB"], seen_at_b) == expected, what="m-1's new details at B")
        booked = HubMember.get_by_id("m-1")
        assert booked.name_enc.startswith("dk-")  # under the member's data key, in the hub's key store
        assert (
            KEY.with_data_keys(loyalty.settings.key_store.get).decrypt(booked.name_enc, "m-1:name")
            == "王女士"
        )  # type: ignore[union-attr]
        assert [(c["where"], c["staff"], c["fields"]) for c in member_details.changes("m-1")] == [
            ("S01/KA", "st-zhao", ["name", "birthday", "marketing"])
        ]
