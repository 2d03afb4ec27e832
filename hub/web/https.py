"""Plain HTTP that only sends browsers and terminals on to HTTPS, when the hub serves TLS."""

from typing import Any

from starlette.datastructures import URL
from starlette.responses import RedirectResponse


def redirect_to_https(https_port: int) -> Any:
    """An ASGI app answering every request with a permanent redirect to the same path over HTTPS.

    308 keeps the method, so a terminal's POST is not silently turned into a GET.
    """

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        url = URL(scope=scope)
        host = (url.hostname or "localhost") if https_port == 443 else f"{url.hostname}:{https_port}"
        target = url.replace(scheme="https", netloc=host)
        await RedirectResponse(str(target), 308)(scope, receive, send)

    return app
