"""The print queue: receipts print off the UI thread, retry until they come out, and can be
printed again.

A sale is committed before its receipt is queued, so a printer that is out of
paper, unplugged or slow never blocks or loses a sale: :meth:`PrintQueue.submit`
returns at once, the job waits at the head of the queue, and the queue retries
with a growing delay (or at once on :meth:`PrintQueue.retry_now`, e.g. after
the attendant loads paper). Every change is a ``STATUS`` event from source
``printer`` whose ``detail`` is the receipt number.
"""

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from kiosk.hw.config import HardwareConfig
from kiosk.hw.errors import PrinterError
from kiosk.hw.events import EventQueue, HardwareEvent, HardwareEventKind
from kiosk.hw.printer import ReceiptPrinter, open_printer
from kiosk.hw.status import CAN_PRINT, DeviceState, status_message

log = logging.getLogger(__name__)

DRAWER_JOB = "drawer"


@dataclass
class PrintJob:
    """One receipt to print (or, with ``receipt_no`` ``drawer``, one drawer pulse)."""

    receipt_no: str
    image: Image.Image | None
    open_drawer: bool = False
    attempts: int = 0


class PrintQueue:
    """A background thread that owns the printer and works through jobs in order."""

    def __init__(
        self,
        printer: ReceiptPrinter,
        events: EventQueue,
        drawer_pin: int = 2,
        retry: tuple[float, float] = (0.5, 30.0),
        poll_interval: float = 30.0,
        keep: int = 50,
        source: str = "printer",
        on_state: Callable[[DeviceState], None] | None = None,
    ) -> None:
        """``on_state`` is called on the queue's thread with each new printer condition
        (the app stores it for the sync agent's heartbeat); it must not block for long."""
        self.printer = printer
        self._on_state = on_state
        self._events = events
        self._drawer_pin = drawer_pin
        self._retry = retry
        self._poll_interval = poll_interval
        self._keep = keep
        self._source = source
        self._jobs: deque[PrintJob] = deque()
        self._history: OrderedDict[str, Image.Image] = OrderedDict()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="hw-print-queue", daemon=True)
        self.state: DeviceState | None = None
        self.printed: list[str] = []

    def start(self) -> "PrintQueue":
        """Start the worker thread."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the job being printed, then stop; queued jobs stay in :meth:`pending`."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        self._thread.join(timeout)
        self.printer.close()

    def submit(self, receipt_no: str, image: Image.Image, open_drawer: bool = False) -> None:
        """Queue a receipt; never blocks. ``open_drawer`` pulses the drawer after the cut.

        While the printer is known to be unable to print, the receipt is reported as
        ``print_queued`` so the customer hears it will come out later.
        """
        self._remember(receipt_no, image)
        self._push(PrintJob(receipt_no, image, open_drawer))
        state = self.state
        if state is not None and state not in CAN_PRINT:
            self._announce(DeviceState.PRINT_QUEUED, receipt_no)

    def reprint(self, receipt_no: str) -> bool:
        """Queue a receipt printed (or submitted) before again; False if it is not kept."""
        image = self._history.get(receipt_no)
        if image is None:
            return False
        self._push(PrintJob(receipt_no, image))
        return True

    def open_drawer(self) -> None:
        """Pulse the cash drawer ahead of any waiting receipts (it needs no paper)."""
        with self._wake:
            self._jobs.appendleft(PrintJob(DRAWER_JOB, None))
            self._wake.notify_all()

    def retry_now(self) -> None:
        """Skip the rest of the retry delay (paper was loaded, cable plugged back)."""
        with self._wake:
            self._wake.notify_all()

    def pending(self) -> list[str]:
        """Receipt numbers still waiting to print, in order."""
        with self._wake:
            return [job.receipt_no for job in self._jobs]

    def _push(self, job: PrintJob) -> None:
        with self._wake:
            self._jobs.append(job)
            self._wake.notify_all()

    def _remember(self, receipt_no: str, image: Image.Image) -> None:
        with self._wake:
            self._history[receipt_no] = image
            self._history.move_to_end(receipt_no)
            while len(self._history) > self._keep:
                self._history.popitem(last=False)

    def _run(self) -> None:
        delay = self._retry[0]
        while True:
            with self._wake:
                if not self._jobs and not self._stopping:
                    self._wake.wait(self._poll_interval)
                if self._stopping:
                    return
                job = self._jobs[0] if self._jobs else None
            if job is None:
                self._poll()
                continue
            if self._attempt(job):
                delay = self._retry[0]
                continue
            with self._wake:
                if not self._stopping:
                    self._wake.wait(delay)
            delay = min(delay * 2, self._retry[1])

    def _poll(self) -> None:
        try:
            self._report(self.printer.status())
        except Exception:
            log.exception("printer status poll failed")  # the next poll or job tries again

    def _attempt(self, job: PrintJob) -> bool:
        job.attempts += 1
        try:
            after = self._print(job)
        except PrinterError as exc:
            log.warning("receipt %s attempt %d: %s", job.receipt_no, job.attempts, exc)
            self._report(DeviceState(exc.state), job.receipt_no, force=job.attempts == 1)
            return False
        except Exception:
            # Not a printer condition (an image too wide, a driver bug): retrying cannot help
            # and must not hold up the receipts behind it. It stays available for reprint.
            log.exception("receipt %s cannot be printed", job.receipt_no)
            with self._wake:
                self._jobs.popleft()
            self._announce(DeviceState.JOB_FAILED, job.receipt_no)
            return True
        with self._wake:
            self._jobs.popleft()
        if job.receipt_no == DRAWER_JOB:
            self._announce(DeviceState.DRAWER_OPENED)
        else:
            self.printed.append(job.receipt_no)
            self._announce(DeviceState.PRINTED, job.receipt_no)
        if after is not None:
            self._report(after)
        return True

    def _print(self, job: PrintJob) -> DeviceState | None:
        """Print one job; the printer's state afterwards (None for a drawer pulse)."""
        if job.image is None:
            self.printer.open_drawer(self._drawer_pin)
            return None
        state = self.printer.status()
        if state not in CAN_PRINT:
            raise PrinterError(status_message(state), state.value)
        self.printer.print_image(job.image)
        self.printer.cut()
        if job.open_drawer:
            self.printer.open_drawer(self._drawer_pin)
            job.open_drawer = False  # a retry must not open the drawer twice
        after = self.printer.status()
        if after not in CAN_PRINT:
            # Paper ran out (or the cover opened) during the job: print it again.
            raise PrinterError(status_message(after), after.value, "during the job")
        return after

    def _report(self, state: DeviceState, receipt_no: str = "", force: bool = False) -> None:
        """Report the printer's condition when it changes (or ``force``)."""
        if state is self.state and not force:
            return
        changed, self.state = state is not self.state, state
        self._announce(state, receipt_no)
        if changed and self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:
                log.exception("could not record the printer condition %s", state)  # printing goes on

    def _announce(self, state: DeviceState, receipt_no: str = "") -> None:
        self._events.put(HardwareEvent(HardwareEventKind.STATUS, state.value, self._source, receipt_no))


def print_queue_for(config: HardwareConfig, queue: EventQueue) -> PrintQueue | None:
    """The (not yet started) print queue for the configured printer, if there is one."""
    if config.printer is None:
        return None
    printer = open_printer(config.printer.url, config.printer.width)
    return PrintQueue(printer, queue, drawer_pin=config.printer.drawer_pin)
