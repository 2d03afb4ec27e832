"""kiosk.toml's [hw] table, the device builders, and the demo fakes."""

from pathlib import Path

import pytest
from evdev import ecodes

from kiosk.hw.config import HardwareConfigError, load_hw_config, parse_hw_config
from kiosk.hw.devices import readers_for
from kiosk.hw.events import EventQueue, HardwareEvent, HardwareEventKind
from kiosk.hw.fake_scanner import FakeCardReader, FakeScanner
from kiosk.hw.input_reader import CardSettings, DeviceMatch
from kiosk.hw.keymap import DecoderSettings
from kiosk.hw.print_queue import print_queue_for
from kiosk.hw.status import DeviceState, status_message


def test_full_hw_table_parses_into_reader_settings() -> None:
    config = parse_hw_config(
        {
            "scanner": {
                "name": "Honeywell 1900",
                "vendor": "0x0c2e",
                "product": 2913,
                "prefix": "]",
                "gap_ms": 80,
                "terminators": ["tab"],
            },
            "card_reader": {
                "path": "/dev/input/by-id/usb-card-event-kbd",
                "uid_form": "hex",
                "reader_format": "dec",
                "reverse_bytes": True,
                "debounce_ms": 1000,
            },
            "printer": {"url": "usb:0x0416:0x5011", "width": 384, "drawer_pin": 5},
        }
    )
    assert config.scanner.match() == DeviceMatch(None, "Honeywell 1900", 0x0C2E, 2913)
    assert config.scanner.decoder() == DecoderSettings(
        frozenset({ecodes.KEY_TAB}), prefix="]", suffix="", gap=0.08
    )
    assert config.card_reader.card() == CardSettings("hex", "dec", True, 1.0)
    assert config.card_reader.decoder().terminators == frozenset(
        {ecodes.KEY_ENTER, ecodes.KEY_KPENTER, ecodes.KEY_TAB}
    )
    queue = EventQueue()
    assert [r.device_name for r in readers_for(config, queue)] == ["scanner", "card_reader"]
    print_queue = print_queue_for(config, queue)
    assert (print_queue.printer.width_dots, print_queue._drawer_pin) == (384, 5)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"scaner": {"path": "/x"}}, "hw.scaner"),
        ({"scanner": {}}, "hw.scanner"),
        ({"scanner": {"path": "/x", "terminators": ["space"]}}, "hw.scanner.terminators.0"),
        ({"printer": {"url": "tcp://p", "width": 512}}, "hw.printer.width"),
        ({"printer": {"url": "tcp://p", "drawer_pin": 3}}, "hw.printer.drawer_pin"),
        ({"card_reader": {"path": "/x", "uid_form": "dec8"}}, "hw.card_reader.uid_form"),
    ],
)
def test_config_errors_name_the_key_in_both_languages(table: dict, key: str) -> None:
    with pytest.raises(HardwareConfigError) as caught:
        parse_hw_config(table)
    assert f"kiosk.toml 中 {key} 设置有误" in caught.value.message["zh"]
    assert f"kiosk.toml: {key} is wrong" in caught.value.message["en"]


def test_missing_or_broken_kiosk_toml(tmp_path: Path) -> None:
    with pytest.raises(HardwareConfigError) as caught:
        load_hw_config(tmp_path / "absent.toml")
    assert caught.value.message["en"] == f"The configuration file {tmp_path}/absent.toml does not exist."
    broken = tmp_path / "kiosk.toml"
    broken.write_text("[hw\n", encoding="utf-8")
    with pytest.raises(HardwareConfigError, match="is not valid TOML"):
        load_hw_config(broken)
    broken.write_text("[store]\nid = 'S01'\n", encoding="utf-8")
    assert load_hw_config(broken).model_dump() == {
        "scanner": None,
        "card_reader": None,
        "printer": None,
    }


def test_fake_scanner_types_through_the_real_decoder() -> None:
    queue = EventQueue()
    FakeScanner(queue, name="demo").scan("会员 member:42")
    assert queue.drain() == [HardwareEvent(HardwareEventKind.SCAN, "会员 member:42", "demo")]


def test_fake_card_reader_normalises_and_debounces() -> None:
    queue = EventQueue()
    reader = FakeCardReader(queue, CardSettings(form="hex"), name="demo-card")
    reader.tap("0012345678", at=100.0)
    reader.tap("0012345678", at=101.0)
    reader.tap("0012345678", at=103.0)
    assert [e.code for e in queue.drain()] == ["00BC614E", "00BC614E"]


def test_every_device_state_has_both_languages() -> None:
    for state in DeviceState:
        message = status_message(state)
        assert set(message) == {"zh", "en"} and all(message.values())


def test_event_queue_wakes_its_consumer_after_each_put_from_the_producer_thread() -> None:
    import threading

    queue = EventQueue()
    woken: list[tuple[str, int]] = []  # (thread that woke, events waiting at that moment)
    queue.wake_with(lambda: woken.append((threading.current_thread().name, queue._queue.qsize())))
    reader = threading.Thread(target=lambda: FakeScanner(queue, name="demo").scan("6901010370005"), name="rd")
    reader.start()
    reader.join()
    assert woken == [("rd", 1)]  # the event is in the queue before the consumer is woken
    queue.wake_with(None)
    queue.put(HardwareEvent(HardwareEventKind.CARD, "00BC614E", "demo-card"))
    assert woken == [("rd", 1)]
    assert [e.code for e in queue.drain()] == ["6901010370005", "00BC614E"]
