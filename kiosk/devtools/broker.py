"""A private Mosquitto on a free loopback port, for the demo and the tests."""

import getpass
import shutil
import subprocess
from pathlib import Path

from kiosk.devtools.ports import free_port, wait_for_port

MOSQUITTO_CONF = """\
listener {port} 127.0.0.1
# run as whoever started us (as root, mosquitto would switch to its own user)
user {user}
allow_anonymous true
persistence {persistence}
persistence_location {data}/
# Nothing is dropped silently: no cap on queued or in-flight QoS 1 messages.
max_queued_messages 0
max_inflight_messages 0
max_queued_bytes 0
# small acks must not wait for Nagle + delayed ACK (about 40 ms per round trip)
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
log_type notice
"""


class MosquittoBroker:
    """Runs ``mosquitto`` as a child process; ``stop()`` kills it, ``start()`` brings it back."""

    def __init__(self, workdir: Path, port: int | None = None, persistence: bool = True) -> None:
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.persistence = persistence
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> "MosquittoBroker":
        """Start (or restart) the broker on the same port and wait until it accepts."""
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            MOSQUITTO_CONF.format(
                port=self.port,
                data=self.workdir,
                persistence="true" if self.persistence else "false",
                user=getpass.getuser(),
            )
        )
        with (self.workdir / "mosquitto.log").open("ab") as log:
            self._process = subprocess.Popen(
                [binary, "-c", str(conf)], stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        """Stop the broker (SIGTERM, so persistence is written) and wait for it to exit."""
        if self._process and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)
        self._process = None

    def kill(self) -> None:
        """Kill the broker with SIGKILL, as a power cut would: nothing is written on the way out."""
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None

    @property
    def running(self) -> bool:
        """True while the child process lives."""
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> "MosquittoBroker":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
