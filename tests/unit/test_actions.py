"""Every action through a tracker builder, against a real SQLite store — no Rasa server."""

from __future__ import annotations

import pytest

from actions.action_ask_email import ActionAskEmail
from actions.action_book_slot import ActionBookSlot
from actions.action_offer_slots import ActionOfferSlots
from actions.action_request_callback import ActionRequestCallback
from actions.action_session_start import ActionSessionStart
from actions.validate_booking_form import ValidateBookingForm
from tests.helpers import add_queue, make_tracker, run, slot_events

KNOWN = {"email": "kim@example.com", "first_name": "Kim", "company": "Globex"}


async def test_session_start_keeps_metadata():
    meta = {"timezone": "Asia/Tokyo", "locale": "en-GB", "person": {"first_name": "Kim"}}
    tracker = make_tracker(slots={"session_started_metadata": meta})
    _, events = await run(ActionSessionStart(), tracker)
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"
    assert slot_events(events) == {
        "timezone": "Asia/Tokyo",
        "locale": "en_GB",
        "person_info": {"first_name": "Kim"},
        "language": "en",
    }


async def test_form_fills_known_visitor_from_message_metadata():
    meta = {"person": {"first_name": "Kim", "email": "KIM@example.com"}, "company": {"name": "Globex"}}
    tracker = make_tracker(text="book a meeting", intent="book_meeting", metadata=meta, active_loop="booking_form")
    messages, events = await run(ValidateBookingForm(), tracker)
    slots = slot_events(events)
    assert slots["email"] == "KIM@example.com" and slots["first_name"] == "Kim" and slots["company"] == "Globex"
    assert messages == []


async def test_form_rejects_bad_email_with_a_hint_and_accepts_a_sentence():
    bad = make_tracker(
        events=[{"event": "slot", "name": "email", "value": "not an address"}],
        slots={"email": "not an address", "requested_slot": "email"},
    )
    messages, events = await run(ValidateBookingForm(), bad)
    assert slot_events(events)["email"] is None and "name@company.com" in messages[0]["text"]
    good = make_tracker(
        events=[{"event": "slot", "name": "email", "value": "it's jo@x.io."}],
        slots={"email": "it's jo@x.io.", "requested_slot": "email"},
    )
    _, events = await run(ValidateBookingForm(), good)
    assert slot_events(events)["email"] == "jo@x.io"


@pytest.mark.parametrize(
    ("slot", "answer"),
    [
        ("first_name", "I'm <img src=x onerror=alert(1)>"),
        ("first_name", "{{person.email}}"),
        ("first_name", "https://evil.example/x"),
        ("first_name", "kim@example.com"),
        ("company", "<script>alert(1)</script> Ltd"),
        ("company", "www.spam.example"),
        ("company", "A" * 81),
    ],
)
async def test_an_answer_that_is_clearly_not_a_name_is_asked_again(slot, answer):
    tracker = make_tracker(
        events=[{"event": "slot", "name": slot, "value": answer}],
        slots={"email": "kim@example.com", slot: answer, "requested_slot": slot},
    )
    messages, events = await run(ValidateBookingForm(), tracker)
    assert slot_events(events)[slot] is None and messages  # told, politely, and asked again


@pytest.mark.parametrize(("slot", "answer"), [("company", "Monday.com"), ("company", "AT&T"), ("first_name", "O'Brien")])
async def test_names_with_dots_and_signs_are_names(slot, answer):
    tracker = make_tracker(
        events=[{"event": "slot", "name": slot, "value": answer}],
        slots={"email": "kim@example.com", "first_name": "Kim", slot: answer, "requested_slot": slot},
    )
    _, events = await run(ValidateBookingForm(), tracker)
    assert slot_events(events)[slot] == answer


async def test_ask_action_uses_the_text_catalog():
    messages, events = await run(ActionAskEmail(), make_tracker())
    assert "e-mail address" in messages[0]["text"] and events == []


async def test_offer_slots_shows_buttons_in_the_visitor_zone(service, store):
    add_queue(store)
    tracker = make_tracker(slots=KNOWN, metadata={"timezone": "America/New_York"})
    messages, events = await run(ActionOfferSlots(), tracker)
    [msg] = messages
    assert "New York" in msg["text"] and len(msg["buttons"]) == 5
    # The queue is open from 12:00 UTC, 7:00 AM in New York; the first time offered is the first
    # inside the visitor's working day, 8:00 AM (U+202F before AM, as CLDR has it).
    assert msg["buttons"][0]["title"] == "Tue, Dec 1, 8:00\u202fAM"
    assert msg["buttons"][0]["payload"].startswith('/choose_slot{"slot_id":"')
    assert slot_events(events)["timezone"] == "America/New_York"
    # Spread: an hour apart, at most three per day in the visitor's zone, never before 8:00 there
    # (the agent's 9-17 in London starts at 4:00 AM in New York).
    assert [b["title"].split(", ")[-2:] for b in msg["buttons"]] == [
        ["Dec 1", "8:00\u202fAM"],
        ["Dec 1", "9:00\u202fAM"],
        ["Dec 1", "10:00\u202fAM"],
        ["Dec 2", "8:00\u202fAM"],
        ["Dec 2", "9:00\u202fAM"],
    ]
    assert slot_events(events)["offer_cursor"].startswith("2026-12-02T14:00")


async def test_more_slots_pages_onward(service, store):
    add_queue(store)
    first, events = await run(ActionOfferSlots(), make_tracker(slots=KNOWN))
    cursor = slot_events(events)["offer_cursor"]
    more, _ = await run(ActionOfferSlots(), make_tracker(slots={**KNOWN, "offer_cursor": cursor}, intent="more_slots"))
    assert not {b["title"] for b in first[0]["buttons"]} & {b["title"] for b in more[0]["buttons"]}
    assert "later times" in more[0]["text"]


async def test_no_slots_offers_a_callback(service, store):
    add_queue(store, agents=[("Ada", "UTC", [])])
    messages, events = await run(ActionOfferSlots(), make_tracker(slots=KNOWN))
    assert "no free time" in messages[0]["text"] and slot_events(events)["callback_offered"] is True
    messages, events = await run(ActionRequestCallback(), make_tracker(slots={**KNOWN, "callback_offered": True}))
    assert "kim@example.com" in messages[0]["text"] and slot_events(events)["callback_offered"] is False
    assert [c["email"] for c in service.list_callbacks()] == ["kim@example.com"]


async def test_book_slot_confirms(service, store):
    add_queue(store)
    page = service.offer_slots("visitor-1", "sales", count=1)
    tracker = make_tracker(
        slots={**KNOWN, "timezone": "Europe/Paris"},
        intent="choose_slot",
        entities=[{"entity": "slot_id", "value": page.slots[0].id}],
    )
    messages, events = await run(ActionBookSlot(), tracker)
    text = messages[0]["text"]
    assert "You're booked! Ada" in text and "1:00\u202fPM" in text and "/meet/" in text
    assert service.list_bookings()[0]["status"] == "confirmed"


@pytest.mark.parametrize("offer_id", ["nope", "x" * 200])
async def test_book_slot_refuses_forged_ids_and_offers_fresh_times(service, store, offer_id):
    add_queue(store)
    tracker = make_tracker(slots=KNOWN, intent="choose_slot", entities=[{"entity": "slot_id", "value": offer_id}])
    messages, _ = await run(ActionBookSlot(), tracker)
    assert "not available" in messages[0]["text"] and len(messages[0]["buttons"]) == 5
    assert service.list_bookings() == []


async def test_book_slot_without_an_id_or_details(service, store):
    add_queue(store)
    on_screen = {**KNOWN, "offer_cursor": "2026-12-08T10:00:00+00:00"}  # times were shown
    messages, _ = await run(ActionBookSlot(), make_tracker(slots=on_screen, intent="choose_slot", text="the first one"))
    assert "tap one of the times" in messages[0]["text"]
    page = service.offer_slots("visitor-1", "sales", count=1)
    tracker = make_tracker(intent="choose_slot", entities=[{"entity": "slot_id", "value": page.slots[0].id}])
    messages, events = await run(ActionBookSlot(), tracker)
    assert events[-1] == {"event": "followup", "name": "booking_form", "timestamp": None}
    assert service.list_bookings() == []


async def test_slot_taken_between_offer_and_click(service, store):
    add_queue(store)
    mine = service.offer_slots("visitor-1", "sales", count=1).slots[0]
    theirs = service.offer_slots("other", "sales", count=1).slots[0]
    from bot.booking import Visitor

    service.book("other", theirs.id, Visitor(email="o@example.com"))
    tracker = make_tracker(slots=KNOWN, intent="choose_slot", entities=[{"entity": "slot_id", "value": mine.id}])
    messages, _ = await run(ActionBookSlot(), tracker)
    assert "someone just booked that time" in messages[0]["text"]
    assert mine.start not in {b["payload"] for b in messages[0]["buttons"]}


async def test_that_works_with_no_times_on_screen_asks_for_times(service, store):
    add_queue(store)
    tracker = make_tracker(slots=KNOWN, text="ok cool that works, lets set one up then", intent="choose_slot")
    messages, events = await run(ActionBookSlot(), tracker)
    assert {"event": "followup", "name": "booking_form"} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    assert messages == []
