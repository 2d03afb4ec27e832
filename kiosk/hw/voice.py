"""Spoken prompts for each checkout step, in Mandarin and English (espeak-ng).

Each prompt is rendered once to a WAV file in a cache directory, keyed by the
language and a hash of the text, then played by ``aplay`` (or any player
command). Rendering and playing run on one worker thread, so the UI thread
only puts a request on a queue. No Kivy here.
"""

import hashlib
import logging
import queue
import shutil
import subprocess
import threading
from pathlib import Path

log = logging.getLogger(__name__)

VOICES = {"zh": "cmn", "en": "en-gb"}


class VoiceUnavailable(RuntimeError):
    """espeak-ng is not installed (apt-get install espeak-ng / 请安装 espeak-ng)."""


def render(text: str, lang: str, cache: Path, espeak: str = "espeak-ng") -> Path:
    """The WAV file for ``text`` in ``lang``, rendered on first use; blocks (call off the UI thread)."""
    digest = hashlib.sha256(f"{lang}\0{text}".encode()).hexdigest()[:20]
    target = cache / f"{lang}-{digest}.wav"
    if target.exists():
        return target
    binary = shutil.which(espeak)
    if binary is None:
        raise VoiceUnavailable(f"{espeak} is not installed: apt-get install espeak-ng (请安装 espeak-ng)")
    cache.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp")
    subprocess.run(
        [binary, "-v", VOICES.get(lang, "cmn"), "-s", "150", "-w", str(partial), text],
        check=True,
        capture_output=True,
        timeout=30,
    )
    partial.replace(target)
    return target


class VoicePrompter:
    """Speaks prompts on a worker thread; :meth:`say` never blocks.

    ``player`` is the command that plays a WAV (``aplay -q`` by default); None
    renders without playing (a kiosk without speakers, or tests).
    """

    def __init__(self, cache: Path, player: list[str] | None = None, enabled: bool = True) -> None:
        self.cache = cache
        self.player = player if player is not None else _default_player()
        self.enabled = enabled
        self.spoken: list[Path] = []
        self._requests: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="voice", daemon=True)
        self._thread.start()

    def say(self, text: str, lang: str) -> None:
        """Queue ``text`` to be spoken in ``lang`` (nothing when disabled)."""
        if self.enabled and text:
            self._requests.put((text, lang))

    def stop(self, timeout: float = 5.0) -> None:
        """Finish what is queued and stop the worker."""
        self._requests.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (request := self._requests.get()) is not None:
            text, lang = request
            try:
                wav = render(text, lang, self.cache)
                self.spoken.append(wav)
                if self.player:
                    subprocess.run([*self.player, str(wav)], capture_output=True, timeout=60)
            except (OSError, subprocess.SubprocessError, VoiceUnavailable) as exc:
                log.warning("voice prompt not spoken (%s): %s", lang, exc)


def _default_player() -> list[str] | None:
    aplay = shutil.which("aplay")
    return [aplay, "-q"] if aplay else None
