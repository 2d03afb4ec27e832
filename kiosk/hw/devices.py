"""Build the input reader threads kiosk.toml asks for; the app and the CLI start them.

The print queue is built by :func:`kiosk.hw.print_queue.print_queue_for`: importing this
module must not load the printer driver (python-escpos, pyusb, pyserial: about N MB), which a
terminal loads only when it has a printer (docs/perf.md, kiosk memory).
"""

from collections.abc import Callable

from kiosk.hw.config import HardwareConfig
from kiosk.hw.events import EventQueue
from kiosk.hw.input_reader import DeviceMatch, InputReader, InputSource, open_evdev


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
