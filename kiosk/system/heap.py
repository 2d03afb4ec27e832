"""Giving the memory a finished sale freed back to the system.

A sale leaves cyclic garbage (each keypad popup is a few hundred objects in
reference cycles with its buttons) that only a full collection frees, and the
start-up heap is frozen out of full collections (``KioskApp._freeze_startup_heap``),
so they come seldom. glibc's malloc then keeps what was freed in its arenas:
10–15 MB the kiosk's RSS carried (docs/perf.md, "Kiosk app"). After each sale
:func:`release_after_sale` collects that garbage and ``malloc_trim(0)`` hands
every free page back. The app calls it in ``reset()``, when the shopper has gone (thanks,
cancel, timeout): a few milliseconds nobody waits for (the figure is in docs/perf.md).
"""

import ctypes
import ctypes.util
import gc
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


def _load_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim with
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


_TRIM = _load_trim()


def release_free_memory() -> bool:
    """Return malloc's free pages to the kernel; ``False`` where the C library cannot."""
    if _TRIM is None:
        return False
    return bool(_TRIM(0))


def release_after_sale() -> int:
    """Collect the last sale's cyclic garbage, then return free pages; the number of objects freed."""
    freed = gc.collect()
    release_free_memory()
    return freed
