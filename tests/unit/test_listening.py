"""The assistant listens (issue 16), action by action, model-free: what a message says about
time, zone, names and corrections is kept and honoured. The service clock is Tuesday
1 December 2026, 08:00 UTC (tests/conftest.py)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from actions.action_book_slot import ActionBookSlot
from actions.action_default_fallback import ActionDefaultFallback
from actions.action_offer_slots import ActionOfferSlots
from actions.validate_booking_form import ValidateBookingForm
from bot.booking import Visitor
from bot.store.models import Offer
from tests.helpers import add_queue, make_tracker, run, slot_events

KNOWN = {"email": "kim@example.com", "first_name": "Kim", "company": "Globex"}
ALL_WEEK = [(d, 0, 24 * 60) for d in range(7)]  # an agent free at any hour: only the visitor's words limit


def offered(store, messages, tz: str):
    ids = [b["payload"].split('"slot_id":"')[1].rstrip('"}') for m in messages for b in m.get("buttons", [])]
    with store.session() as s:
        rows = {o.id: o for o in s.execute(select(Offer).where(Offer.id.in_(ids))).scalars()}
        return [(rows[i].start.astimezone(ZoneInfo(tz)), rows[i].end.astimezone(ZoneInfo(tz))) for i in ids]


def form_answer(slot: str, text: str, slots: dict | None = None):
    return make_tracker(
        text=text,
        events=[{"event": "slot", "name": slot, "value": text}],
        slots={**(slots or {}), slot: text, "requested_slot": slot},
        active_loop="booking_form",
    )


async def test_a_time_in_the_first_message_is_kept_and_honoured(service, store):
    add_queue(store, agents=[("Ada", "Europe/London", ALL_WEEK)])
    first = make_tracker(text="can I book a demo next Tuesday afternoon?", intent="book_meeting", active_loop="booking_form")
    _, events = await run(ValidateBookingForm(), first)
    pref = slot_events(events)["time_pref"]
    assert pref["first"] == "2026-12-08" and (pref["lo"], pref["hi"]) == (12 * 60, 18 * 60)
    # ... e-mail, name and company later, the offer reads the kept preference.
    messages, _ = await run(ActionOfferSlots(), make_tracker(slots={**KNOWN, "time_pref": pref}, text="Globex"))
    times = offered(store, messages, "Europe/London")
    assert times and all(s.date() == date(2026, 12, 8) and s.hour >= 12 and e.hour <= 18 for s, e in times)


async def test_no_preference_offers_only_the_visitors_working_day(service, store):
    add_queue(store, agents=[("Ada", "Europe/London", ALL_WEEK)])
    messages, _ = await run(ActionOfferSlots(), make_tracker(slots={**KNOWN, "timezone": "Europe/London"}))
    times = offered(store, messages, "Europe/London")
    assert len(times) == 5 and all(s.weekday() < 5 and 8 <= s.hour and (e.hour, e.minute) <= (19, 0) for s, e in times)


async def test_none_of_those_anything_thursday_morning(service, store):
    add_queue(store, agents=[("Ada", "Europe/London", ALL_WEEK)])
    first, events = await run(ActionOfferSlots(), make_tracker(slots=KNOWN))
    cursor = slot_events(events)["offer_cursor"]
    tracker = make_tracker(
        text="none of those work, anything Thursday morning?", intent="more_slots", slots={**KNOWN, "offer_cursor": cursor}
    )
    messages, _ = await run(ActionOfferSlots(), tracker)
    times = offered(store, messages, "Europe/London")
    assert times and all(s.date() == date(2026, 12, 3) and 8 <= s.hour and e.hour <= 12 for s, e in times)


async def test_bounds_hold_on_every_day(service, store):
    add_queue(store, agents=[("Ada", "Europe/London", ALL_WEEK)])
    messages, _ = await run(ActionOfferSlots(), make_tracker(slots=KNOWN, text="not before 9 please", intent="ask_time"))
    times = offered(store, messages, "Europe/London")
    assert times and all(s.hour >= 9 for s, _ in times)


async def test_a_stated_zone_beats_the_widgets_and_sticks(service, store):
    add_queue(store, agents=[("Ada", "Europe/London", ALL_WEEK)])
    meta = {"timezone": "Europe/London"}
    said = make_tracker(text="I'm in Chicago actually", intent="more_slots", slots=KNOWN, metadata=meta)
    messages, events = await run(ActionOfferSlots(), said)
    slots = slot_events(events)
    assert slots["timezone"] == "America/Chicago" and slots["timezone_stated"] is True
    assert "Chicago" in messages[0]["text"]
    later = make_tracker(
        text="other times?", intent="more_slots", metadata=meta,
        slots={**KNOWN, "timezone": "America/Chicago", "timezone_stated": True},
    )
    messages, events = await run(ActionOfferSlots(), later)
    assert "timezone" not in slot_events(events) and "Chicago" in messages[0]["text"]
    times = offered(store, messages, "America/Chicago")
    assert all(8 <= s.hour and (e.hour, e.minute) <= (19, 0) for s, e in times)


async def test_company_names_are_companies(service, store):
    for company in ["Ferrero", "Ferrari Srl", "Fernández SL", "Basta Pasta"]:
        _, events = await run(ValidateBookingForm(), form_answer("company", company, {"email": "a@b.co", "first_name": "A"}))
        assert slot_events(events)["company"] == company


async def test_names_out_of_sentences(service, store):
    for text, name in [("je m'appelle Jean-Pierre", "Jean-Pierre"), ("Ich heiße Katrin", "Katrin"), ("me llamo Lucía", "Lucía")]:
        _, events = await run(ValidateBookingForm(), form_answer("first_name", text, {"email": "a@b.co"}))
        assert slot_events(events)["first_name"] == name


async def test_a_corrected_email_replaces_the_withdrawn_one(service, store):
    tracker = form_answer("first_name", "oops wrong email, it's mark@acme.com", {"email": "marc@acme.com"})
    messages, events = await run(ValidateBookingForm(), tracker)
    slots = slot_events(events)
    assert slots["email"] == "mark@acme.com" and slots["first_name"] is None
    assert "mark@acme.com" in messages[0]["text"]


async def test_a_question_at_the_email_question_is_answered(service, store):
    messages, events = await run(ValidateBookingForm(), form_answer("email", "why do you need it?"))
    assert slot_events(events)["email"] is None and "invitation" in messages[0]["text"]


async def test_a_time_clicked_before_the_details_is_booked_after_the_form(service, store):
    add_queue(store, agents=[("Ada", "Europe/London", ALL_WEEK)])
    messages, _ = await run(ActionOfferSlots(), make_tracker(text="anything tomorrow afternoon?", intent="ask_time"))
    payload = messages[0]["buttons"][1]["payload"]
    offer_id = payload.split('"slot_id":"')[1].rstrip('"}')
    click = make_tracker(text=payload, intent="choose_slot", entities=[{"entity": "slot_id", "value": offer_id}])
    _, events = await run(ActionBookSlot(), click)
    assert slot_events(events)["chosen_slot"] == offer_id
    assert any(e.get("event") == "followup" and e.get("name") == "booking_form" for e in events)
    done = make_tracker(slots={**KNOWN, "chosen_slot": offer_id})
    messages, events = await run(ActionOfferSlots(), done)
    assert slot_events(events)["chosen_slot"] is None
    [booking] = service.list_bookings()
    with store.session() as s:
        assert booking["start"].startswith(s.get(Offer, offer_id).start.strftime("%Y-%m-%dT%H:%M"))
    assert booking["visitor_email"] == "kim@example.com" and booking["status"] == "confirmed"


async def test_a_fallback_that_says_when_offers_times_and_keeps_them(service, store):
    add_queue(store, agents=[("Ada", "Europe/London", ALL_WEEK)])
    earlier = [{"event": "user", "text": "x"}, {"event": "slot", "name": "timezone", "value": "America/Chicago"}]
    tracker = make_tracker(text="hmm thursday afternoon maybe", intent="nlu_fallback", slots=KNOWN, events=earlier)
    messages, events = await run(ActionDefaultFallback(), tracker)
    assert events[0]["event"] == "rewind"
    slots = slot_events(events)
    assert slots["time_pref"]["first"] == "2026-12-03"
    assert slots["timezone"] == "America/Chicago"  # set by an earlier action of the turn: kept
    times = offered(store, messages, "Europe/London")
    assert times and all(s.date() == date(2026, 12, 3) and s.hour >= 12 for s, _ in times)


async def test_a_typed_choice_that_names_a_time_gets_those_times(service, store):
    add_queue(store, agents=[("Ada", "Europe/London", ALL_WEEK)])
    tracker = make_tracker(text="could it be thursday at 3pm?", intent="choose_slot", slots=KNOWN)
    messages, _ = await run(ActionBookSlot(), tracker)
    times = offered(store, messages, "Europe/London")
    assert times and all(s.date() == date(2026, 12, 3) for s, _ in times)
    assert any(s.hour == 15 and s.minute == 0 for s, _ in times)
    assert service.list_bookings() == []


async def test_yes_after_a_no_the_rules_missed_goes_on_with_the_booking(service, store):
    before = [{"event": "action", "name": "action_offer_slots"}, {"event": "user", "text": "ach nee, lass mal"}]
    tracker = make_tracker(text="ok, doch, lass es uns jetzt machen", intent="affirm", slots=KNOWN, events=before)
    messages, events = await run(ActionDefaultFallback(), tracker)
    assert messages == [] and events[-1]["event"] == "followup" and events[-1]["name"] == "booking_form"
    fresh = make_tracker(text="ok, let's do it", intent="affirm", slots=KNOWN)  # nothing to go on with
    messages, events = await run(ActionDefaultFallback(), fresh)
    assert messages and events[-1]["event"] != "followup"


async def test_yes_after_an_answered_question_starts_the_booking(service, store):
    answered = [
        {"event": "user", "text": "how long are these calls usually?"},
        {"event": "action", "name": "action_answer_question"},
        {"event": "bot", "text": "About 30 minutes."},
        {"event": "action", "name": "action_listen"},
    ]
    tracker = make_tracker(text="ok cool that works, lets set one up then", intent="affirm", slots=KNOWN, events=answered)
    messages, events = await run(ActionDefaultFallback(), tracker)
    assert messages == [] and events[-1]["event"] == "followup" and events[-1]["name"] == "booking_form"
    greeted = [*answered[:1], {"event": "action", "name": "action_greet"}, *answered[2:]]
    tracker = make_tracker(text="ok cool", intent="affirm", slots=KNOWN, events=greeted)
    messages, events = await run(ActionDefaultFallback(), tracker)
    assert messages and events[-1]["event"] != "followup"  # a yes to a greeting starts nothing
    offered = make_tracker(
        text="yes please", intent="affirm", slots={**KNOWN, "callback_offered": True}, events=answered
    )
    messages, events = await run(ActionDefaultFallback(), offered)
    assert events[-1]["event"] != "followup"  # a yes to "shall someone get back to you?" is not a booking


async def test_a_correction_after_booking_corrects_the_booking_and_resends_the_confirmation(service, store):
    add_queue(store, agents=[("Ada", "Europe/London", ALL_WEEK)])
    offer = service.offer_slots("visitor-1", "sales", count=1).slots[0]
    booking = service.book("visitor-1", offer.id, Visitor(email="kim@example.com", first_name="Kim", company_name="Globex"))
    tracker = make_tracker(text="oops wrong email, it's mark@acme.com", intent="nlu_fallback", slots=KNOWN)
    messages, events = await run(ActionDefaultFallback(), tracker)
    assert slot_events(events)["email"] == "mark@acme.com"
    assert any("mark@acme.com" in (m.get("text") or "") for m in messages)
    got = service.get_booking(booking.booking_id)
    assert got["visitor_email"] == "mark@acme.com" and got["sequence"] == 1
    # Another conversation's booking is not this visitor's to correct: only the slot changes.
    other = make_tracker(sender="visitor-2", text="sorry, my name is Marc", intent="nlu_fallback", slots=KNOWN)
    messages, events = await run(ActionDefaultFallback(), other)
    assert slot_events(events)["first_name"] == "Marc"
    assert service.get_booking(booking.booking_id)["visitor_first_name"] != "Marc"


async def test_nothing_on_the_day_asked_offers_the_same_hours_on_the_next_working_day(service, store, clock):
    from tests.helpers import NINE_TO_FIVE, utc

    clock.now = utc(2026, 12, 5, 11, 0)  # a Saturday: "tomorrow" is a Sunday, the team works Mon-Fri
    add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE)])
    tracker = make_tracker(text="tomorrow between 2 and 4pm?", intent="ask_time", slots={**KNOWN, "timezone": "Europe/London"})
    messages, _ = await run(ActionOfferSlots(), tracker)
    times = offered(store, messages, "Europe/London")
    assert times and times[0][0] == datetime(2026, 12, 7, 14, 0, tzinfo=ZoneInfo("Europe/London"))
    assert all(s.weekday() < 5 and s.hour >= 14 and (e.hour, e.minute) <= (16, 0) for s, e in times)


async def test_a_time_taken_meanwhile_is_replaced_inside_the_working_day(service, store):
    add_queue(store, agents=[("Ada", "Europe/London", ALL_WEEK)])
    tracker = make_tracker(slots={**KNOWN, "timezone": "Europe/London"})
    messages, _ = await run(ActionOfferSlots(), tracker)
    first = messages[0]["buttons"][0]["payload"].split('"slot_id":"')[1].rstrip('"}')
    rival = service.offer_slots("rival", "sales", count=5)
    taken = next(s for s in rival.slots if s.start == offered(store, messages, "UTC")[0][0])
    service.book("rival", taken.id, Visitor(email="rival@example.com", first_name="Rival"))
    click = make_tracker(
        text=f'/choose_slot{{"slot_id":"{first}"}}', intent="choose_slot", slots={**KNOWN, "timezone": "Europe/London"},
        entities=[{"entity": "slot_id", "value": first}],
    )
    messages, _ = await run(ActionBookSlot(), click)
    times = offered(store, messages, "Europe/London")
    assert times and all(s.weekday() < 5 and s.hour >= 8 and (e.hour, e.minute) <= (19, 0) for s, e in times)
    assert not [b for b in service.list_bookings() if b["visitor_email"] == "kim@example.com"]


async def test_nothing_in_the_hours_asked_offers_the_nearest_times_that_day_before_and_after(service, store):
    """Thursday 2-4pm is taken: a receptionist offers Thursday a little earlier and later,
    not only Friday at 2."""
    busy_thursday = [(d, 8 * 60, 19 * 60) for d in range(5) if d != 3] + [(3, 8 * 60, 14 * 60), (3, 16 * 60, 19 * 60)]
    add_queue(store, agents=[("Ada", "Europe/London", busy_thursday)])
    tracker = make_tracker(
        text="anything thursday between 2 and 4pm?", intent="ask_time", slots={**KNOWN, "timezone": "Europe/London"}
    )
    messages, _ = await run(ActionOfferSlots(), tracker)
    times = offered(store, messages, "Europe/London")
    assert times and all(s.date() == date(2026, 12, 3) for s, _ in times)
    assert all(s.hour >= 12 and (e.hour, e.minute) <= (18, 0) for s, e in times)  # two hours either side at most
    assert any(e.hour <= 14 for _, e in times) and any(s.hour >= 16 for s, _ in times)  # before and after
    # "not before 3pm" is a bound: nothing earlier is offered, even when 3-7pm is full.
    late = [(d, 8 * 60, 19 * 60) for d in range(5) if d != 3] + [(3, 8 * 60, 15 * 60)]
    add_queue(store, slug="late", agents=[("Bo", "Europe/London", late)])
    tracker = make_tracker(
        text="thursday, not before 3pm", intent="ask_time", slots={**KNOWN, "timezone": "Europe/London", "queue": "late"}
    )
    messages, _ = await run(ActionOfferSlots(), tracker)
    assert all(s.hour >= 15 for s, _ in offered(store, messages, "Europe/London"))
