"""Cancel and move a booking in chat (issue 9): the actions through a tracker builder, against a
real SQLite store and the local calendar — no Rasa server."""

from __future__ import annotations

import json

import pytest

from actions.action_book_slot import ActionBookSlot
from actions.action_cancel_booking import ActionCancelBooking, asked_to_cancel
from actions.action_keep_booking import ActionKeepBooking
from actions.action_manage_booking import MAX_TRIES, ActionManageBooking
from actions.action_offer_slots import ActionOfferSlots
from bot.booking import Visitor
from bot.dialogue.answers import find_code as parse_code
from tests.helpers import NINE_TO_FIVE, add_queue, make_tracker, run, slot_events

VISITOR = Visitor(email="dana@acme.example", first_name="Dana", company_name="Acme", timezone="Europe/Paris")


def _book(service, sender="visitor-1"):
    offer = service.offer_slots(sender, "sales", count=1).slots[0]
    return service.book(sender, offer.id, VISITOR)


#: The events of a conversation where the bot just asked "Do you want to cancel …?".
ASKED = [
    {"event": "user", "text": "cancel my meeting"},
    {"event": "action", "name": "action_manage_booking"},
    {"event": "action", "name": "action_listen"},
    {"event": "user", "text": "/affirm"},
]


def test_parse_code():
    assert parse_code("dana@acme.example 3F2A9C1B") == "3f2a9c1b"
    assert parse_code("my code is 3f2a9c1be4, thanks") == "3f2a9c1be4"
    assert parse_code("deadbeef01@acme.example") is None  # inside the e-mail address
    assert parse_code("code 1234567") is None and parse_code("x" * 40) is None


async def test_cancel_in_the_conversation_it_was_booked_in(service, store):
    add_queue(store)
    booking = _book(service)
    messages, events = await run(ActionManageBooking(), make_tracker(text="cancel my appointment", intent="cancel_meeting"))
    [msg] = messages
    assert "Ada" in msg["text"] and [b["payload"] for b in msg["buttons"]] == ["/affirm", "/deny"]
    slots = slot_events(events)
    assert slots["cancel_offered"] is True and slots["manage_booking"] == booking.booking_id
    assert slots["manage_intent"] == "cancel"
    after = {"manage_booking": booking.booking_id, "manage_intent": "cancel", "cancel_offered": True}
    messages, events = await run(ActionCancelBooking(), make_tracker(slots=after, intent="affirm", events=ASKED))
    assert "is cancelled" in messages[0]["text"] and slot_events(events)["cancel_offered"] is False
    assert service.get_booking(booking.booking_id)["status"] == "cancelled"
    # Asked again: nothing left to cancel here; the visitor is asked for e-mail and code.
    messages, _ = await run(ActionManageBooking(), make_tracker(text="cancel it", intent="cancel_meeting"))
    assert "booking code" in messages[0]["text"]


async def test_a_late_yes_cancels_nothing(service, store):
    add_queue(store)
    booking = _book(service)
    slots = {"manage_booking": booking.booking_id, "manage_intent": "cancel", "cancel_offered": True}
    later = [*ASKED[:3], {"event": "user", "text": "hi"}, {"event": "action", "name": "action_greet"},
             {"event": "action", "name": "action_listen"}, {"event": "user", "text": "yes"}]
    assert not asked_to_cancel(make_tracker(events=later)) and asked_to_cancel(make_tracker(events=ASKED))
    messages, _ = await run(ActionCancelBooking(), make_tracker(slots=slots, intent="affirm", events=later))
    assert "stays as it is" in messages[0]["text"]
    assert service.get_booking(booking.booking_id)["status"] == "confirmed"
    messages, events = await run(ActionKeepBooking(), make_tracker(slots=slots, intent="deny"))
    assert "stays as it is" in messages[0]["text"] and slot_events(events)["cancel_offered"] is False
    assert service.get_booking(booking.booking_id)["status"] == "confirmed"


async def test_identified_by_email_and_code_from_another_conversation(service, store):
    add_queue(store)
    booking = _book(service, sender="old-browser")
    asked, events = await run(ActionManageBooking(), make_tracker(text="I need to move my meeting", intent="reschedule_meeting"))
    assert "booking code" in asked[0]["text"] and slot_events(events)["manage_intent"] == "reschedule"
    # A wrong code: not found, counted; the right e-mail and code: found, new times offered.
    wrong = make_tracker(text=f"dana@acme.example {'0' * 8}", intent="give_booking_code", slots={"manage_intent": "reschedule"})
    messages, events = await run(ActionManageBooking(), wrong)
    assert "couldn't find" in messages[0]["text"] and slot_events(events)["manage_tries"] == 1
    right = make_tracker(
        text=f"dana@acme.example {booking.booking_id[:10].upper()}", intent="give_booking_code",
        slots={"manage_intent": "reschedule", "manage_tries": 1.0},
    )
    messages, events = await run(ActionManageBooking(), right)
    [msg] = messages
    assert "new times with Ada" in msg["text"] and len(msg["buttons"]) == 5
    assert slot_events(events)["manage_booking"] == booking.booking_id
    # The visitor picks one: the booking moves (same code), and says so.
    offer_id = json.loads(msg["buttons"][1]["payload"].removeprefix("/choose_slot"))["slot_id"]
    pick = make_tracker(
        slots={"manage_intent": "reschedule", "manage_booking": booking.booking_id},
        intent="choose_slot", entities=[{"entity": "slot_id", "value": offer_id}],
    )
    messages, events = await run(ActionBookSlot(), pick)
    assert "moved to" in messages[0]["text"] and "Ada" in messages[0]["text"]
    moved = service.get_booking(booking.booking_id)
    assert moved["sequence"] == 1 and moved["status"] == "confirmed" and len(service.list_bookings()) == 1
    assert slot_events(events)["manage_intent"] is None


async def test_too_many_wrong_codes_stop_the_lookups(service, store):
    add_queue(store)
    booking = _book(service, sender="old-browser")
    tracker = make_tracker(
        text=f"dana@acme.example {booking.booking_id}", intent="give_booking_code",
        slots={"manage_intent": "cancel", "manage_tries": float(MAX_TRIES)},
    )
    messages, _ = await run(ActionManageBooking(), tracker)
    assert "links in your confirmation" in messages[0]["text"]  # even the right code is not looked up


async def test_a_code_without_a_request_asks_what_to_do(service, store):
    add_queue(store)
    booking = _book(service, sender="old-browser")
    tracker = make_tracker(text=f"{booking.booking_id} dana@acme.example", intent="give_booking_code")
    [msg], _ = await run(ActionManageBooking(), tracker)
    assert [b["payload"] for b in msg["buttons"]] == ["/reschedule_meeting", "/cancel_meeting"]


async def test_moving_pages_onward_and_a_new_booking_offer_cannot_move(service, store):
    add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE)])
    booking = _book(service)
    moving = {"manage_intent": "reschedule", "manage_booking": booking.booking_id}
    first, events = await run(ActionManageBooking(), make_tracker(intent="reschedule_meeting", slots=moving))
    cursor = slot_events(events)["offer_cursor"]
    more, _ = await run(ActionOfferSlots(), make_tracker(intent="more_slots", slots={**moving, "offer_cursor": cursor}))
    assert not {b["title"] for b in first[0]["buttons"]} & {b["title"] for b in more[0]["buttons"]}
    # A reschedule offer clicked outside the reschedule: still moves (the offer says which booking),
    # and a new-booking offer cannot move anything: it books (or asks for details) as usual.
    new_offer = service.offer_slots("visitor-1", "sales", count=1).slots[0]
    pick = make_tracker(slots=moving, intent="choose_slot", entities=[{"entity": "slot_id", "value": new_offer.id}])
    messages, _ = await run(ActionBookSlot(), pick)
    assert "moved" not in messages[0]["text"]
    assert service.get_booking(booking.booking_id)["sequence"] == 0


@pytest.mark.parametrize("intent", ["cancel_meeting", "reschedule_meeting"])
async def test_other_languages(service, store, intent):
    add_queue(store)
    _book(service)
    [msg], _ = await run(ActionManageBooking(), make_tracker(text="x", intent=intent, slots={"language": "de", "locale": "de"}))
    assert ("absagen" in msg["text"]) if intent == "cancel_meeting" else ("Termine" in msg["text"] or "Zeiten" in msg["text"])
