"""Our store on Postgres: the migrations build the models, and the database itself refuses
overlapping bookings even when the booking_blocks table is bypassed."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from bot.booking import BookingService, Visitor
from bot.calendars.local import LocalCalendar
from bot.errors import SlotTaken
from bot.messages.outbox import FileOutbox
from bot.store.models import Base, Booking
from tests.helpers import add_queue

pytestmark = pytest.mark.scale


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migrations_build_exactly_the_models_on_postgres(pg_store):
    with pg_store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_the_exclusion_constraint_refuses_an_overlap_the_blocks_did_not_see(pg_store, tmp_path):
    add_queue(pg_store)
    svc = BookingService(pg_store, {"local": LocalCalendar(pg_store, "http://x")}, FileOutbox(tmp_path))
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    first = svc.book("c", offer.id, Visitor(email="a@example.com"))
    with pg_store.session() as s:
        b = s.get(Booking, first.booking_id)
        clone = {c.name: getattr(b, c.name) for c in Booking.__table__.columns}
    clone.update(id="f" * 32, start=first.start + timedelta(minutes=10), end=first.end + timedelta(minutes=10))
    with pytest.raises(IntegrityError, match="bookings_no_overlap"), pg_store.session() as s:
        s.add(Booking(**clone))  # no booking_blocks rows: only the constraint stands in the way
    clone["status"] = "failed"  # a failed booking holds no time
    with pg_store.session() as s:
        s.add(Booking(**clone))
    svc.close()


def test_racing_bookings_on_postgres_have_one_winner(pg_store, tmp_path):
    add_queue(pg_store)
    svc = BookingService(pg_store, {"local": LocalCalendar(pg_store, "http://x")}, FileOutbox(tmp_path))
    offers = [svc.offer_slots(f"c{i}", "sales", count=1, spread=False).slots[0] for i in range(8)]
    assert len({(o.start, o.end) for o in offers}) == 1
    results, lost = [], []
    gate = threading.Barrier(len(offers))

    def book(i: int) -> None:
        gate.wait()
        try:
            results.append(svc.book(f"c{i}", offers[i].id, Visitor(email=f"v{i}@example.com")))
        except SlotTaken:
            lost.append(i)

    threads = [threading.Thread(target=book, args=(i,)) for i in range(len(offers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 1 and len(lost) == len(offers) - 1
    with pg_store.session() as s:
        assert [b.status for b in s.execute(select(Booking)).scalars()] == ["confirmed"]
    svc.close()


def _clone(pg_store, booking_id, **changes):
    with pg_store.session() as s:
        b = s.get(Booking, booking_id)
        clone = {c.name: getattr(b, c.name) for c in Booking.__table__.columns}
    return {**clone, "id": "e" * 32, **changes}


def _waits(pg_store, pid: int) -> str | None:
    """What the backend ``pid`` is blocked on: 'advisory', 'transactionid', … or None."""
    with pg_store.engine.connect() as conn:
        return conn.execute(
            text("SELECT wait_event FROM pg_stat_activity WHERE pid = :p AND wait_event_type = 'Lock'"), {"p": pid}
        ).scalar()


def test_a_write_of_a_live_booking_waits_for_the_agents_other_writer_and_then_meets_the_constraint(pg_store, tmp_path):
    """The thousand-attempt run once failed with "deadlock detected": a booking being confirmed
    (a new row version, checked against the exclusion constraint) and another visitor's insert
    of the same time each waited for the other inside the constraint check. Now the insert waits
    for the agent's lock before it reaches the constraint, and then fails as "taken" — the
    violation the booking code handles — never as a deadlock."""
    add_queue(pg_store)
    svc = BookingService(pg_store, {"local": LocalCalendar(pg_store, "http://x")}, FileOutbox(tmp_path))
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    first = svc.book("c", offer.id, Visitor(email="a@example.com"))
    svc.close()
    rival = Booking(**_clone(pg_store, first.booking_id, status="pending"))
    outcome: list[BaseException | None] = []
    pid: list[int] = []

    def insert_rival() -> None:
        try:
            with pg_store.session() as s:
                pid.append(s.execute(text("SELECT pg_backend_pid()")).scalar())
                s.add(rival)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    with pg_store.session() as s:  # the first booking's writer: an update, not yet committed
        s.execute(update(Booking).where(Booking.id == first.booking_id).values(conference_url="https://meet.example/x"))
        t = threading.Thread(target=insert_rival)
        t.start()
        deadline = time.monotonic() + 10
        while (not pid or _waits(pg_store, pid[0]) is None) and time.monotonic() < deadline and not outcome:
            time.sleep(0.05)
        assert not outcome, "the rival insert did not wait for the first writer"
        assert _waits(pg_store, pid[0]) == "advisory"  # the agent's lock, before any constraint check
    t.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], IntegrityError)
    assert "bookings_no_overlap" in str(outcome[0]) or "booking_blocks" in str(outcome[0])
    with pg_store.session() as s:
        assert [b.status for b in s.execute(select(Booking)).scalars()] == ["confirmed"]


def test_writes_that_hold_no_time_take_no_lock(pg_store, tmp_path):
    """A failed or cancelled booking holds no time: writing it does not wait for the agent."""
    add_queue(pg_store)
    svc = BookingService(pg_store, {"local": LocalCalendar(pg_store, "http://x")}, FileOutbox(tmp_path))
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    first = svc.book("c", offer.id, Visitor(email="a@example.com"))
    svc.close()
    done = threading.Event()

    def insert_failed() -> None:
        with pg_store.session() as s:
            s.add(Booking(**_clone(pg_store, first.booking_id, status="failed")))
        done.set()

    with pg_store.session() as s:
        s.execute(update(Booking).where(Booking.id == first.booking_id).values(conference_url="https://meet.example/y"))
        t = threading.Thread(target=insert_failed)
        t.start()
        assert done.wait(10), "a failed booking waited for the agent's writer"
    t.join(10)
