"""Which client a request comes from when the hub sits behind a reverse proxy the owner trusts.

Behind a proxy (nginx, Caddy, a load balancer) every connection comes from the proxy's address, so
the login limit would count every client as one. The owner names the proxies the hub trusts
(``hub serve --trusted-proxy``, ``HUB_TRUSTED_PROXIES``). Only a connection from one of them has its
``X-Forwarded-For`` and ``X-Forwarded-Proto`` read, and the client is the right-most address in
``X-Forwarded-For`` that is not itself a trusted proxy: the one the outermost trusted proxy saw
(whatever a client wrote further left is ignored). From anyone else the headers are ignored and the
connection's own address counts. Without trusted proxies nothing is read.
"""

import ipaddress
from collections.abc import Iterable

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

__all__ = ["honour_proxies", "trusted_proxies"]


def trusted_proxies(values: Iterable[str]) -> tuple[str, ...]:
    """The owner's proxies as addresses or networks (``10.0.0.5``, ``10.0.1.0/24``), split on spaces
    and commas; ValueError (zh/en) names one that is not an address or network, or one trusting all."""
    found: list[str] = []
    for raw in values:
        for text in raw.replace(",", " ").split():
            found.append(_one(text))
    return tuple(dict.fromkeys(found))


def _one(text: str) -> str:
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(
            f"trusted proxy {text[:60]!r} is not an IP address or network like 10.0.0.5 or 10.0.1.0/24"
            f" / 可信代理 {text[:60]!r} 不是 IP 地址或网段（例如 10.0.0.5 或 10.0.1.0/24）"
        ) from None
    if network.prefixlen == 0:
        raise ValueError(
            f"trusted proxy {text!r} would trust every client to say who it is: name the proxy's own"
            f" address / 可信代理 {text!r} 会信任所有客户端，请填写代理服务器自己的地址"
        )
    if network.num_addresses == 1:
        return str(network.network_address)
    return str(network)


def honour_proxies(app: FastAPI, trusted: tuple[str, ...]) -> None:
    """Make ``app`` read ``X-Forwarded-For``/``-Proto`` from the ``trusted`` proxies only (none: never).

    The server must not read them itself: ``hub serve`` runs uvicorn with ``proxy_headers=False``
    (uvicorn's default would trust any connection from 127.0.0.1).
    """
    if trusted:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(trusted))
