"""Printer condition end to end: the app's print queue -> device_status -> ``kiosk sync`` heartbeat
-> Mosquitto -> hub fleet -> the fleet page, in both languages."""

import datetime as dt
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.db.schema import open_hub_database
from hub.fleet import presence as fleet
from hub.ingest.models import DeviceHead
from hub.ingest.worker import HubIngestor
from hub.web.sync import router
from kiosk.devtools.broker import MosquittoBroker
from kiosk.hw.events import EventQueue
from kiosk.hw.print_queue import PrintQueue
from kiosk.hw.printer import open_printer
from kiosk.hw.status import DeviceState
from kiosk.hw.virtual_printer import VirtualPrinter
from kiosk.store import device_status
from kiosk.sync import health
from tests.sync.harness import TZ, sell, spawn, stop, sync_agent_cmd, wait_until


def printer_cell(lang: str) -> str:
    app = FastAPI()
    app.include_router(router(TZ))
    html = TestClient(app).get("/fleet" + ("?lang=en" if lang == "en" else "")).text
    match = re.search(r'<tr id="device-KP" class="([^"]*)">.*?<td class="printer">(.*?)</td>', html, re.S)
    assert match, "no fleet row for KP"
    return f"{match.group(1)}|{match.group(2).strip()}"


def test_paper_out_reaches_the_fleet_page_and_clears_when_paper_is_loaded(
    tmp_path: Path,
    kiosk_db,
    broker: MosquittoBroker,  # type: ignore[no-untyped-def]
) -> None:
    open_hub_database(f"sqlite:///{tmp_path / 'hub.db'}")
    hub = HubIngestor("127.0.0.1", broker.port, TZ, worker="printer-test")
    virtual = VirtualPrinter(384)
    states: list[str] = []

    def record(state: DeviceState) -> None:  # what the app wires into its print queue
        states.append(state.value)
        device_status.record(device_status.PRINTER, state.value, dt.datetime.now(TZ))

    sell(1, device="KP")  # synced once, so the row is not flagged as silent
    queue = PrintQueue(open_printer("virtual:", 384, virtual=virtual), EventQueue(), poll_interval=0.1,
                       on_state=record).start()  # fmt: skip
    # a heartbeat an hour apart: only the agent's look at device_status can publish the change in time
    agent = spawn(sync_agent_cmd(tmp_path / "kiosk.db", broker.port, "KP", "--heartbeat", "3600"),
                  tmp_path / "agent.log")  # fmt: skip
    hub.start()
    try:
        wait_until(lambda: health.stored_printer() == "ok", what="printer ready recorded")
        wait_until(lambda: fleet.DeviceStatus.get_or_none(device="KP") is not None, what="first status")
        wait_until(lambda: DeviceHead.get_or_none(device="KP") is not None, what="the sale synced")
        assert printer_cell("zh") == "|正常"
        virtual.faults.paper_out = True
        wait_until(lambda: fleet.DeviceStatus.get(device="KP").printer == "paper_out", what="paper out")
        assert device_status.current(device_status.PRINTER)[0] == "paper_out"  # type: ignore[index]
        assert printer_cell("zh") == 'warn|<span class="flag">缺纸</span>'
        assert printer_cell("en") == 'warn|<span class="flag">out of paper</span>'
        virtual.faults.paper_out = False
        wait_until(lambda: fleet.DeviceStatus.get(device="KP").printer == "ok", what="paper loaded")
        assert printer_cell("en") == "|OK"
    finally:
        stop(agent)
        queue.stop()
        hub.stop()
    assert states == ["ready", "paper_out", "ready"]  # written on change only, not on every poll


def test_heartbeat_names_each_printer_condition_in_the_protocol_words(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    assert health.stored_printer() == "unknown"  # the app never stored one
    now = dt.datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
    reported = {}
    for state in DeviceState:
        if state.value in health.PRINTER_REPORT:
            assert device_status.record(device_status.PRINTER, state.value, now)
            reported[state.value] = health.stored_printer()
    assert reported == health.PRINTER_REPORT
    assert set(health.PRINTER_REPORT.values()) == {
        "ok", "paper_low", "paper_out", "cover_open", "offline", "missing", "unknown",
    }  # fmt: skip
    assert not device_status.record(device_status.PRINTER, "status_unknown", now)  # unchanged: no write
    assert device_status.current(device_status.PRINTER) == ("status_unknown", "2026-11-24T10:00:00+08:00")
