"""Moving a booking (issue 9): the same agent first, then the queue; the calendar event, the
hold, the reminders, the notices and the webhook follow; nothing changes when something fails."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.booking import Visitor
from bot.booking.model import blocks as hold_blocks
from bot.errors import AlreadyCancelled, BookingInPast, BookingNotFound, OfferNotFound, ProviderUnavailable, SlotTaken
from bot.messages.delivery import load_email
from bot.messages.webhooks import add_webhook
from bot.ops.runtime import vault
from bot.store.models import Booking, BookingBlock, CalendarEvent, OutboxMessage
from tests.helpers import NINE_TO_FIVE, add_queue

VISITOR = Visitor(
    email="dana@acme.example",
    first_name="Dana",
    company_name="Acme",
    timezone="Europe/Paris",
    locale="fr",
    person={"title": "CTO"},
)


def _book(service, conversation="c"):
    offer = service.offer_slots(conversation, "sales", count=1).slots[0]
    return service.book(conversation, offer.id, VISITOR)


def _outbox(store, kind="email"):
    with store.session() as s:
        return {r.key: r for r in s.execute(select(OutboxMessage).where(OutboxMessage.kind == kind)).scalars()}


def _blocks(store, booking_id):
    with store.session() as s:
        return s.execute(
            select(BookingBlock.agent_id, BookingBlock.block_start).where(BookingBlock.booking_id == booking_id)
        ).all()


def test_same_agent_first_then_the_queue(service, store):
    add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Bo", "Europe/London", NINE_TO_FIVE)])
    booking = _book(service)
    with store.session() as s:
        mine = s.get(Booking, booking.booking_id).agent_id
    page, same = service.offer_reschedule("c", booking.booking_id, count=4)
    assert same == 4 and len(page.slots) == 4
    with store.session() as s:
        from bot.store.models import Offer

        offers = [s.get(Offer, o.id) for o in page.slots]
        assert all(o.agent_ids == [mine] and o.moves_booking == booking.booking_id for o in offers)
    assert booking.start not in {o.start for o in page.slots}  # its own time is not a "new" time


def test_a_full_agent_leaves_the_queue_s_times(service, store):
    # Ada works Tuesdays 12:00-13:30 only; Bo joins the queue later and works every weekday.
    # Ada's few new times come first, Bo's fill the page; picking one of Bo's moves the
    # booking to Bo.
    [ada] = add_queue(store, agents=[("Ada", "Europe/London", [(1, 12 * 60, 13 * 60 + 30)])])
    ada_booking = _book(service)
    assert ada_booking.agent_name == "Ada"
    [bo] = add_queue(store, slug="other", agents=[("Bo", "Europe/London", NINE_TO_FIVE)])
    with store.session() as s:
        from bot.store.models import Queue, QueueMember

        sales = s.execute(select(Queue).where(Queue.slug == "sales")).scalar_one()
        s.add(QueueMember(queue_id=sales.id, agent_id=bo, weight=1))
    page, same = service.offer_reschedule("c", ada_booking.booking_id, count=8, spread=False)
    assert same == 5 and len(page.slots) == 8  # Ada: 12:30 and 13:00 today, three next Tuesday
    assert [o.start.weekday() for o in page.slots[:same]] == [1] * same
    result = service.reschedule("c", page.slots[-1].id)
    assert result.agent_name == "Bo" and result.booking_id == ada_booking.booking_id
    with store.session() as s:
        events = s.execute(select(CalendarEvent).order_by(CalendarEvent.id)).scalars().all()
        live = [e for e in events if e.status != "cancelled" and e.idempotency_key.startswith(ada_booking.booking_id)]
        assert len(live) == 1 and live[0].start == page.slots[-1].start
        b = s.get(Booking, ada_booking.booking_id)
        assert b.agent.name == "Bo" and b.sequence == 1 and b.provider_event_id == str(live[0].id)
    assert {a for a, _ in _blocks(store, ada_booking.booking_id)} == {b.agent_id}
    keys = set(_outbox(store))
    bid = ada_booking.booking_id
    assert {f"agent:{bid}:rescheduled:1:old", f"agent:{bid}:rescheduled:1:new", f"rescheduled:{bid}:1"} <= keys
    old = load_email(_outbox(store)[f"agent:{bid}:rescheduled:1:old"])
    new = load_email(_outbox(store)[f"agent:{bid}:rescheduled:1:new"])
    assert "Booking cancelled" in old["Subject"] and "Ada" in old["To"]
    assert "New booking" in new["Subject"] and "Bo" in new["To"]


def test_move_keeps_the_booking_moves_event_hold_reminders_and_says_so(service, store, settings, clock):
    with store.session() as s:
        _hook, _secret = add_webhook(s, vault(settings), "http://127.0.0.1:9/h", ["booking.rescheduled"])
    add_queue(store)
    booking = _book(service)
    page, _ = service.offer_reschedule("c", booking.booking_id, count=3)
    target = page.slots[2]
    moved = service.reschedule("c", target.id)
    assert (moved.booking_id, moved.start, moved.agent_name) == (booking.booking_id, target.start, "Ada")
    with store.session() as s:
        [ev] = s.execute(select(CalendarEvent)).scalars().all()
        assert (ev.start, ev.end, ev.status) == (target.start, target.end, "confirmed")
        b = s.get(Booking, booking.booking_id)
        assert b.sequence == 1 and b.status == "confirmed" and (b.start, b.end) == (target.start, target.end)
    assert sorted(t for _, t in _blocks(store, booking.booking_id)) == hold_blocks(target.start, target.end)
    # The old time is free for others again.
    assert booking.start in {o.start for o in service.offer_slots("other", "sales", count=20, spread=False).slots}
    mails = _outbox(store)
    visitor_mail = load_email(mails[f"rescheduled:{booking.booking_id}:1"])
    assert visitor_mail["Content-Language"] == "fr" and "Ada" in visitor_mail["Subject"]
    [ics] = [p for p in visitor_mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    body = ics.get_payload(decode=True).decode()
    assert "METHOD:REQUEST" in body and "SEQUENCE:1" in body and f"UID:{booking.booking_id}@" in body
    notice = load_email(mails[f"agent:{booking.booking_id}:rescheduled:1"])
    assert "Booking moved" in notice["Subject"] and "Was:" in notice.get_content()
    # Reminders: the old ones dropped, new ones due before the new start.
    reminders = {k: r for k, r in mails.items() if k.startswith(f"reminder:{booking.booking_id}:")}
    live = {k: r for k, r in reminders.items() if r.status == "pending"}
    assert live and all(k.startswith(f"reminder:{booking.booking_id}:1:") for k in live)
    assert {r.next_attempt_at for r in live.values()} == {target.start - timedelta(minutes=m) for m in (1440, 60)}
    assert all(r.status == "cancelled" for k, r in reminders.items() if k not in live)
    [hook] = _outbox(store, "webhook").values()
    event = json.loads(hook.payload)["body"]
    assert event["type"] == "booking.rescheduled"
    data = event["data"]
    assert data["start"].startswith(target.start.strftime("%Y-%m-%dT%H:%M"))
    assert data["previous"]["start"].startswith(booking.start.strftime("%Y-%m-%dT%H:%M"))
    # A double click on the same button: the same result, no second move.
    again = service.reschedule("c", target.id)
    assert again.start == target.start
    with store.session() as s:
        assert s.get(Booking, booking.booking_id).sequence == 1


def test_forged_stale_and_foreign_offers_move_nothing(service, store):
    add_queue(store)
    booking = _book(service)
    other = _book(service, "c2")
    new_offer = service.offer_slots("c", "sales", count=1).slots[0]
    with pytest.raises(OfferNotFound):  # an offer for a new booking cannot move one
        service.reschedule("c", new_offer.id)
    page, _ = service.offer_reschedule("c", booking.booking_id, count=1)
    with pytest.raises(OfferNotFound):  # another conversation's offer
        service.reschedule("c2", page.slots[0].id)
    with pytest.raises(OfferNotFound):  # bound to another booking
        service.reschedule("c", page.slots[0].id, booking_id=other.booking_id)
    with pytest.raises(BookingNotFound):  # a link from before a change
        service.reschedule("c", page.slots[0].id, sequence=3)
    with pytest.raises(OfferNotFound):
        service.reschedule("c", "x" * 500)
    service.cancel(booking.booking_id)
    with pytest.raises(AlreadyCancelled):
        service.reschedule("c", page.slots[0].id)
    with pytest.raises(AlreadyCancelled):
        service.offer_reschedule("c", booking.booking_id)
    with store.session() as s:
        assert s.get(Booking, other.booking_id).sequence == 0


def test_a_started_meeting_cannot_move(service, store, clock):
    add_queue(store)
    booking = _book(service)
    page, _ = service.offer_reschedule("c", booking.booking_id, count=1)
    clock.now = booking.start + timedelta(minutes=1)
    with pytest.raises(BookingInPast):
        service.reschedule("c", page.slots[0].id)


def test_a_taken_time_or_a_provider_failure_changes_nothing(service, store, monkeypatch):
    add_queue(store)
    booking = _book(service)
    page, _ = service.offer_reschedule("c", booking.booking_id, count=2, spread=False)
    before = _blocks(store, booking.booking_id)
    # Someone books the first new time meanwhile.
    taken = next(o for o in service.offer_slots("z", "sales", count=10, spread=False).slots if o.start == page.slots[0].start)
    service.book("z", taken.id, Visitor(email="z@z.example"))
    with pytest.raises(SlotTaken):
        service.reschedule("c", page.slots[0].id)
    # The calendar fails while moving: the new hold is given back, the booking is as it was.
    local = service.providers["local"]

    def down(*a, **k):
        raise ProviderUnavailable("down", provider="local")

    monkeypatch.setattr(local, "update_event", down)
    with pytest.raises(ProviderUnavailable):
        service.reschedule("c", page.slots[1].id)
    assert _blocks(store, booking.booking_id) == before
    with store.session() as s:
        b = s.get(Booking, booking.booking_id)
        assert (b.start, b.sequence) == (booking.start, 0)
        [ev] = s.execute(select(CalendarEvent).where(CalendarEvent.idempotency_key == booking.booking_id)).scalars()
        assert ev.start == booking.start
    assert not [k for k in _outbox(store) if k.startswith("rescheduled:")]


def test_find_by_conversation_or_by_email_and_code(service, store):
    add_queue(store)
    booking = _book(service)
    code = booking.booking_id
    assert [b["id"] for b in service.find_bookings(conversation_id="c")] == [code]
    assert service.find_bookings(conversation_id="elsewhere") == []
    assert [b["id"] for b in service.find_bookings(email="DANA@acme.example", code=code[:8].upper())] == [code]
    for email_, code_ in (("dana@acme.example", code[:7]), ("eve@acme.example", code), ("dana@acme.example", "%"),
                          ("dana@acme.example", "zz" + code[2:]), ("", code)):
        assert service.find_bookings(email=email_, code=code_) == []
    service.cancel(code)
    assert service.find_bookings(conversation_id="c") == []


def test_the_mails_carry_both_links(store, settings):
    from bot.ops.runtime import build_service

    add_queue(store)
    svc = build_service(settings, store)
    try:
        booking = _book(svc)
        with store.session() as s:
            row = s.execute(select(OutboxMessage).where(OutboxMessage.key == f"confirmation:{booking.booking_id}")).scalar_one()
        text = load_email(row).get_body(("plain",)).get_content()
        assert f"/booking/{booking.booking_id}/reschedule?t=" in text and f"/booking/{booking.booking_id}/cancel?t=" in text
    finally:
        svc.close()


def test_the_reschedule_link_moves_once_and_only_untampered(store, settings):
    import re
    from datetime import datetime, timezone

    from bot.booking import BookingService
    from bot.calendars.local import LocalCalendar
    from bot.messages.links import manage_token
    from bot.messages.outbox import FileOutbox
    from bot.web import create_app

    add_queue(store)
    svc = BookingService(store, {"local": LocalCalendar(store, settings.public_url)}, FileOutbox(settings.outbox_dir))
    booking = _book(svc)
    svc.close()
    v = vault(settings)
    now = datetime.now(timezone.utc)
    token = manage_token(v, booking.booking_id, 0, booking.end, now, "reschedule", booking.start)
    cancel_token = manage_token(v, booking.booking_id, 0, booking.end, now, "cancel")
    app = create_app(settings, store)
    path = f"/booking/{booking.booking_id}/reschedule"

    def call(method, url, **kw):
        _req, resp = getattr(app.test_client, method)(url, **kw)
        return resp.status, resp.text

    status, page = call("get", f"{path}?t={token}")
    assert status == 200 and "lang=fr" in page and "Ada" in page and "<form method=post" in page
    offers = re.findall(r"name=offer required value='([^']+)'", page)
    assert len(offers) >= 2
    assert svc.get_booking(booking.booking_id)["start"] == booking.start.isoformat().replace("+00:00", "Z")
    # "Later times" pages onward.
    later = re.search(r"href='([^']+after=[^']+)'", page).group(1).replace("&amp;", "&")
    status, page2 = call("get", later)
    assert status == 200 and not set(re.findall(r"value='([^']+)'>", page2)) & set(offers)
    # The cancel link's token, a tampered token, a forged offer: refused, nothing moves.
    assert call("get", f"{path}?t={cancel_token}")[0] == 404
    assert call("post", path, data={"t": token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "offer": offers[1]})[0] == 404
    status, text = call("post", path, data={"t": token, "offer": "forged"})
    assert status == 409 and "<form method=post" in text  # fresh times, nothing changed
    assert svc.get_booking(booking.booking_id)["sequence"] == 0
    status, text = call("post", path, data={"t": token, "offer": offers[1]})
    assert status == 200, text
    moved = svc.get_booking(booking.booking_id)
    assert moved["sequence"] == 1 and moved["start"] != booking.start.isoformat().replace("+00:00", "Z")
    # Spent: the same link (and the old cancel link) no longer work; the new e-mail has new ones.
    assert call("post", path, data={"t": token, "offer": offers[0]})[0] == 404
    assert call("get", f"{path}?t={token}")[0] == 404
    assert call("post", f"/booking/{booking.booking_id}/cancel", data={"t": cancel_token})[0] == 404
    assert svc.get_booking(booking.booking_id)["status"] == "confirmed"
