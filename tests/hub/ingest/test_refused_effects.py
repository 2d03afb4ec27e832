"""An effect the database refuses quarantines its event instead of failing the batch forever.

A real terminal closes a shift (its ``shift.closed`` event from the outbox); the same shift then
arrives again under a new event id, chained and hashed like any event, followed by a sale. The
hub's unique key on ``shift_report.shift_id`` refuses the second report: before, the batch's
transaction failed on every resend and nothing after it was ever booked. Now that event alone is
quarantined with the database's words, in its savepoint, and the rest of the batch books.
"""

import datetime as dt

from hub.ingest.batch import ingest_batch
from hub.ingest.models import Event, Quarantine, Sale
from hub.staff.shifts import ShiftReport
from kiosk.store import outbox, shifts
from kiosk.sync.schema import batch, make_event
from tests.events import sale_chain
from tests.store.test_members import NOW, TERMINAL
from tests.store.test_shifts import TZ, a_shift


def test_a_refused_effect_is_quarantined_and_the_rest_of_the_batch_books(kiosk_db, hub_db) -> None:  # type: ignore[no-untyped-def]
    a_shift(NOW)
    shifts.close_shift(TERMINAL, NOW + dt.timedelta(hours=8), "st-zhao", 12350)
    events = outbox.pending(limit=100)
    z = events[-1]
    assert z["type"] == "shift.closed"
    again = make_event(
        event_id="K01-z-again", device="K01", seq=z["seq"] + 1, boot=z["boot"], ts=z["ts"],
        type="shift.closed", prev=z["hash"], data=z["data"],
    )  # fmt: skip
    [after] = sale_chain("K01", 1, start_seq=z["seq"] + 2, prev=again["hash"])
    sent = [*events, again, after]

    result = ingest_batch("pos/K01/up/events", batch("K01", sent), NOW, TZ)

    assert result is not None
    assert [r["id"] for r in result.rejected] == ["K01-z-again"]
    reason = result.rejected[0]["reason"]
    assert reason.startswith("the hub's database refused this event: IntegrityError: ")
    assert "shift_id" in reason  # the database's own words name the key
    assert result.acked == [e["id"] for e in events] + [after["id"]]  # everything else, the sale after too
    assert (
        ShiftReport.select().count() == 1
        and Sale.select().where(Sale.id == after["data"]["sale_id"]).exists()
    )
    assert not Event.select().where(Event.id == "K01-z-again").exists()  # no half of it kept
    [kept] = Quarantine.select().where(Quarantine.event_id == "K01-z-again")
    assert (kept.reason, kept.device, kept.resolved_at) == (reason, "K01", None)

    resent = ingest_batch("pos/K01/up/events", batch("K01", sent), NOW, TZ)  # the terminal sends it again
    assert resent is not None and resent.duplicates == len(events) + 1
    assert [r["id"] for r in resent.rejected] == ["K01-z-again"]
