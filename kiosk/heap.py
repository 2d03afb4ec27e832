"""Giving the memory a finished sale freed back to the system.

glibc's malloc keeps freed memory in its arenas for reuse; after a sale (screens
drawn, labels re-rendered, the database written, a receipt rendered) that is
10–15 MB the kiosk's RSS carries until the next sale happens to reuse it
(docs/perf.md, "Kiosk app"). ``malloc_trim(0)`` hands every free page back.
It costs a few milliseconds, so the app calls it once the screen is back at
idle, never while a shopper waits.
"""

import ctypes
import ctypes.util
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
