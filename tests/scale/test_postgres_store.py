"""Our store on Postgres: the migrations build the models, and the database itself refuses
overlapping bookings even when the booking_blocks table is bypassed."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
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
