"""A scripted shopper: drives the real app on the Kivy Clock, screenshots every screen.

Used by ``make demo`` without a display and by the window tests. Barcodes go
through the fake scanner's key events and the hardware queue, exactly like a
real scan. At the end it writes a JSON report of what the screens showed.
"""

import json
import shutil
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window

from kiosk.app import KioskApp

Steps = Generator[float, None, None]


@dataclass
class ShopperScript:
    """What the shopper scans, and where screenshots and the report go."""

    barcodes: list[str]
    bad_barcodes: list[str] = field(default_factory=list)
    screenshots: Path | None = None
    report: Path | None = None
    pay: bool = True
    languages: tuple[str, ...] = ("zh", "en")


class ScriptedShopper:
    """Runs a :class:`ShopperScript` against a started :class:`KioskApp`."""

    def __init__(self, script: ShopperScript) -> None:
        self.script = script
        self.observed: dict[str, Any] = {"screens": {}, "messages": [], "errors": []}
        self._steps: Iterator[float] | None = None

    def attach(self, app: KioskApp) -> None:
        """Start driving ``app`` once it has started."""
        self.app = app
        app.on_started = lambda _app: self._begin()

    def _begin(self) -> None:
        self._steps = self._run()
        self._next(0)

    def _next(self, _dt: float) -> None:
        assert self._steps is not None
        try:
            delay = next(self._steps)
        except StopIteration:
            return
        except Exception as exc:  # a failed step must end the run, not hang it
            self.observed["errors"].append(repr(exc))
            self._finish()
            return
        Clock.schedule_once(self._next, delay)

    def _run(self) -> Steps:
        app = self.app
        yield 0.3
        yield from self._capture("idle")
        for code in self.script.barcodes:
            app.demo_scanner.scan_later(code)
            yield 0.25
        yield 0.2
        self._observe_cart("cart")
        yield from self._capture("cart")
        for code in self.script.bad_barcodes:
            app.demo_scanner.scan_later(code)
            yield 0.3
            self.observed["messages"].append(app.message)
        if self.script.bad_barcodes:
            yield from self._capture("cart_error")
        if self.script.pay:
            app.root.get_screen("cart").ids.pay.trigger_action(0)
            yield 0.2
            self.observed["screens"]["pay"] = {"total": app.root.get_screen("pay").ids.total.text}
            yield from self._capture("pay")
            app.root.get_screen("pay").ids.confirm_cash.trigger_action(0)
            yield 0.3
            done = app.root.get_screen("done")
            self.observed["screens"]["done"] = {
                "current": app.root.current,
                "receipt": done.ids.receipt.text,
                "paid": done.ids.paid.text,
            }
            self.observed["receipt_no"] = app.last_receipt_no
            yield from self._capture("done")
        self._finish()

    def _observe_cart(self, key: str) -> None:
        screen = self.app.root.get_screen("cart")
        self.observed["screens"][key] = {
            "current": self.app.root.current,
            "rows": screen.rows(),
            "total": screen.ids.total.text,
            "count": screen.ids.count.text,
        }

    def _capture(self, name: str) -> Steps:
        """Screenshot the current screen in every language, ending in the first."""
        if self.script.screenshots is None:
            return
        for lang in self.script.languages:
            if self.app.lang != lang:
                self.app.toggle_language()
            yield 0.25
            self._screenshot(f"kiosk-{name}-{lang}.png")
        if self.app.lang != self.script.languages[0]:
            self.app.toggle_language()
            yield 0.1

    def _screenshot(self, filename: str) -> None:
        assert self.script.screenshots is not None
        self.script.screenshots.mkdir(parents=True, exist_ok=True)
        target = self.script.screenshots / filename
        made = Window.screenshot(name=str(target))
        if made and Path(made) != target:
            shutil.move(made, target)

    def _finish(self) -> None:
        if self.script.report:
            self.script.report.write_text(json.dumps(self.observed, ensure_ascii=False, indent=2))
        self.app.stop()
