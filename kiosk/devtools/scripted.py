"""A scripted shopper: drives the real app on the Kivy Clock with touches, scans and card taps.

Used by ``make demo`` without a display and by the window tests. Barcodes and
cards go through the fake devices' key events and the hardware queue, exactly
like real ones; buttons are pressed with Kivy touch events at their centre. It
screenshots screens in each language, checks every visible button's size, and
writes a JSON report of what the screens showed.

A script is a list of steps, each a one-key dict: ``scan``, ``scan_twice``,
``card``, ``tap`` (``screen:id``, ``popup:id``, ``row:N:id``, ``coupon:N``, ``reward:N``, ``reprint:N``,
``surname:王``,
``refund_sale:N`` or ``refund_line:N:id``), ``pin`` /
``amount`` (typed on the open keypad, then OK), ``keys`` (``screen:digits`` on a
member screen's keypad, then OK), ``press`` (the same without OK), ``type``
(``screen:id=text`` into a text field), ``observe_screen`` (``screen=name``: what
a screen holds even when not shown), ``wait``, ``wait_until``
(``payment`` or a screen name), ``inactive`` (pretend nobody touched anything),
``observe`` and ``shot`` (a name).
"""

import json
import shutil
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.tests.common import UnitTestTouch
from kivy.uix.button import Button
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.app import KioskApp

Steps = Generator[float, None, None]
MIN_TOUCH_PX = 48


@dataclass
class ShopperScript:
    """What the shopper does, and where screenshots and the report go."""

    barcodes: list[str] = field(default_factory=list)
    bad_barcodes: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] | None = None
    screenshots: Path | None = None
    report: Path | None = None
    pay: bool = True
    languages: tuple[str, ...] = ("zh", "en")

    def all_steps(self) -> list[dict[str, Any]]:
        """The explicit steps, or the classic flow: scan, show errors, pay cash, skip receipt."""
        if self.steps is not None:
            return self.steps
        steps: list[dict[str, Any]] = [{"shot": "idle"}]
        steps += [{"scan": code} for code in self.barcodes]
        steps += [{"observe": "cart"}, {"shot": "cart"}]
        for code in self.bad_barcodes:
            steps += [{"scan": code}, {"message": True}]
        if self.bad_barcodes:
            steps.append({"shot": "cart_error"})
        if self.pay:
            steps += [
                {"tap": "cart:pay"}, {"observe": "pay"}, {"shot": "pay"},
                {"tap": "pay:cash"}, {"pin": "2468"}, {"observe": "receipt"},
                {"tap": "receipt:skip"}, {"observe": "done"}, {"shot": "done"},
            ]  # fmt: skip
        return steps


class ScriptedShopper:
    """Runs a :class:`ShopperScript` against a started :class:`KioskApp`."""

    def __init__(self, script: ShopperScript) -> None:
        self.script = script
        self.observed: dict[str, Any] = {
            "screens": {},
            "messages": [],
            "errors": [],
            "small_buttons": {},
            "pin_checks": [],
        }
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
        yield 0.3
        for step in self.script.all_steps():
            ((verb, arg),) = step.items()
            yield from getattr(self, f"_do_{verb}")(arg)
        self._finish()

    # --- steps ---------------------------------------------------------------------------
    def _do_scan(self, code: str) -> Steps:
        yield from self._handled(self.app.demo_scanner.scan_later(code))
        yield 0.2

    def _do_scan_twice(self, code: str) -> Steps:
        first = self.app.demo_scanner.scan_later(code)
        second = self.app.demo_scanner.scan_later(code, delay=0.08)
        yield from self._handled(first, second)
        yield 0.2

    def _do_card(self, uid: str) -> Steps:
        self.app.demo_card.tap(uid)
        yield from self._handled()
        yield 0.15

    def _handled(self, *typing: threading.Thread) -> Steps:
        """Until the devices have typed and the app has drained (and so handled) every event.

        This runs on the UI thread like the drain, so an empty queue means handled, on a
        loaded machine too, where a fixed wait would sometimes look too early.
        """
        deadline = time.monotonic() + 10
        while any(t.is_alive() for t in typing) or not self.app.hardware.empty():
            if time.monotonic() > deadline:
                raise RuntimeError("the app did not take the scanned code within 10 s")
            yield 0.02

    def _do_tap(self, target: str) -> Steps:
        yield from self._shown(target.partition(":")[0])
        yield 0.1  # let the layout place widgets that were just rebuilt or moved
        widget = self._find(target)
        deadline = time.monotonic() + 5  # a button enabled by a later Clock tick: a person waits for it too
        while widget.disabled and time.monotonic() < deadline:
            yield 0.02
            widget = self._find(target)
        if widget.disabled:
            app = self.app
            raise RuntimeError(
                f"{target} is disabled (screen {app.root.current}, {app.item_count} items, "
                f"message {app.message!r}, popup {type(app.popup).__name__ if app.popup else None})"
            )
        # a popup or screen that just opened is laid out over the next frames; on a loaded machine
        # 0.1 s can be too early and the tap would land where the button was. A person taps a
        # button that has stopped moving: wait until its place is the same two looks in a row.
        place, settled_by = None, time.monotonic() + 2
        while time.monotonic() < settled_by:
            now = (*widget.to_window(*widget.center), widget.width, widget.height)
            if now == place:
                break
            place = now
            yield 0.05
            widget = self._find(target)
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        # a ScrollView with scrollable content replays a tap to its children after about 0.2 s
        yield 0.3 if self._in_scroll_view(widget) else 0.12

    def _shown(self, where: str) -> Steps:
        """Until screen ``where`` is on display, as a person waits for it before tapping on it.

        A worker's result (a printed receipt, a payment) switches screens on a later Clock tick;
        on a loaded machine that can come after a fixed pause. A ``popup`` target waits the same
        way for a popup to be open. Other targets (rows) and a screen or popup that never shows
        (within 5 s) go ahead as before.
        """
        deadline = time.monotonic() + 5
        if where == "popup":  # a keypad or menu opened by the last tap shows on a later Clock tick
            while self.app.popup is None and time.monotonic() < deadline:
                yield 0.02
            return
        if not self.app.root.knows(where):
            return
        while self.app.root.current != where and time.monotonic() < deadline:
            yield 0.02

    def _in_scroll_view(self, widget: Widget) -> bool:
        parent = widget.parent
        while parent is not None and parent is not parent.parent:
            if isinstance(parent, ScrollView):
                return True
            parent = parent.parent
        return False

    def _do_pin(self, digits: str) -> Steps:
        for digit in digits:
            yield from self._do_tap(f"popup:key_{digit}")
        yield from self._do_tap("popup:key_ok")
        yield from self._while_pin_checked()

    def _while_pin_checked(self) -> Steps:
        """Until a staff PIN check on its worker thread answers; records how the UI kept ticking
        meanwhile (``pin_checks``: seconds, Clock ticks seen, the longest gap between two)."""
        start = last = time.monotonic()
        ticks, longest = 0, 0.0
        while getattr(self.app, "staff_pin_busy", False) and time.monotonic() < start + 60:
            yield 0.02
            now = time.monotonic()
            ticks, longest, last = ticks + 1, max(longest, now - last), now
        if ticks:
            seconds = round(time.monotonic() - start, 3)
            self.observed["pin_checks"].append(
                {"seconds": seconds, "ticks": ticks, "max_gap": round(longest, 3)}
            )

    _do_amount = _do_pin

    def _do_keys(self, target: str) -> Steps:
        """``screen:digits``: tap each digit on that screen's member keypad, then OK."""
        yield from self._do_press(f"{target}!")

    def _do_press(self, target: str) -> Steps:
        """``screen:digits``: tap each digit on that screen's member keypad (``!`` at the end: OK)."""
        screen, _, digits = target.partition(":")
        yield 0.05
        for key in [*digits.rstrip("!"), *(["ok"] if digits.endswith("!") else [])]:
            widget = self._find(f"{screen}:key_{key}")
            x, y = widget.to_window(*widget.center)
            touch = UnitTestTouch(x, y)
            touch.touch_down()
            touch.touch_up()
            yield 0.03
        deadline = time.monotonic() + 15
        while getattr(getattr(self.app, "member_flow", None), "busy", False) and time.monotonic() < deadline:
            yield 0.05  # a PIN is being checked or hashed on a worker thread
        yield 0.1

    def _do_observe_screen(self, target: str) -> Steps:
        """``screen=name``: the texts screen ``screen`` holds, shown or not, recorded as ``name``."""
        screen_name, _, name = target.partition("=")
        screen = self.app.root.get_screen(screen_name)
        texts = {key: w.text for key, w in screen.ids.items() if isinstance(getattr(w, "text", None), str)}
        self.observed["screens"][name] = {key: text for key, text in texts.items() if text}
        yield 0

    def _do_type(self, target: str) -> Steps:
        """``screen:id=text``: what a keyboard would type into that text field."""
        where, _, text = target.partition("=")
        self._find(where).text = text
        yield 0.1

    def _do_wait(self, seconds: float) -> Steps:
        yield float(seconds)

    def _do_wait_until(self, what: str) -> Steps:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            done = not self.app.payment_busy if what == "payment" else self.app.root.current == what
            if done:
                break
            yield 0.1
        yield 0.1

    def _do_inactive(self, _arg: object) -> Steps:
        from kiosk.screens.popups import StillThere

        self.app._last_activity = time.monotonic() - self.app.settings.idle_timeout_s - 1
        deadline = time.monotonic() + 3
        while not isinstance(self.app.popup, StillThere) and time.monotonic() < deadline:  # checked each 1 s
            yield 0.05

    def _do_message(self, _arg: object) -> Steps:
        self.observed["messages"].append(self.app.message)
        yield 0

    def _do_observe(self, name: str) -> Steps:
        self.observed["screens"][name] = self.snapshot()
        yield 0

    def _do_shot(self, name: str) -> Steps:
        yield from self._capture(name)

    # --- looking --------------------------------------------------------------------------
    def _find(self, target: str) -> Widget:
        where, _, name = target.partition(":")
        if where == "popup":
            if self.app.popup is None:
                raise RuntimeError(f"no popup open for {target}")
            return self.app.popup.ids[name]
        if where == "reprint":  # a receipt in the staff menu's reprint list
            return self.app.popup.rows()[int(name)]
        if where == "refund_sale":  # a sale in the refund screen's list
            return self.app.root.get_screen("refund").sale_rows()[int(name)]
        if where == "refund_line":  # ``refund_line:N:plus``
            index, _, name = name.partition(":")
            return self.app.root.get_screen("refund").line_rows()[int(index)].ids[name]
        if where == "row":
            index, _, name = name.partition(":")
            return self.app.root.get_screen("cart").row_widgets()[int(index)].ids[name]
        if where == "coupon":  # a coupon button on the pay screen
            return self.app.root.get_screen("pay").coupon_buttons()[int(name)]
        if where == "count_card":  # a 次卡抵扣 button on the pay screen
            return self.app.root.get_screen("pay").count_card_buttons()[int(name)]
        if where == "reward":  # a reward button on the rewards screen (积分兑换)
            return self.app.root.get_screen("member_rewards").reward_buttons()[int(name)]
        if where == "card_use":  # a count card's 用一次 button on My account
            return self.app.root.get_screen("member_account").card_buttons()[int(name)]
        if where == "tile":
            return self.app.root.get_screen("pick").tiles()[int(name)]
        if where == "surname":  # a surname on the join name screen's page shown
            buttons = self.app.root.get_screen("member_name").surname_buttons()
            return next(b for b in buttons if b.text == name)
        if where == "tab":
            tabs = list(reversed(self.app.root.get_screen("pick").ids.tabs.children))
            return next(t for t in tabs if t.category == name)
        screen = self.app.root.get_screen(where)
        if name in screen.ids:
            return screen.ids[name]
        for child in screen.walk():  # ids of nested rules (the top bar's buttons)
            if name in getattr(child, "ids", {}):
                return child.ids[name]
        raise KeyError(f"no widget {target}")

    def snapshot(self) -> dict[str, Any]:
        """What the shopper sees now: screen, message, popup, cart and totals."""
        app = self.app
        cart = app.root.get_screen("cart")
        view: dict[str, Any] = {
            "current": app.root.current,
            "message": app.message,
            "rows": cart.rows(),
            "rows_built": cart.rows_built,
            "count": cart.ids.count.text,
            "subtotal": app.subtotal_text,
            "discount": app.discount_text,
            "total": cart.ids.total.text,
            "remaining": app.remaining_text,
            "member": cart.ids.member.text,
            "points": cart.ids.points.text,
            "built": [screen.name for screen in app.root.screens],  # member/refund: once first shown
        }
        if app.root.current == "receipt":
            view["qr_url"] = app.qr_url  # the signed e-receipt link the QR shows
        if app.popup is not None:
            view["popup"] = {
                key: widget.text for key, widget in app.popup.ids.items() if isinstance(widget, Label)
            }
            view["popup"]["kind"] = type(app.popup).__name__
            buttons = app.popup.ids.items()
            view["popup"]["enabled"] = sorted(  # the popup's buttons a tap would work on
                key for key, widget in buttons if isinstance(widget, Button) and not widget.disabled
            )
            if hasattr(app.popup, "rows"):
                view["popup"]["rows"] = [row.text for row in app.popup.rows()]
        screen = app.root.get_screen(app.root.current)
        view["texts"] = {key: w.text for key, w in screen.ids.items() if isinstance(w, Label) and w.text}
        view["images"] = {
            key: w.source for key, w in screen.ids.items() if isinstance(w, Image) and w.opacity
        }
        view["enabled"] = sorted(
            key for key, w in screen.ids.items() if isinstance(w, Button) and not w.disabled
        )
        nested = {key: w for child in screen.walk() for key, w in getattr(child, "ids", {}).items()}
        view["button_sizes"] = {  # font px and height px of each button, the top bar's too (large text)
            key: [round(w.font_size), round(w.height)] for key, w in nested.items() if isinstance(w, Button)
        }
        if hasattr(screen, "coupon_buttons"):  # the pay screen's coupons: text, and whether a tap works
            view["coupons"] = [[b.text, not b.disabled] for b in screen.coupon_buttons()]
        if hasattr(screen, "count_card_buttons"):  # the pay screen's 次卡抵扣 buttons
            view["count_cards"] = [[b.text, not b.disabled] for b in screen.count_card_buttons()]
        if hasattr(screen, "reward_buttons"):  # the rewards: text, and whether the points reach it
            view["rewards"] = [[b.text, not b.disabled] for b in screen.reward_buttons()]
        if hasattr(screen, "card_buttons"):  # My account's count cards: 用一次 buttons
            view["card_uses"] = [b.text for b in screen.card_buttons()]
        if hasattr(screen, "surname_buttons"):  # the join name screen's surname grid, page shown
            view["surnames"] = [b.text for b in screen.surname_buttons()]
        return view

    def small_buttons(self) -> list[str]:
        """Visible buttons under 48×48 px in the window right now."""
        small = []
        for root in Window.children:
            for widget in root.walk():
                if not isinstance(widget, Button) or widget.opacity == 0 or widget.get_root_window() is None:
                    continue
                if widget.width < MIN_TOUCH_PX or widget.height < MIN_TOUCH_PX:
                    small.append(f"{widget.text!r} {int(widget.width)}x{int(widget.height)}")
        return small

    def _capture(self, name: str) -> Steps:
        """Screenshot (and size-check) the current screen in every language, ending in the first."""
        for lang in self.script.languages:
            if self.app.lang != lang:
                self.app.toggle_language()
            yield 0.25
            self.observed["small_buttons"][f"{name}-{lang}"] = self.small_buttons()
            if self.script.screenshots is not None:
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
        app = self.app
        self.observed["receipt_no"] = app.last_receipt_no
        self.observed["printed"] = list(app.print_queue.printed) if app.print_queue else []
        self.observed["window"] = [int(Window.width), int(Window.height)]
        virtual = getattr(app, "virtual_printer", None)
        self.observed["drawer_pulses"] = len(virtual.drawer_pulses()) if virtual is not None else 0
        if self.script.report:
            self.script.report.write_text(json.dumps(self.observed, ensure_ascii=False, indent=2))
        app.stop()
