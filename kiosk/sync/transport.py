"""Socket tuning shared by the terminal agent and the hub workers."""

import socket
from typing import Any


def no_delay(_client: Any, _userdata: Any, sock: Any) -> None:
    """paho ``on_socket_open``: disable Nagle's algorithm.

    An ack is a small write right after another small write (the PUBACK); with
    Nagle it waits for the peer's delayed TCP ACK, about 40 ms per round trip.
    """
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
