"""A private Xvfb display for headless runs of the Kivy app."""

import os
import shutil
import subprocess


class Xvfb:
    """Starts ``Xvfb`` on a free display number (``-displayfd``) and stops it."""

    def __init__(self, width: int = 800, height: int = 480) -> None:
        self.size = f"{width}x{height}x24"
        self.display = ""
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> "Xvfb":
        """Start the server and learn its display name (``:N``)."""
        binary = shutil.which("Xvfb")
        if binary is None:
            raise RuntimeError("Xvfb is not installed: apt-get install xvfb (缺少 Xvfb)")
        read_fd, write_fd = os.pipe()
        self._process = subprocess.Popen(
            [binary, "-displayfd", str(write_fd), "-screen", "0", self.size, "-nolisten", "tcp"],
            pass_fds=(write_fd,),
            stdin=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not report a display number")
        self.display = f":{number}"
        return self

    def stop(self) -> None:
        """Stop the server."""
        if self._process and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)

    def __enter__(self) -> "Xvfb":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
