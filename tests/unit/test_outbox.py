"""The transactional outbox and the reconciler, on a real SQLite database and a real SMTP server.

- A confirmation is queued in the booking's own transaction; delivery happens afterwards.
- With the SMTP server (aiosmtpd) down for a while, every message arrives once it is back,
  exactly once, even with two workers delivering at the same time.
- A booking interrupted between the provider call and the commit is confirmed (event found by its
  idempotency key) or released (no event) by the reconciler; nothing is duplicated or stuck.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

import bot.booking.holding
from bot.booking import BookingService, Visitor
from bot.calendars.local import LocalCalendar
from bot.errors import ProviderUnavailable
from bot.messages.delivery import Delivery, RetryPolicy
from bot.messages.outbox import FileOutbox, SmtpOutbox
from bot.ops.supervisor import free_port
from bot.store.models import Booking, BookingBlock, CalendarEvent, OutboxMessage, Queue
from tests.helpers import add_queue, mails_to

VISITOR = Visitor(email="dana@acme.example", first_name="Dana", company_name="Acme", timezone="Europe/Paris")


class Inbox:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.messages.append(envelope.content)
        return "250 Message accepted for delivery"


def _smtp_service(store, settings, clock, port: int) -> BookingService:
    delivery = Delivery(
        store,
        SmtpOutbox(f"smtp://127.0.0.1:{port}", timeout=2),
        retry=RetryPolicy(base_seconds=0.05, max_seconds=0.2, max_attempts=1000),
    )
    return BookingService(store, {"local": LocalCalendar(store, settings.public_url)}, delivery, clock=clock)


def _wait(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _no_reminders(store) -> None:
    """These tests are about delivery: only the mails that go out at once."""
    with store.session() as s:
        s.execute(update(Queue).values(reminder_minutes=""))


def test_smtp_outage_delays_but_never_loses_or_duplicates_mail(store, settings, clock):
    add_queue(store)
    _no_reminders(store)
    port = free_port()
    svc = _smtp_service(store, settings, clock, port)
    offers = svc.offer_slots("c", "sales", count=5, spread=False).slots
    results = [svc.book("c", o.id, VISITOR) for o in offers]  # SMTP is down: booking still works
    assert [r.booking_id for r in results] and len({r.booking_id for r in results}) == 5
    svc.delivery.close()  # let the first (failing) background attempts finish
    with store.session() as s:
        rows = s.execute(select(OutboxMessage)).scalars().all()
        # per booking: the visitor's confirmation and the agent's notice
        assert len(rows) == 10 and {r.status for r in rows} == {"pending"}
        assert all(r.attempts >= 1 and "ConnectionRefused" in r.last_error for r in rows)
    # Two workers try again and again while the server is down...
    svc.delivery = Delivery(store, SmtpOutbox(f"smtp://127.0.0.1:{port}", timeout=2), retry=svc.delivery.retry)
    other = Delivery(store, SmtpOutbox(f"smtp://127.0.0.1:{port}", timeout=2), retry=svc.delivery.retry)
    for _ in range(5):
        assert svc.delivery.deliver_due() == 0 and other.deliver_due() == 0
        time.sleep(0.05)
    # ...then it comes back, and both workers race to deliver.
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        sent: list[int] = []

        def work(d: Delivery) -> None:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                sent.append(d.deliver_due())
                with store.session() as s:
                    if not s.execute(select(OutboxMessage).where(OutboxMessage.status != "sent")).first():
                        return
                time.sleep(0.02)

        threads = [threading.Thread(target=work, args=(d,)) for d in (svc.delivery, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.stop()
    assert sum(sent) == 10
    assert len(inbox.messages) == 10  # every one, exactly once
    to_visitor = [m for m in inbox.messages if b"\nTo: Dana <dana@acme.example>" in m]
    ids = sorted(m.split(b"X-Booking-Id: ", 1)[1].split(b"\r\n", 1)[0].decode() for m in to_visitor)
    assert ids == sorted(r.booking_id for r in results)
    with store.session() as s:
        assert {r.status for r in s.execute(select(OutboxMessage)).scalars()} == {"sent"}
    svc.close()


def test_a_failed_write_is_retried_with_backoff_then_given_up(store, settings, clock):
    class Broken(FileOutbox):
        calls = 0

        def send(self, msg):
            Broken.calls += 1
            raise OSError("disk full")

    add_queue(store)
    _no_reminders(store)
    delivery = Delivery(
        store, Broken(settings.outbox_dir), retry=RetryPolicy(base_seconds=60, max_attempts=3), clock=clock
    )
    svc = BookingService(store, {"local": LocalCalendar(store, settings.public_url)}, delivery, clock=clock)
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    svc.book("c", offer.id, VISITOR)
    assert svc.list_bookings()[0]["status"] == "confirmed"  # the booking stands
    assert Broken.calls == 2  # the confirmation and the agent's notice, tried at once
    assert delivery.deliver_due() == 0 and Broken.calls == 2  # not due yet: backoff
    row = delivery.listing()[0]
    assert row["key"].startswith("confirmation:")
    assert row["status"] == "pending" and row["attempts"] == 1 and "disk full" in row["last_error"]
    clock.now += timedelta(seconds=73)  # 60 s + up to 20 % jitter
    delivery.deliver_due()
    assert Broken.calls == 4 and delivery.listing()[0]["status"] == "pending"
    clock.now += timedelta(seconds=145)  # then 120 s + up to 20 %
    delivery.deliver_due()
    assert Broken.calls == 6 and {r["status"] for r in delivery.listing()} == {"dead"}
    clock.now += timedelta(days=1)
    assert delivery.deliver_due() == 0 and Broken.calls == 6


def test_a_claimed_message_is_not_sent_by_a_second_worker(store, settings, clock):
    delivery = Delivery(store, FileOutbox(settings.outbox_dir), clock=clock)
    with store.session() as s:
        from email.message import EmailMessage

        from bot.messages.delivery import queue_email

        msg = EmailMessage()
        msg["To"], msg["Subject"] = "a@example.com", "hi"
        msg.set_content("x")
        row_id = queue_email(s, msg, now=clock.now).id
    first = delivery._claim(row_id)
    assert first is not None and first.attempts == 1
    assert delivery._claim(row_id) is None  # leased to the first
    clock.now += timedelta(seconds=delivery.retry.lease_seconds + 1)
    assert delivery._claim(row_id) is not None  # a crashed sender's lease runs out


class Crash(BaseException):
    """Stands in for kill -9: nothing after the fault point runs, no except clause catches it."""


@pytest.fixture
def crash_after_provider(monkeypatch):
    def fault(name: str) -> None:
        if name == "after-provider":
            raise Crash

    monkeypatch.setattr(bot.booking.holding, "_fault_point", fault)


def test_reconciler_confirms_a_booking_whose_event_was_made(service, store, settings, clock, crash_after_provider):
    add_queue(store)
    offer = service.offer_slots("c", "sales", count=1).slots[0]
    with pytest.raises(Crash):
        service.book("c", offer.id, VISITOR)
    [row] = service.list_bookings()
    assert row["status"] == "pending" and not list(settings.outbox_dir.glob("*.eml"))
    assert service.reconcile(timedelta(minutes=2)) == {"confirmed": [], "released": [], "unsettled": []}  # too fresh
    clock.now += timedelta(minutes=3)
    done = service.reconcile(timedelta(minutes=2))
    assert done["confirmed"] == [row["id"]]
    [after] = service.list_bookings()
    assert after["status"] == "confirmed" and after["conference_url"].endswith(row["id"])
    with store.session() as s:
        assert s.execute(select(func.count()).select_from(CalendarEvent)).scalar() == 1  # no duplicate event
    [eml] = mails_to(settings.outbox_dir, VISITOR.email)  # the confirmation went out after all
    assert row["id"] in eml.read_text()
    assert service.reconcile(timedelta(minutes=2))["confirmed"] == []  # settled once


def test_reconciler_releases_a_booking_without_event(service, store, settings, clock, monkeypatch):
    add_queue(store)
    offer = service.offer_slots("c", "sales", count=1).slots[0]

    def die(request):
        raise Crash  # killed before the provider was called

    monkeypatch.setattr(service.providers["local"], "create_event", die)
    with pytest.raises(Crash):
        service.book("c", offer.id, VISITOR)
    monkeypatch.undo()
    clock.now += timedelta(minutes=3)
    [booking_id] = service.reconcile(timedelta(minutes=2))["released"]
    [row] = service.list_bookings()
    assert row["id"] == booking_id and row["status"] == "failed" and "interrupted" in row["failure_reason"]
    with store.session() as s:
        assert s.execute(select(BookingBlock)).first() is None  # no stuck hold
    # The time is free again: a new visitor can book it.
    clock.now -= timedelta(minutes=3)
    again = service.offer_slots("c2", "sales", count=1).slots[0]
    assert again.start == offer.start
    assert service.book("c2", again.id, VISITOR).start == offer.start


def test_reconciler_waits_when_the_provider_cannot_answer(service, store, clock, crash_after_provider, monkeypatch):
    add_queue(store)
    offer = service.offer_slots("c", "sales", count=1).slots[0]
    with pytest.raises(Crash):
        service.book("c", offer.id, VISITOR)

    def down(agent, key):
        raise ProviderUnavailable("down", provider="local")

    monkeypatch.setattr(service.providers["local"], "find_event", down)
    clock.now += timedelta(minutes=3)
    done = service.reconcile(timedelta(minutes=2))
    assert done["unsettled"] and not done["confirmed"] and not done["released"]
    assert service.list_bookings()[0]["status"] == "pending"  # the hold stays: never guessed


def test_a_turn_that_lost_the_race_to_the_reconciler_undoes_its_event(service, store, clock, monkeypatch):
    """The reconciler released a slow booking; when the turn finally returns, it must not confirm."""
    add_queue(store)
    offer = service.offer_slots("c", "sales", count=1).slots[0]
    local = service.providers["local"]
    real_create = local.create_event

    def slow_create(request):
        created = real_create(request)
        with store.session() as s:  # what a reconciler would do meanwhile (seeing no event yet)
            b = s.get(Booking, request.idempotency_key)
            b.status, b.failure_reason = "failed", "interrupted"
            s.execute(BookingBlock.__table__.delete().where(BookingBlock.booking_id == b.id))
        return created

    monkeypatch.setattr(local, "create_event", slow_create)
    with pytest.raises(ProviderUnavailable):
        service.book("c", offer.id, VISITOR)
    with store.session() as s:
        assert s.execute(select(CalendarEvent.status)).scalar_one() == "cancelled"
        assert s.execute(select(Booking.status)).scalar_one() == "failed"
        assert s.execute(select(OutboxMessage)).first() is None  # no confirmation for a failed booking
