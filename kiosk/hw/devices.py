"""Build the device threads kiosk.toml asks for; the app and the CLI start them."""

from collections.abc import Callable

from kiosk.hw.config import HardwareConfig
from kiosk.hw.events import EventQueue
from kiosk.hw.input_reader import DeviceMatch, InputReader, InputSource, open_evdev
from kiosk.hw.print_queue import PrintQueue
from kiosk.hw.printer import open_printer


def _opener(match: DeviceMatch) -> Callable[[], InputSource]:
    return lambda: open_evdev(match)


def readers_for(config: HardwareConfig, queue: EventQueue) -> list[InputReader]:
    """One (not yet started) reader per configured scanner and card reader."""
    readers: list[InputReader] = []
    if config.scanner is not None:
        scanner = config.scanner
        readers.append(
            InputReader("scanner", "scanner", queue, _opener(scanner.match()), decoder=scanner.decoder())
        )
    if config.card_reader is not None:
        card = config.card_reader
        readers.append(
            InputReader(
                "card_reader",
                "card",
                queue,
                _opener(card.match()),
                decoder=card.decoder(),
                card=card.card(),
            )
        )
    return readers


def print_queue_for(config: HardwareConfig, queue: EventQueue) -> PrintQueue | None:
    """The (not yet started) print queue for the configured printer, if there is one."""
    if config.printer is None:
        return None
    printer = open_printer(config.printer.url, config.printer.width)
    return PrintQueue(printer, queue, drawer_pin=config.printer.drawer_pin)
