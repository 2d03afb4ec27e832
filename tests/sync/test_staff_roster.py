"""Staff from the hub reach the terminals of their store and sign in there offline.

The hub's ``hub staff add`` publishes each terminal its store's roster, retained, through a
real Mosquitto; ``kiosk sync`` applies it; the terminal then checks PINs and badges against
the stored hashes with no network at all.
"""

import datetime as dt
import json
import threading
from pathlib import Path

from click.testing import CliRunner

from hub.cli import main as hub_main
from hub.db.schema import open_hub_database
from hub.fleet.devices import DeviceRegistry
from hub.staff import accounts
from hub.staff.downlink import publish_until_sent, roster_publisher
from kiosk.devtools.broker import MosquittoBroker
from kiosk.store import staff
from kiosk.store.staff import StaffRow
from tests.sync.harness import AgentThread, wait_until

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def test_staff_added_at_the_hub_sign_in_at_their_stores_terminal_offline(
    tmp_path: Path,
    kiosk_db,
    broker: MosquittoBroker,  # type: ignore[no-untyped-def]
) -> None:
    hub_url, data = f"sqlite:///{tmp_path / 'hub.db'}", tmp_path / "hub-data"
    registry = DeviceRegistry(data)
    registry.add("S01", "Front till", NOW, device_id="KS1")
    registry.add("S02", "Other shop", NOW, device_id="KS2")
    registry.save()
    run = CliRunner().invoke
    common = ["--db", hub_url, "--data", str(data), "--mqtt-port", str(broker.port)]
    people = [
        ["--name", "王芳", "--role", "attendant", "--store", "S01", "--pin", "1357", "--badge", "04a1b2c3"],
        ["--name", "赵强", "--role", "manager", "--store", "S01", "--store", "S02", "--pin", "8642"],
        ["--name", "李雷", "--role", "attendant", "--store", "S02", "--pin", "1357"],
    ]
    for person in people:
        added = run(hub_main, ["staff", "add", *person, *common])
        assert added.exit_code == 0, added.output
    assert "员工名单已发送到 2 台终端 / staff roster sent to 2 terminals" in added.output
    listed = run(hub_main, ["staff", "list", "--store", "S01", "--db", hub_url])
    assert [line.split("  ")[1:4] for line in listed.output.splitlines()] == [
        ["王芳", "attendant", "S01"],
        ["赵强", "manager", "S01,S02"],
    ]
    open_hub_database(hub_url)
    hashes = [a.pin_hash for a in accounts.list_staff()]
    assert all(h.startswith("scrypt$4096$8$1$") and "1357" not in h for h in hashes)
    assert len(set(hashes)) == 3  # salted: the same PIN never hashes the same

    agent = AgentThread(broker.port, device="KS1")  # connects after the publish: the roster is retained
    try:
        wait_until(lambda: staff.roster_version() == 3, what="roster 3 applied")
    finally:
        agent.close()
    # a terminal holds only its store's staff; from here on nothing talks to the network
    assert sorted(r.name for r in StaffRow.select()) == ["王芳", "赵强"]
    # the PIN lookup tags came too: one key for the roster, a 16-bit tag per person
    held = staff.pin_candidates()
    assert held.tag_key.startswith("scrypt$4096$8$1$") and held.tag_key.count("$") == 4
    assert [len(tag) for _person, _hash, tag in held.people] == [4, 4]
    wang = staff.staff_for_pin("1357")
    assert wang is not None and (wang.name, wang.role) == ("王芳", "attendant")
    zhao = staff.staff_for_pin("8642")
    assert zhao is not None and (zhao.name, zhao.role) == ("赵强", "manager")
    assert staff.staff_for_pin("0000") is None
    assert staff.staff_for_badge("04A1B2C3") == wang
    assert staff.permissions()["attendant"] == [
        "clock",
        "age_check",
        "cash",
        "remove",
        "reprint",
        "shift_report",
        "member",
    ]

    disabled = run(hub_main, ["staff", "disable", wang.id, *common])
    assert disabled.exit_code == 0, disabled.output
    agent = AgentThread(broker.port, device="KS1")
    try:
        wait_until(lambda: staff.roster_version() == 4, what="roster 4 applied")
    finally:
        agent.close()
    assert staff.staff_for_pin("1357") is None and staff.staff_for_badge("04A1B2C3") is None
    assert [r.name for r in StaffRow.select()] == ["赵强"]
    stale = json.dumps({**accounts.roster_for("S01"), "version": 2}).encode()
    assert staff.apply_roster(stale, NOW) is False  # an older roster never replaces a newer one


def test_a_terminal_added_later_gets_its_stores_roster_from_hub_device_add(
    tmp_path: Path,
    kiosk_db,
    broker: MosquittoBroker,  # type: ignore[no-untyped-def]
) -> None:
    hub_url, data, broker_dir = f"sqlite:///{tmp_path / 'hub.db'}", tmp_path / "hub-data", tmp_path / "etc"
    broker_dir.mkdir()
    (broker_dir / "passwd").write_text("")
    open_hub_database(hub_url)
    accounts.add_staff("王芳", "attendant", ["S01"], "1357", NOW, by="test")
    accounts.add_staff("李雷", "attendant", ["S02"], "2468", NOW, by="test")
    args = ["device", "add", "--store", "S01", "--name", "Till 3", "--id", "KS3", "--broker-host", "hub.lan",
            "--data", str(data), "--broker-dir", str(broker_dir), "--no-reload", "--db", hub_url,
            "--mqtt-port", str(broker.port)]  # fmt: skip
    added = CliRunner().invoke(hub_main, args)
    assert added.exit_code == 0, added.output
    assert "员工名单已发送到终端 KS3 / staff roster sent to KS3" in added.output
    agent = AgentThread(broker.port, device="KS3")  # its first connection: the roster is waiting, retained
    try:
        wait_until(lambda: staff.roster_version() == 2, what="roster 2 applied")
    finally:
        agent.close()
    assert [r.name for r in StaffRow.select()] == ["王芳"]

    missing = CliRunner().invoke(
        hub_main, [*args[:7], "KS4", *args[8:-4], "--db", f"sqlite:///{tmp_path / 'none.db'}"]
    )
    assert missing.exit_code == 0, missing.output  # the terminal is added; the roster waits for hub serve
    assert "staff roster not sent:" in missing.output and "`hub serve` sends it at start" in missing.output


def test_hub_serve_sends_the_rosters_at_start_retrying_until_the_broker_is_up(
    tmp_path: Path,
    kiosk_db,
    own_broker: MosquittoBroker,  # type: ignore[no-untyped-def]
) -> None:
    hub_url, data = f"sqlite:///{tmp_path / 'hub.db'}", tmp_path / "hub-data"
    registry = DeviceRegistry(data)
    registry.add("S01", "Front till", NOW, device_id="KS1")
    registry.save()
    open_hub_database(hub_url)
    accounts.add_staff("王芳", "attendant", ["S01"], "1357", NOW, by="test")
    port = own_broker.port
    tries: list[int] = []
    publish = roster_publisher(data, "127.0.0.1", port)

    def counted() -> int:
        tries.append(1)
        return publish()

    stop = threading.Event()
    sent: list[int | None] = []
    worker = threading.Thread(target=lambda: sent.append(publish_until_sent(counted, stop, retry_s=0.2)))
    worker.start()  # the broker is not running yet: the first tries fail and are retried
    wait_until(lambda: len(tries) >= 2, what="two tries while the broker is down")
    own_broker.start()
    worker.join(timeout=20)
    assert sent == [1]
    agent = AgentThread(port, device="KS1")
    try:
        wait_until(lambda: staff.roster_version() == 1, what="roster 1 applied")
    finally:
        agent.close()
    assert [r.name for r in StaffRow.select()] == ["王芳"]
    stop.set()
    assert publish_until_sent(counted, stop) is None  # stopped: no more tries
