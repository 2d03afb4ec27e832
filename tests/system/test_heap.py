"""kiosk.system.heap: what a finished sale leaves is collected and handed back to the system."""

import gc
from pathlib import Path

import pytest

from kiosk.system import heap


def rss_anon_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    raise AssertionError("no RssAnon in /proc/self/status")


@pytest.mark.skipif(heap._TRIM is None, reason="malloc_trim is glibc's; this C library has none")
def test_free_pages_in_the_middle_of_the_heap_go_back_to_the_system() -> None:
    # 2 KB blocks come from malloc (above pymalloc's 512 bytes); keeping every 16th alive leaves
    # the freed ones in the middle of the heap, where free() alone never returns them
    blocks = [bytes(2048) for _ in range(20_000)]
    kept = blocks[::16]
    del blocks
    before = rss_anon_kb()
    assert heap.release_free_memory() is True
    after = rss_anon_kb()
    assert before - after > 20_000, (before, after)  # of the ~39 MB freed, most pages go back
    assert len(kept) == 1250


def test_release_after_sale_collects_cyclic_garbage_first() -> None:
    gc.collect()

    class Row:  # a widget-like object in a cycle with its parent, as a popup and its buttons are
        def __init__(self, parent: "Row | None") -> None:
            self.parent = parent
            self.children: list[Row] = []

    for _ in range(30):
        popup = Row(None)
        popup.children.append(Row(popup))
    del popup
    # each popup: two Row objects and their two children lists (3.11 keeps their attributes inline)
    assert heap.release_after_sale() == 30 * 4
