"""After the booking: cancel (service and signed link), notices to the agent, webhooks,
round-robin credit-back."""

from __future__ import annotations

import email
import email.policy
import json
import threading
from datetime import timedelta
from http.server import ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from bot.booking import BookingService, Visitor
from bot.calendars.local import LocalCalendar
from bot.errors import AlreadyCancelled, BookingNotFound
from bot.messages.delivery import Delivery, load_email
from bot.messages.links import manage_token
from bot.messages.outbox import FileOutbox
from bot.messages.webhooks import SIGNATURE_HEADER, WebhookSender, add_webhook, verify
from bot.ops.runtime import vault
from bot.store.models import BookingBlock, CalendarEvent, OutboxMessage, Queue
from tests.helpers import NINE_TO_FIVE, add_queue, mails_to, utc
from tests.helpers import WebhookReceiver as _Receiver

VISITOR = Visitor(
    email="dana@acme.example",
    first_name="Dana",
    company_name="Acme",
    timezone="Europe/Paris",
    locale="fr",
    person={"title": "CTO", "phone": "+33 1 23 45 67 89"},
    company={"size": "200", "industry": "Retail"},
)


def _mails(store) -> dict[str, email.message.EmailMessage]:
    with store.session() as s:
        return {r.key: load_email(r) for r in s.execute(select(OutboxMessage).where(OutboxMessage.kind == "email")).scalars()}


def test_cancel_frees_the_time_tells_visitor_and_agent(service, store, settings):
    add_queue(store)
    offer = service.offer_slots("c", "sales", count=1).slots[0]
    booking = service.book("c", offer.id, VISITOR)
    cancelled = service.cancel(booking.booking_id)
    assert cancelled["status"] == "cancelled"
    with store.session() as s:
        assert s.execute(select(CalendarEvent.status)).scalar_one() == "cancelled"
        assert s.execute(select(BookingBlock)).first() is None
    mails = _mails(store)
    notice = mails[f"cancellation:{booking.booking_id}"]
    assert notice["Subject"] == "Annulé : votre rendez-vous avec Ada" or "Ada" in notice["Subject"]
    assert notice["Content-Language"] == "fr"
    [ics] = [p for p in notice.iter_attachments() if p.get_content_type() == "text/calendar"]
    body = ics.get_payload(decode=True).decode()
    assert "METHOD:CANCEL" in body and "SEQUENCE:1" in body and f"UID:{booking.booking_id}@" in body
    agent_new = mails[f"agent:{booking.booking_id}:created"].get_content()
    agent_gone = mails[f"agent:{booking.booking_id}:cancelled"]
    assert "Booking cancelled" in agent_gone["Subject"] and "Acme" in agent_gone["Subject"]
    for text in (agent_new, agent_gone.get_content()):
        assert "dana@acme.example" in text and "title: CTO" in text and "industry: Retail" in text
    # The time is free again, and a second cancel is refused plainly.
    again = service.offer_slots("c2", "sales", count=1).slots[0]
    assert again.start == offer.start
    with pytest.raises(AlreadyCancelled):
        service.cancel(booking.booking_id)
    with pytest.raises(BookingNotFound):
        service.cancel("0" * 32)


def test_a_stale_sequence_cancels_nothing(service, store):
    add_queue(store)
    offer = service.offer_slots("c", "sales", count=1).slots[0]
    booking = service.book("c", offer.id, VISITOR)
    with pytest.raises(BookingNotFound):
        service.cancel(booking.booking_id, sequence=7)
    assert service.get_booking(booking.booking_id)["status"] == "confirmed"


@pytest.mark.parametrize("credit_back", [True, False])
def test_round_robin_credit_back_on_cancel(service, store, clock, credit_back):
    add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Bo", "Europe/London", NINE_TO_FIVE)])
    with store.session() as s:
        s.execute(update(Queue).values(credit_back_on_cancel=credit_back))
    offer = service.offer_slots("c", "sales", count=1).slots[0]
    first = service.book("c", offer.id, VISITOR)
    service.cancel(first.booking_id)
    with store.session() as s:
        q = s.execute(select(Queue)).scalar_one()
        standing, _ = service.offering.standing(s, q, service.offering.members(s, q), clock.now)
    counts = {m.name: m.count for m in standing}
    assert counts[first.agent_name] == (0 if credit_back else 1)


def _page(app, path, **kw):
    method = kw.pop("method", "get")
    _req, resp = getattr(app.test_client, method)(path, **kw)
    return resp.status, resp.text


def test_the_cancel_link_works_once_and_only_untampered(store, settings):
    from bot.web import create_app

    add_queue(store)
    svc = BookingService(store, {"local": LocalCalendar(store, settings.public_url)}, FileOutbox(settings.outbox_dir))
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    booking = svc.book("c", offer.id, VISITOR)
    svc.close()
    v = vault(settings)
    from datetime import datetime, timezone

    token = manage_token(v, booking.booking_id, 0, booking.end, datetime.now(timezone.utc))
    app = create_app(settings, store)
    path = f"/booking/{booking.booking_id}/cancel"
    status, text = _page(app, f"{path}?t={token}")
    assert status == 200 and "Ada" in text and "<form method=post" in text and 'lang=fr' in text
    assert svc.get_booking(booking.booking_id)["status"] == "confirmed"  # showing the page changes nothing
    # Tampered, expired, or for another booking: refused, nothing changes.
    expired = v.sign({"a": "cancel", "b": booking.booking_id, "s": 0}, -10)
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), expired, ""):
        status, _text = _page(app, path, method="post", data={"t": bad})
        assert status == 404
    other = manage_token(v, "f" * 32, 0, booking.end, datetime.now(timezone.utc))
    assert _page(app, path, method="post", data={"t": other})[0] == 404
    assert svc.get_booking(booking.booking_id)["status"] == "confirmed"
    status, text = _page(app, path, method="post", data={"t": token})
    assert status == 200 and svc.get_booking(booking.booking_id)["status"] == "cancelled"
    # Used again: says so, cancels nothing twice.
    status, again = _page(app, path, method="post", data={"t": token})
    assert status == 200 and again != text
    assert len([k for k in _mails(store) if k.startswith("cancellation:")]) == 1


def test_the_confirmation_carries_the_cancel_link(store, settings):
    from bot.ops.runtime import build_service

    add_queue(store)
    svc = build_service(settings, store)
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    booking = svc.book("c", offer.id, VISITOR)
    text = _mails(store)[f"confirmation:{booking.booking_id}"].get_body(("plain",)).get_content()
    assert f"{settings.public_url}/booking/{booking.booking_id}/cancel?t=" in text
    svc.close()


def test_webhooks_are_signed_retried_and_stop_after_success(store, settings, clock):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Receiver.answers, _Receiver.got = [500, 503], []
    try:
        v = vault(settings)
        with store.session() as s:
            _hook, secret = add_webhook(s, v, f"http://127.0.0.1:{server.server_port}/hooks", ["booking.created"])
        add_queue(store)
        delivery = Delivery(store, FileOutbox(settings.outbox_dir), clock=clock, webhooks=WebhookSender(store, v))
        svc = BookingService(store, {"local": LocalCalendar(store, settings.public_url)}, delivery, clock=clock)
        offer = svc.offer_slots("c", "sales", count=1).slots[0]
        booking = svc.book("c", offer.id, VISITOR)
        delivery.close()  # the background attempt ran (and got a 500)
        for _ in range(3):
            clock.now += timedelta(minutes=20)
            delivery.deliver_due()
        assert [h["X-Booking-Event"] for h, _ in _Receiver.got] == ["booking.created"] * 3
        headers, body = _Receiver.got[-1]
        assert verify(secret, body, headers[SIGNATURE_HEADER])
        assert not verify("whsec_wrong", body, headers[SIGNATURE_HEADER])
        assert not verify(secret, body.replace(b"Dana", b"Eve"), headers[SIGNATURE_HEADER])
        assert len({h["X-Booking-Delivery"] for h, _ in _Receiver.got}) == 1  # one delivery, retried
        event = json.loads(body)
        assert event["type"] == "booking.created" and event["data"]["id"] == booking.booking_id
        svc.cancel(booking.booking_id)  # not subscribed to booking.cancelled: nothing queued
        clock.now += timedelta(days=1)
        assert delivery.deliver_due() == 0 and len(_Receiver.got) == 3  # stopped after the 2xx
        with store.session() as s:
            [row] = s.execute(select(OutboxMessage).where(OutboxMessage.kind == "webhook")).scalars()
            assert row.status == "sent" and row.attempts == 3
    finally:
        server.shutdown()


def _reminders(settings) -> list:
    """Reminder e-mails written to the file outbox (their Message-ID says so)."""
    return [p for p in mails_to(settings.outbox_dir, VISITOR.email) if "-reminder@" in p.read_text()]


def _due_reminders(store, booking_id):
    with store.session() as s:
        return sorted(
            (r.next_attempt_at, r.status)
            for r in s.execute(select(OutboxMessage).where(OutboxMessage.key.like(f"reminder:{booking_id}:%"))).scalars()
        )


def test_reminders_go_out_a_day_and_an_hour_before_in_the_visitors_language(store, settings, clock):
    add_queue(store, notice=60, window=14)
    delivery = Delivery(store, FileOutbox(settings.outbox_dir), clock=clock)
    svc = BookingService(store, {"local": LocalCalendar(store, settings.public_url)}, delivery, clock=clock)
    # Tuesday 08:00 UTC now; book Wednesday 12:00 London (= 12:00 UTC): both reminders lie ahead.
    offer = next(o for o in svc.offer_slots("c", "sales", count=40, spread=False).slots if o.start == utc(2026, 12, 2, 12))
    booking = svc.book("c", offer.id, VISITOR)
    assert _due_reminders(store, booking.booking_id) == [
        (utc(2026, 12, 1, 12), "pending"),
        (utc(2026, 12, 2, 11), "pending"),
    ]

    def reminders_sent() -> list:
        return _reminders(settings)

    clock.now = utc(2026, 12, 1, 11, 59)
    delivery.deliver_due()
    assert reminders_sent() == []  # not a minute early
    clock.now = utc(2026, 12, 1, 12, 0)
    delivery.deliver_due()
    [first] = reminders_sent()
    msg = email.message_from_bytes(first.read_bytes(), policy=email.policy.default)
    assert msg["Content-Language"] == "fr" and "Ada" in msg["Subject"]
    assert "/meet/" in msg.get_content()
    clock.now = utc(2026, 12, 2, 11, 0)
    delivery.deliver_due()
    assert len(reminders_sent()) == 2
    svc.close()


def test_no_reminder_after_a_cancellation_and_none_in_the_past(store, settings, clock):
    add_queue(store, notice=60)
    with store.session() as s:
        s.execute(update(Queue).values(reminder_minutes="1440,60,15"))
    delivery = Delivery(store, FileOutbox(settings.outbox_dir), clock=clock)
    svc = BookingService(store, {"local": LocalCalendar(store, settings.public_url)}, delivery, clock=clock)
    soon = svc.offer_slots("c", "sales", count=1, spread=False).slots[0]  # today 09:00 London, 1 h ahead
    booking = svc.book("c", soon.id, VISITOR)
    assert [due for due, _ in _due_reminders(store, booking.booking_id)] == [soon.start - timedelta(minutes=15)]
    svc.cancel(booking.booking_id)
    assert _due_reminders(store, booking.booking_id) == [(soon.start - timedelta(minutes=15), "cancelled")]
    clock.now = soon.start
    delivery.deliver_due()
    assert _reminders(settings) == []
    svc.close()


def test_queue_reminders_are_checked(store):
    from bot.admin import rules
    from bot.errors import ConfigError

    add_queue(store)
    rules.set_queue(store, "sales", reminder_minutes="60, 1440")
    with store.session() as s:
        assert s.execute(select(Queue.reminder_minutes)).scalar_one() == "1440,60"
    with pytest.raises(ConfigError):
        rules.set_queue(store, "sales", reminder_minutes="tomorrow")
    rules.set_queue(store, "sales", reminder_minutes="")
    with store.session() as s:
        assert s.execute(select(Queue.reminder_minutes)).scalar_one() == ""


def test_a_corrected_email_reaches_the_booking_the_calendar_and_a_new_confirmation(store, settings):
    from bot.ops.runtime import build_service

    add_queue(store)
    svc = build_service(settings, store)
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    booking = svc.book("c", offer.id, VISITOR)
    first = _mails(store)[f"confirmation:{booking.booking_id}"]

    fixed = svc.correct_visitor(booking.booking_id, email="dana.r@acme.example", first_name="Danielle")
    assert (fixed["visitor_email"], fixed["visitor_first_name"]) == ("dana.r@acme.example", "Danielle")
    got = svc.get_booking(booking.booking_id)
    assert got["sequence"] == 1
    with store.session() as s:
        ev = s.execute(select(CalendarEvent)).scalar_one()
        assert ev.attendee_email == "dana.r@acme.example"
    mails = _mails(store)
    again = mails[f"corrected:{booking.booking_id}:1"]
    assert "dana.r@acme.example" in again["To"] and "Danielle" in again["To"]
    assert again["Message-ID"] != first["Message-ID"] and again["Content-Language"] == "fr"
    [ics] = [p for p in again.iter_attachments() if p.get_content_type() == "text/calendar"]
    body = ics.get_payload(decode=True).decode()
    assert "METHOD:REQUEST" in body and "SEQUENCE:1" in body and f"UID:{booking.booking_id}@" in body
    assert "dana.r@acme.example" in body
    notice = mails[f"agent:{booking.booking_id}:updated:1"]
    text = notice.get_content()
    assert "dana.r@acme.example" in text and "Was: Dana <dana@acme.example>" in text
    # The links mailed to the wrong address no longer work (the sequence moved on).
    with pytest.raises(BookingNotFound):
        svc.cancel(booking.booking_id, sequence=0)
    # Saying the same again changes nothing and sends nothing.
    svc.correct_visitor(booking.booking_id, email="dana.r@acme.example")
    assert svc.get_booking(booking.booking_id)["sequence"] == 1
    assert len(_mails(store)) == len(mails)
    svc.close()


def test_a_correction_that_is_not_an_address_or_fails_at_the_provider_changes_nothing(service, store):
    from bot.errors import BookingError, ProviderUnavailable

    add_queue(store)
    offer = service.offer_slots("c", "sales", count=1).slots[0]
    booking = service.book("c", offer.id, VISITOR)
    with pytest.raises(BookingError):
        service.correct_visitor(booking.booking_id, email="not an address")

    class Down(LocalCalendar):
        def update_attendee(self, *args, **kwargs):
            raise ProviderUnavailable("calendar down", provider="local")

    service.providers["local"] = Down(store, "http://localhost:8000")
    with pytest.raises(ProviderUnavailable):
        service.correct_visitor(booking.booking_id, email="dana.r@acme.example")
    got = service.get_booking(booking.booking_id)
    assert got["sequence"] == 0 and not any(k.startswith("corrected:") for k in _mails(store))
    with store.session() as s:
        assert s.execute(select(CalendarEvent.attendee_email)).scalar_one() == "dana@acme.example"
