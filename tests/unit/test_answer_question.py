"""Questions about the meeting (issue 17), answered from the data, before, during and after a
booking — through the actions and the intent guard, against a real SQLite store, no Rasa."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from actions.action_answer_question import ActionAnswerQuestion
from actions.action_book_slot import ActionBookSlot
from actions.action_out_of_scope import ActionOutOfScope
from actions.validate_booking_form import ValidateBookingForm
from bot.dialogue.intents import decide
from bot.dialogue.understanding import heard
from tests.helpers import add_queue, make_tracker, run, slot_events, utc

KNOWN = {"email": "kim@example.com", "first_name": "Kim", "company": "Globex", "timezone": "Europe/London"}


def _texts(messages) -> str:
    return " ".join(m.get("text") or "" for m in messages)


def _book(service, sender: str = "visitor-1", **visitor):
    from bot.booking import Visitor

    offer = service.offer_slots(sender, "sales", count=1).slots[0]
    result = service.book(sender, offer.id, Visitor(email="kim@example.com", first_name="Kim", timezone="Europe/London", **visitor))
    return service.get_booking(result.booking_id)


async def _ask(text: str, *, slots=None, intent="ask_meeting", active_loop=None, sender="visitor-1"):
    tracker = make_tracker(slots={**KNOWN, **(slots or {})}, text=text, intent=intent, active_loop=active_loop, sender=sender)
    return await run(ActionAnswerQuestion(), tracker)


async def test_before_booking_the_length_and_the_team_are_answered_and_nothing_starts(service, store):
    add_queue(store, meeting=45)
    messages, events = await _ask("how long is the meeting?")
    assert "45" in _texts(messages)
    assert not any(m.get("buttons") for m in messages)
    assert not any(e.get("event") in ("active_loop", "followup") for e in events)
    messages, _ = await _ask("who will i meet?")
    assert "Ada" not in _texts(messages)  # the agent is only picked when booking
    assert service.list_bookings() == []


async def test_after_booking_who_tool_and_link_refer_to_that_booking(service, store):
    add_queue(store)
    booking = _book(service)
    messages, _ = await _ask("who am i meeting with?")
    assert "Ada" in _texts(messages)
    messages, _ = await _ask("is it on zoom?")
    said = _texts(messages)
    assert booking["conference_url"] in said and "Zoom" in said  # "it isn't on Zoom" + our room
    messages, _ = await _ask("what happens next?")
    assert "kim@example.com" in _texts(messages)
    assert len(service.list_bookings()) == 1


async def test_what_time_is_that_elsewhere_answers_without_moving_the_visitor(service, store):
    add_queue(store)
    booking = _book(service)
    messages, events = await _ask("what time is that in new york? my cto is there")
    start = datetime.fromisoformat(booking["start"].replace("Z", "+00:00")).astimezone(ZoneInfo("America/New_York"))
    said = _texts(messages).replace("\u202f", " ")
    assert f"{start.hour % 12 or 12}:{start.minute:02d}" in said
    assert "timezone" not in slot_events(events)
    assert heard("what time is that in New York?", "en", ZoneInfo("Europe/London"), utc(2026, 12, 7, 9)).zone is None
    assert heard("I'm in New York", "en", ZoneInfo("Europe/London"), utc(2026, 12, 7, 9)).zone is not None


async def test_times_on_screen_shown_in_another_zone(service, store):
    add_queue(store)
    page = service.offer_slots("visitor-1", "sales", count=2)
    messages, _ = await _ask("what time would those be in tokyo?")
    said = _texts(messages)
    for slot in page.slots:
        local = slot.start.astimezone(ZoneInfo("Asia/Tokyo"))
        assert f"{local.hour % 12 or 12}:{local.minute:02d}" in said.replace("\u202f", " ")


async def test_a_guest_before_booking_is_invited_with_the_booking(service, store):
    add_queue(store)
    page = service.offer_slots("visitor-1", "sales", count=1)
    _, events = await _ask("can i bring a colleague? Anna@Acme.example")
    guests = slot_events(events)["guests"]
    assert guests == ["anna@acme.example"]
    tracker = make_tracker(
        slots={**KNOWN, "guests": guests},
        intent="choose_slot",
        entities=[{"entity": "slot_id", "value": page.slots[0].id}],
    )
    await run(ActionBookSlot(), tracker)
    [booking] = service.list_bookings()
    assert booking["guests"] == ["anna@acme.example"]


async def test_a_guest_after_booking_is_added_to_the_booking(service, store):
    add_queue(store)
    booking = _book(service)
    messages, _ = await _ask("add my colleague bob@contoso.example please")
    assert "bob@contoso.example" in _texts(messages)
    assert service.get_booking(booking["id"])["guests"] == ["bob@contoso.example"]
    messages, _ = await _ask("can ada@agents.example join too?")  # the host herself: refused, nothing changes
    assert service.get_booking(booking["id"])["guests"] == ["bob@contoso.example"]
    messages, _ = await _ask("can a colleague of mine join?")  # no address yet: asked for it
    assert "@" in _texts(messages)


async def test_questions_it_cannot_answer_are_honest_and_offer_a_way_on(service, store):
    add_queue(store)
    messages, events = await _ask("how much does it cost per seat?")
    assert slot_events(events).get("callback_offered") is True  # "yes" then stores a callback
    assert not any(m.get("buttons") for m in messages)
    booking = _book(service)
    messages, events = await _ask("my login is broken, can you help?")
    assert "Ada" in _texts(messages) and "callback_offered" not in slot_events(events)
    assert service.get_booking(booking["id"])["status"] == "confirmed"
    # Classified as out of scope, a price question still gets the honest answer.
    tracker = make_tracker(slots=KNOWN, text="what does your product cost", intent="out_of_scope")
    messages, _ = await run(ActionOutOfScope(), tracker)
    assert "Ada" in _texts(messages)


@pytest.mark.parametrize(
    ("slot", "question"),
    [("company", "c'est avec qui ?"), ("first_name", "how long will it take?"), ("email", "wie lange dauert das?")],
)
async def test_in_the_form_a_question_is_answered_and_the_question_asked_again(service, store, slot, question):
    add_queue(store)
    slots = {"email": "kim@example.com", "first_name": "Kim", "company": None, "requested_slot": slot}
    if slot == "first_name":
        slots.update(first_name=None, company=None)
    if slot == "email":
        slots.update(email=None, first_name=None, company=None)
    slots[slot] = question
    tracker = make_tracker(
        events=[{"event": "slot", "name": slot, "value": question}], slots=slots, active_loop="booking_form"
    )
    messages, events = await run(ValidateBookingForm(), tracker)
    got = slot_events(events)
    assert got[slot] is None  # not stored as the answer: the form asks again
    assert all(got.get(k, v) == v for k, v in slots.items() if k not in (slot, "requested_slot"))  # answers kept
    assert messages and "didn't get" not in _texts(messages)
    if slot != "company":
        assert "30" in _texts(messages)


async def test_an_email_with_a_question_is_kept_and_the_question_answered(service, store):
    add_queue(store)
    tracker = make_tracker(
        events=[{"event": "slot", "name": "email", "value": "kim@acme.io - how long is it?"}],
        slots={"email": "kim@acme.io - how long is it?", "requested_slot": "email"},
        active_loop="booking_form",
    )
    messages, events = await run(ValidateBookingForm(), tracker)
    assert slot_events(events)["email"] == "kim@acme.io" and "30" in _texts(messages)


@pytest.mark.parametrize(
    ("text", "classified", "expected"),
    [
        ("how long is the meeting?", "cancel_meeting", "ask_meeting"),
        ("c'est avec qui ?", "give_booking_code", "ask_meeting"),
        ("can i bring a colleague? anna@acme.example", "give_booking_code", "ask_meeting"),
        ("what time is that in london? my cto is there", "inform_timezone", "ask_meeting"),
        ("please cancel my meeting", "cancel_meeting", "cancel_meeting"),
        ("I'd like to book a meeting", "book_meeting", "book_meeting"),
    ],
)
def test_the_guard_takes_a_question_as_a_question(text, classified, expected):
    ranking = [(classified, 0.8), ("ask_meeting", 0.1), ("nlu_fallback", 0.05)]
    assert decide(text, classified, 0.8, ranking, 0.5).intent == expected


async def test_two_questions_in_one_message_get_two_answers(service, store):
    add_queue(store, meeting=45)
    messages, _ = await _ask("hola buenas, cuanto dura la reunion? y con quien seria, con un vendedor?", slots={"language": "es"})
    said = _texts(messages)
    assert "45" in said and "equipo" in said
    messages, events = await _ask("how much is it, and my export is broken too?")
    assert sum("get back to you" in (m.get("text") or "") for m in messages) == 1  # the way on, once


@pytest.mark.parametrize(
    ("text", "classified", "expected"),
    [
        ("can i book a chat with someone about your pro plan", "ask_meeting", "book_meeting"),
        ("quiero agendar una demo y que venga tambien mi socio, pablo@acosta.example se puede?", "ask_meeting", "book_meeting"),
        ("how long is the meeting i booked?", "book_meeting", "ask_meeting"),
        ("who booked this meeting?", "ask_meeting", "ask_meeting"),
    ],
)
def test_a_booking_asked_for_with_a_topic_is_a_booking(text, classified, expected):
    assert decide(text, classified, 0.8, [(classified, 0.8)], 0.5).intent == expected
