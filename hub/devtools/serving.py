"""A hub app served on a free local port for as long as a ``with`` block: the screenshot stories."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hub.devtools.signed_in import session_for, with_cookie
from kiosk.devtools.ports import free_port, wait_for_port


@contextmanager
def serving(app: Any, role: str | None = "owner") -> Iterator[int]:
    """Run ``app`` under uvicorn on 127.0.0.1 in a thread; yield its port once it answers; stop it after.

    Every request comes signed in as ``role`` (an account of that name is made on the open hub
    database), as a browser after the login page would; ``None`` serves it as to a stranger.
    """
    import uvicorn

    if role is not None:
        app = with_cookie(app, session_for(role)[0])
    port = free_port()
    # as `hub serve` does: the app alone reads X-Forwarded-For, from the proxies it trusts (hub.web.proxies)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for_port(port)
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
