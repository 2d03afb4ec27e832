"""What every kiosk screen shares."""

from pathlib import Path

from kivy.lang import Builder
from kivy.uix.screenmanager import Screen

HERE = Path(__file__).parent


def load_kv(name: str) -> None:
    """Load ``kiosk/screens/{name}.kv`` once."""
    path = str(HERE / f"{name}.kv")
    if path not in Builder.files:
        Builder.load_file(path)


class KioskScreen(Screen):
    """A full-window screen with the kiosk's background."""


load_kv("common")
