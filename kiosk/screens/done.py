"""Done screen: thanks, receipt number, amount paid; returns to idle by itself."""

from kivy.clock import Clock

from kiosk.screens.base import KioskScreen, load_kv

RETURN_AFTER_S = 15


class DoneScreen(KioskScreen):
    """Shown after the sale is committed."""

    def on_enter(self, *_args: object) -> None:
        self._timer = Clock.schedule_once(lambda _dt: self._back_to_idle(), RETURN_AFTER_S)

    def on_leave(self, *_args: object) -> None:
        self._timer.cancel()

    def _back_to_idle(self) -> None:
        if self.manager and self.manager.current == self.name:
            self.manager.current = "idle"


load_kv("done")
