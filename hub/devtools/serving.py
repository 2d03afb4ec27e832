"""A hub app served on a free local port for as long as a ``with`` block: the screenshot stories."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kiosk.devtools.ports import free_port, wait_for_port


@contextmanager
def serving(app: Any) -> Iterator[int]:
    """Run ``app`` under uvicorn on 127.0.0.1 in a thread; yield its port once it answers; stop it after."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for_port(port)
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
