"""action_answer_question: a question about the meeting, answered from what the product knows.

Who the visitor meets, how long it takes, on what tool, what time that is in another city, what
happens next, bringing a colleague — before a booking about the queue (the agent is picked when
booking: "one of our team"), after it about this conversation's booking. Questions the product
cannot answer (price, product, support) get an honest answer and an offer: a meeting, or someone
getting back to them. Nothing is started: no form, no new offer, no cancel question; times on
screen stay valid and the visitor's zone stays as it is ("what time is that in New York?" is an
answer, not a change of zone).

``answer_question`` is also called by the booking form when a question comes instead of the
answer; the form then asks its question again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import apply, call, context_events, lang, latest_booking, requested_slot
from bot.dialogue.answers import find_emails
from bot.dialogue.questions import asked_topics, topic
from bot.errors import BotError
from bot.i18n import format_slot, zone, zone_label
from bot.i18n.detect import fold
from bot.i18n.places import find_zone
from bot.i18n.texts import say
from bot.ops import runtime

log = logging.getLogger(__name__)

#: The tool a provider's meetings are on (``local``: our own video room, named in the text).
TOOLS = {"google": "Google Meet", "microsoft": "Microsoft Teams"}
#: Tools a visitor may ask about by name, folded word → how we write it.
ASKED_TOOLS = {
    "zoom": "Zoom", "teams": "Microsoft Teams", "meet": "Google Meet", "webex": "Webex", "skype": "Skype",
    "whatsapp": "WhatsApp", "jitsi": "Jitsi", "gotomeeting": "GoToMeeting",
}  # fmt: skip
UNANSWERABLE = ("price", "product", "support")
#: GuestError.reason → what the visitor is told.
GUEST_ERRORS = {"invalid": "guest_invalid", "agent": "guest_agent", "too_many": "guest_too_many"}


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ctx = context_events(tracker)
        apply(tracker, ctx)
        text = (tracker.latest_message or {}).get("text") or ""
        return ctx + await answer_question(dispatcher, tracker, text)


async def answer_question(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> list[EventType]:
    """Answer each question in ``text`` ("how long is it? and who with?" gets both), or say what
    can be asked when no topic is recognised."""
    language = lang(tracker)
    about = asked_topics(text) or [t for t in (topic(text),) if t]
    svc = runtime.service()
    try:
        booking = await latest_booking(tracker)
        facts = await call(svc.meeting_facts, tracker.get_slot("queue"), tracker.sender_id)
    except BotError as exc:
        log.warning("answering a question: %s", exc)
        dispatcher.utter_message(text=say("offer_failed", language))
        return []
    events: list[EventType] = []
    offered = False  # a way on (callback, meeting) is offered once, after the first honest "I can't"
    for name in about[:3]:
        events += await _answer(dispatcher, tracker, name, text, booking, facts, offer=not offered)
        offered = offered or name in UNANSWERABLE
    if not about:
        dispatcher.utter_message(text=say("q_general", language))
    if facts["shown"] and not booking and requested_slot(tracker) is None and about[:1] != ["zone"]:
        dispatcher.utter_message(text=say("times_still_open", language))
    return events


async def _answer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    about: str,
    text: str,
    booking: dict[str, Any] | None,
    facts: dict,
    *,
    offer: bool = True,
) -> list[EventType]:
    language = lang(tracker)
    locale = tracker.get_slot("locale") or language
    tz = zone(tracker.get_slot("timezone"), facts["timezone"])
    if about == "guest":
        return await _guests(dispatcher, tracker, text, booking)
    if about == "who":
        if booking:
            dispatcher.utter_message(text=say("q_who_booked", language, agent=booking["agent_name"]))
        else:
            dispatcher.utter_message(text=say("q_who_before", language))
    elif about == "length":
        minutes = _minutes(booking) or facts["minutes"]
        dispatcher.utter_message(text=say("q_length", language, minutes=minutes))
    elif about == "medium":
        dispatcher.utter_message(text=_medium(text, booking, facts["tools"], language))
    elif about == "zone":
        dispatcher.utter_message(text=_elsewhere(text, booking, facts["shown"], tz, locale, language))
    elif about == "next":
        if booking:
            dispatcher.utter_message(text=say("q_next_booked", language, email=booking["visitor_email"]))
        else:
            dispatcher.utter_message(text=say("q_next_before", language))
    elif about in UNANSWERABLE:
        dispatcher.utter_message(text=say(f"q_{about}", language))
        if not offer:
            return []
        if booking:
            when = format_slot(_start(booking), zone(booking["timezone"], facts["timezone"]), locale)
            dispatcher.utter_message(text=say("q_ask_in_meeting", language, agent=booking["agent_name"], when=when))
        elif tracker.get_slot("email") and requested_slot(tracker) is None:
            # Someone can get back to them: "yes" stores the callback (rule of callback_offered).
            dispatcher.utter_message(text=say("q_offer_callback", language))
            return [SlotSet("callback_offered", True)]
        else:
            dispatcher.utter_message(text=say("q_offer_meeting", language))
    return []


def _start(booking: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(booking["start"].replace("Z", "+00:00"))


def _minutes(booking: dict[str, Any] | None) -> int | None:
    if not booking:
        return None
    end = datetime.fromisoformat(booking["end"].replace("Z", "+00:00"))
    return int((end - _start(booking)).total_seconds() // 60)


def _tool(provider: str, language: str) -> str:
    if provider in TOOLS:
        return TOOLS[provider]
    return say("tool_none" if provider == "none" else "tool_local", language)


def _medium(text: str, booking: dict[str, Any] | None, tools: list[str], language: str) -> str:
    folded = fold(text)
    asked = next((name for word, name in ASKED_TOOLS.items() if word in folded.split() or f"{word}?" in folded), None)
    if booking:
        provider = booking["provider"] if booking.get("conference_url") or booking["provider"] != "local" else "none"
        ours = _tool(provider, language)
        if booking.get("conference_url"):
            line = say("q_medium_booked", language, tool=ours, url=booking["conference_url"])
        else:
            line = say("q_medium_booked_nolink", language, tool=ours)
        theirs = [TOOLS.get(booking["provider"])]
    else:
        names = [_tool(t, language) for t in tools] or [_tool("local", language)]
        ours = names[0]
        if len(names) > 1:
            ours = say("tool_either", language, first=", ".join(names[:-1]), second=names[-1])
        line = say("q_medium_before", language, tool=ours)
        theirs = [TOOLS.get(t) for t in tools]
    if asked and asked not in theirs:
        return say("q_medium_not", language, asked=asked) + " " + line
    return line


def _elsewhere(
    text: str, booking: dict[str, Any] | None, shown: list[datetime], tz: Any, locale: str, language: str
) -> str:
    place = find_zone(text)
    if place is None:
        return say("q_zone_unknown", language)
    label = zone_label(place, locale)
    if booking:
        return say("q_zone_booked", language, time=format_slot(_start(booking), place, locale), zone=label)
    if shown:
        pairs = [f"{format_slot(s, tz, locale)} → {format_slot(s, place, locale)}" for s in shown]
        return say("q_zone_shown", language, zone=label) + "\n" + "\n".join(pairs)
    return say("q_zone_nothing", language, zone=label)


async def _guests(
    dispatcher: CollectingDispatcher, tracker: Tracker, text: str, booking: dict[str, Any] | None
) -> list[EventType]:
    """"Can I bring a colleague? anna@acme.com": invited now (after booking) or with the booking."""
    language = lang(tracker)
    emails = [e for e in find_emails(text) if e != (tracker.get_slot("email") or "").lower()]
    if not emails:
        dispatcher.utter_message(text=say("guest_ask", language))
        return []
    if booking is None:
        known = list(tracker.get_slot("guests") or [])
        merged = known + [e for e in emails if e not in known]
        dispatcher.utter_message(text=say("guest_noted", language, emails=", ".join(emails)))
        return [SlotSet("guests", merged)]
    try:
        await call(runtime.service().add_guests, booking["id"], emails)
    except BotError as exc:  # GuestError says why (``reason``); anything else is an outage
        key = GUEST_ERRORS.get(getattr(exc, "reason", ""), "guest_failed")
        if key == "guest_failed":
            log.warning("adding guests to %s failed: %s", booking["id"], exc)
        dispatcher.utter_message(text=say(key, language, emails=", ".join(emails)))
        return []
    dispatcher.utter_message(text=say("guest_added", language, emails=", ".join(emails)))
    return []
