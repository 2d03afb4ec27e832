"""Thank-you screen: amount paid, points earned and new balance, tier progress, a greeting."""

from kivy.clock import Clock, ClockEvent

from kiosk.screens.base import KioskScreen, load_kv

RETURN_AFTER_S = 12


class DoneScreen(KioskScreen):
    """Shown last; resets to the attract screen by itself so no member data stays up."""

    # None until on_enter has run: two screen changes within one frame can leave before it did
    _timer: ClockEvent | None = None

    def on_enter(self, *_args: object) -> None:
        self._timer = Clock.schedule_once(lambda _dt: self._back_to_idle(), RETURN_AFTER_S)

    def on_leave(self, *_args: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _back_to_idle(self) -> None:
        from kivy.app import App

        if self.manager and self.manager.current == self.name:
            App.get_running_app().reset()


load_kv("done")
