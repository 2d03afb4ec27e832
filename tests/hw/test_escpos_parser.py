"""The ESC/POS parser, fed with the real bytes python-escpos produces."""

import pytest
from PIL import Image

from kiosk.hw.escpos_parser import (
    Cut,
    DrawerPulse,
    EscposParser,
    Feed,
    Init,
    LineFeed,
    Raster,
    Setting,
    StatusQuery,
    Text,
    Unknown,
)
from kiosk.hw.virtual_printer import VirtualEscpos, VirtualPrinter
from tests.hw.conftest import pattern


def printed(action) -> VirtualPrinter:
    virtual = VirtualPrinter(384)
    escpos = VirtualEscpos(virtual)
    escpos.profile.profile_data = {
        **escpos.profile.profile_data,
        "media": {"width": {"pixels": 384}},
    }
    action(escpos)
    return virtual


def test_python_escpos_commands_parse_back_to_operations(image: Image.Image) -> None:
    def job(p) -> None:
        p.hw("INIT")
        p.text("Hi\n")
        p.set(align="center", bold=True)
        p.image(image)
        p.cut()
        p.cut(feed=False)
        p.cashdraw(2)
        p.cashdraw(5)

    ops = printed(job).ops
    (raster,) = [op for op in ops if isinstance(op, Raster)]
    assert [op for op in ops if isinstance(op, Setting)] == [
        Setting(b"\x1bt\x00"),  # code page chosen by text()
        Setting(b"\x1bE\x01"),  # bold
        Setting(b"\x1ba\x01"),  # centred
    ]
    assert [op for op in ops if not isinstance(op, (Setting, Raster))] == [
        Init(),
        Text(b"Hi"),
        LineFeed(),
        Feed(6),
        Cut(partial=False),
        Cut(partial=True, feed=0),
        DrawerPulse(pin=2, on_ms=100, off_ms=100),
        DrawerPulse(pin=5, on_ms=100, off_ms=100),
    ]
    assert (raster.width, raster.height, raster.density) == (384, 120, 0)
    assert raster.image.tobytes() == image.tobytes()


def test_bytes_split_anywhere_parse_the_same(image: Image.Image) -> None:
    virtual = printed(lambda p: (p.hw("INIT"), p.image(image), p.cut(), p.cashdraw(2)))
    stream = _stream(image)
    parser = EscposParser()
    ops = [op for i in range(0, len(stream), 7) for op in parser.feed(stream[i : i + 7])]
    assert [type(o) for o in ops] == [type(o) for o in virtual.ops]
    assert ops[1].image.tobytes() == image.tobytes()
    assert parser.waiting == 0


def _stream(image: Image.Image) -> bytes:
    chunks: list[bytes] = []

    class Capture(VirtualPrinter):
        def write(self, data: bytes) -> None:
            chunks.append(data)

    escpos = VirtualEscpos(Capture(384))
    escpos.hw("INIT")
    escpos.image(image)
    escpos.cut()
    escpos.cashdraw(2)
    return b"".join(chunks)


def test_an_incomplete_command_waits_for_the_rest() -> None:
    parser = EscposParser()
    assert parser.feed(b"\x1dv0\x00\x01\x00\x02\x00") == []
    assert parser.waiting == 8
    ops = parser.feed(b"\xf0\x0f")
    assert len(ops) == 1 and isinstance(ops[0], Raster)
    assert ops[0].image.size == (8, 2)
    assert list(ops[0].image.tobytes()) == [0x0F, 0xF0]  # printed dots are black (0)


def test_tall_images_arrive_in_fragments_and_stack_back() -> None:
    tall = pattern(384, 2000, seed=3)
    virtual = printed(lambda p: (p.image(tall), p.cut()))
    heights = [op.height for op in virtual.ops if isinstance(op, Raster)]
    assert heights == [960, 960, 80]
    (receipt,) = virtual.receipts()
    assert receipt.cut is True
    assert receipt.image.tobytes() == tall.tobytes()


def test_status_queries_and_unknown_commands_are_recorded() -> None:
    ops = EscposParser().feed(b"\x10\x04\x01\x10\x04\x04\x1b\x99AB\x1dV\x41\x03")
    assert ops == [
        StatusQuery(1),
        StatusQuery(4),
        Unknown(b"\x1b\x99"),
        Text(b"AB"),
        Cut(partial=False, feed=3),
    ]


@pytest.mark.parametrize(
    ("faults", "online", "paper"),
    [
        ({}, True, 2),
        ({"paper_near_end": True}, True, 1),
        ({"paper_out": True}, False, 0),
        ({"cover_open": True}, False, 2),
    ],
)
def test_virtual_printer_answers_status_like_a_real_one(faults, online, paper) -> None:
    virtual = VirtualPrinter(384)
    for name, value in faults.items():
        setattr(virtual.faults, name, value)
    escpos = VirtualEscpos(virtual)
    assert (escpos.is_online(), escpos.paper_status()) == (online, paper)
