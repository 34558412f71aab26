"""The booking service on a real SQLite database: offers, refusals, races, failures."""

from __future__ import annotations

import email
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.booking import BookingService, Visitor
from bot.booking.model import blocks
from bot.calendars.local import LocalCalendar
from bot.errors import OfferExpired, OfferNotFound, ProviderUnavailable, SlotInPast, SlotTaken
from bot.messages.outbox import FileOutbox
from bot.store.models import Booking, BookingBlock, CalendarEvent
from tests.helpers import NINE_TO_FIVE, add_queue, mails_to, utc

VISITOR = Visitor(email="dana@acme.example", first_name="Dana", company_name="Acme", timezone="Europe/Paris")


def test_offers_are_stored_per_conversation_and_in_order(service, store):
    add_queue(store)
    page = service.offer_slots("conv-a", "sales", count=3)
    # Tue 1 Dec 08:00 UTC + 4 h notice → 12:00 London; a page is spread an hour apart.
    assert [s.start for s in page.slots] == [utc(2026, 12, 1, 12), utc(2026, 12, 1, 13), utc(2026, 12, 1, 14)]
    assert len({s.id for s in page.slots}) == 3 and all(len(s.id) >= 16 for s in page.slots)
    more = service.offer_slots("conv-a", "sales", after=page.slots[-1].start, count=2)
    assert [s.start for s in more.slots] == [utc(2026, 12, 1, 14, 30), utc(2026, 12, 1, 15, 30)]
    dense = service.offer_slots("conv-a", "sales", count=3, spread=False)
    assert [s.start for s in dense.slots] == [utc(2026, 12, 1, 12), utc(2026, 12, 1, 12, 30), utc(2026, 12, 1, 13)]


def test_unknown_queue_falls_back_to_default(service, store):
    add_queue(store)
    assert service.offer_slots("c", "no-such-queue", count=1).queue.slug == "sales"


def test_book_confirms_writes_event_and_email(service, store, settings):
    add_queue(store)
    offer = service.offer_slots("conv-a", "sales", count=1).slots[0]
    result = service.book("conv-a", offer.id, VISITOR)
    assert result.agent_name == "Ada" and result.start == offer.start
    assert result.conference_url == f"http://localhost:8000/meet/{result.booking_id}"
    [row] = service.list_bookings()
    assert row["status"] == "confirmed" and row["visitor_email"] == "dana@acme.example"
    assert row["start"] == "2026-12-01T12:00:00Z" and row["timezone"] == "Europe/Paris"
    with store.session() as s:
        assert s.execute(select(CalendarEvent)).scalar_one().idempotency_key == result.booking_id
        assert len(s.execute(select(BookingBlock)).all()) == 6  # 30 min in 5-minute blocks
    [eml] = mails_to(settings.outbox_dir, VISITOR.email)
    msg = email.message_from_bytes(eml.read_bytes())
    assert msg["To"] == "Dana <dana@acme.example>" and msg["Subject"] == "Your meeting with Ada"


def test_double_click_returns_the_same_booking(service, store):
    add_queue(store)
    offer = service.offer_slots("conv-a", "sales", count=1).slots[0]
    first = service.book("conv-a", offer.id, VISITOR)
    assert service.book("conv-a", offer.id, VISITOR).booking_id == first.booking_id
    assert len(service.list_bookings()) == 1


@pytest.mark.parametrize("offer_id", ["nope", "", "x" * 500, "' OR 1=1 --"])
def test_forged_offer_ids_book_nothing(service, store, offer_id):
    add_queue(store)
    service.offer_slots("conv-a", "sales", count=1)
    with pytest.raises(OfferNotFound):
        service.book("conv-a", offer_id, VISITOR)
    assert service.list_bookings() == []


def test_offer_from_another_conversation_is_refused(service, store):
    add_queue(store)
    offer = service.offer_slots("conv-a", "sales", count=1).slots[0]
    with pytest.raises(OfferNotFound):
        service.book("conv-b", offer.id, VISITOR)
    assert service.list_bookings() == []


def test_expired_offer_and_past_slot(service, store, clock):
    add_queue(store)
    offer = service.offer_slots("conv-a", "sales", count=1).slots[0]
    clock.now += timedelta(minutes=16)
    with pytest.raises(OfferExpired):
        service.book("conv-a", offer.id, VISITOR)
    clock.now = offer.start + timedelta(minutes=1)
    with pytest.raises(SlotInPast):
        service.book("conv-a", offer.id, VISITOR)
    assert service.list_bookings() == []


def test_second_visitor_gets_slot_taken_and_routing_uses_the_free_agent(service, store):
    add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Bea", "Europe/London", NINE_TO_FIVE)])
    a = service.offer_slots("conv-a", "sales", count=1).slots[0]
    b = service.offer_slots("conv-b", "sales", count=1).slots[0]
    c = service.offer_slots("conv-c", "sales", count=1).slots[0]
    assert a.start == b.start == c.start
    first = service.book("conv-a", a.id, VISITOR)
    second = service.book("conv-b", b.id, VISITOR)
    assert {first.agent_name, second.agent_name} == {"Ada", "Bea"}
    with pytest.raises(SlotTaken):
        service.book("conv-c", c.id, VISITOR)


def test_round_robin_prefers_fewest_bookings_then_least_recent(service, store, clock):
    add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Bea", "Europe/London", NINE_TO_FIVE)])
    chosen = []
    for i in range(4):
        offer = service.offer_slots(f"c{i}", "sales", count=1, after=utc(2026, 12, 2, 9 + i)).slots[0]
        chosen.append(service.book(f"c{i}", offer.id, VISITOR).agent_name)
        clock.now += timedelta(minutes=1)
    assert chosen == ["Ada", "Bea", "Ada", "Bea"]


def test_database_refuses_overlapping_blocks_for_one_agent(service, store):
    [agent] = add_queue(store)
    offer = service.offer_slots("conv-a", "sales", count=1).slots[0]
    booked = service.book("conv-a", offer.id, VISITOR)
    # Bypass every Python check: the primary key alone must refuse an overlap.
    with pytest.raises(IntegrityError):
        with store.session() as s:
            s.add(
                Booking(
                    id="f" * 32,
                    status="pending",
                    queue_id=1,
                    agent_id=agent,
                    conversation_id="x",
                    visitor_email="x@y.z",
                    start=booked.start + timedelta(minutes=10),
                    end=booked.end + timedelta(minutes=10),
                    timezone="UTC",
                    locale="en",
                    provider="local",
                )
            )
            s.flush()
            s.add_all(
                BookingBlock(agent_id=agent, block_start=t, booking_id="f" * 32)
                for t in blocks(booked.start + timedelta(minutes=10), booked.end + timedelta(minutes=10))
            )


def test_blocks_cover_unaligned_times():
    assert blocks(utc(2026, 1, 1, 9, 2), utc(2026, 1, 1, 9, 12)) == [
        utc(2026, 1, 1, 9, 0),
        utc(2026, 1, 1, 9, 5),
        utc(2026, 1, 1, 9, 10),
    ]


def test_two_threads_racing_for_one_agent_book_exactly_once(store, settings, clock):
    add_queue(store)
    # Two services on one database file, as two action servers would be.
    services = [
        BookingService(
            store.__class__(store.url),
            {"local": LocalCalendar(store, settings.public_url)},
            FileOutbox(settings.outbox_dir),
            clock=clock,
        )
        for _ in range(2)
    ]
    offers = [svc.offer_slots(f"conv-{i}", "sales", count=1).slots[0] for i, svc in enumerate(services)]
    assert offers[0].start == offers[1].start
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def go(i: int) -> None:
        barrier.wait()
        try:
            services[i].book(f"conv-{i}", offers[i].id, VISITOR)
            outcomes.append("booked")
        except SlotTaken:
            outcomes.append("taken")

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["booked", "taken"]
    rows = services[0].list_bookings()
    assert [r["status"] for r in rows] == ["confirmed"]
    for svc in services:
        svc.close()


class BrokenCalendar(LocalCalendar):
    def create_event(self, request):
        raise TimeoutError("calendar timed out")


def test_provider_failure_releases_the_hold(store, settings, clock):
    add_queue(store)
    svc = BookingService(
        store, {"local": BrokenCalendar(store, settings.public_url)}, FileOutbox(settings.outbox_dir), clock=clock
    )
    offer = svc.offer_slots("conv-a", "sales", count=1).slots[0]
    with pytest.raises(ProviderUnavailable):
        svc.book("conv-a", offer.id, VISITOR)
    [row] = svc.list_bookings()
    assert row["status"] == "failed" and "TimeoutError" in row["failure_reason"]
    with store.session() as s:
        assert s.execute(select(BookingBlock)).all() == []
    assert not settings.outbox_dir.exists() or not list(settings.outbox_dir.glob("*.eml"))
    # The time is free again: the next offer is the same slot.
    again = svc.offer_slots("conv-a", "sales", count=1).slots[0]
    assert again.start == offer.start
    svc.close()


class SlowBusyCalendar(LocalCalendar):
    def busy(self, agents, start, end):
        raise OSError("connection reset")


def test_agents_whose_calendar_fails_are_not_offered(store, settings, clock):
    add_queue(store)
    svc = BookingService(
        store, {"local": SlowBusyCalendar(store, settings.public_url)}, FileOutbox(settings.outbox_dir), clock=clock
    )
    assert svc.offer_slots("conv-a", "sales").slots == []
    svc.close()


def test_callback_requests_are_stored_once(service, store):
    add_queue(store)
    service.request_callback("conv-a", "sales", VISITOR)
    service.request_callback("conv-a", "sales", VISITOR)
    [row] = service.list_callbacks()
    assert row["email"] == "dana@acme.example" and row["queue"] == "sales" and row["status"] == "open"


def test_an_agents_own_notice_is_applied_when_offering_not_again_when_booking(service, store, clock):
    from bot.admin import rules

    add_queue(store)  # queue notice 4 h; clock Tuesday 08:00 UTC; Ada works 09-17 London
    first = service.offer_slots("c", "sales", count=1, spread=False).slots[0]
    assert first.start == clock.now.replace(hour=12)
    rules.set_agent(store, "ada@agents.example", notice=6 * 60, buffer_before=60)
    later = service.offer_slots("c2", "sales", count=1, spread=False).slots[0]
    assert later.start == clock.now.replace(hour=14)  # her 6 h notice, not the queue's 4 h
    clock.now += timedelta(minutes=10)  # 14:00 is inside her notice now: what she was offered still books
    assert service.book("c2", later.id, Visitor(email="v@example.com")).start == later.start
    # Her free hour before a meeting: after the 14:00 one the next start is 15:30, not 14:30.
    nxt = service.offer_slots("c3", "sales", count=1, spread=False).slots[0]
    assert nxt.start == clock.now.replace(hour=15, minute=30, second=0)
