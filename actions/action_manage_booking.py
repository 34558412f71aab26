"""action_manage_booking: "cancel my appointment", "I need to move my meeting", or the e-mail and
booking code the visitor sends when asked.

The visitor is identified by this conversation (the meeting booked here), else by the e-mail
address and booking code from the confirmation e-mail — both must match one upcoming meeting.
Then: to cancel, ask first (yes/no buttons); to move, offer new times, the same agent's first.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import apply, call, context_events, lang, show_offers
from bot.dialogue.answers import find_code
from bot.dialogue.visitor import clean_email
from bot.errors import BookingError
from bot.i18n import format_when, zone, zone_label
from bot.i18n.texts import say
from bot.ops import runtime

log = logging.getLogger(__name__)

#: Wrong e-mail/code pairs one conversation may try before we stop looking codes up.
MAX_TRIES = 5
INTENTS = {"cancel_meeting": "cancel", "reschedule_meeting": "reschedule"}


def when_of(b: dict[str, Any], tracker: Tracker) -> tuple[str, str]:
    tz = zone(tracker.get_slot("timezone") or b.get("timezone"))
    locale = tracker.get_slot("locale") or b.get("locale") or "en"
    start, end = (datetime.fromisoformat(b[k].replace("Z", "+00:00")) for k in ("start", "end"))
    return format_when(start, end, tz, locale), zone_label(tz, locale)


class ActionManageBooking(Action):
    def name(self) -> str:
        return "action_manage_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ctx = context_events(tracker)
        apply(tracker, ctx)
        language = lang(tracker)
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        want = INTENTS.get(intent) or tracker.get_slot("manage_intent")
        events: list[EventType] = [SlotSet("manage_intent", want), SlotSet("cancel_offered", False)]
        svc = runtime.service()
        booking = await self._find(tracker, intent, svc)
        if booking is None:
            if intent == "give_booking_code":
                tries = int(tracker.get_slot("manage_tries") or 0) + 1
                key = "manage_too_many_tries" if tries >= MAX_TRIES else "manage_not_found"
                dispatcher.utter_message(text=say(key, language))
                return ctx + events + [SlotSet("manage_tries", float(tries))]
            dispatcher.utter_message(text=say("manage_ask_code", language))
            return ctx + events
        events.append(SlotSet("manage_booking", booking["id"]))
        when, zone_name = when_of(booking, tracker)
        agent = booking["agent_name"]
        if want == "cancel":
            dispatcher.utter_message(
                text=say("cancel_confirm", language, agent=agent, when=when, zone=zone_name),
                buttons=[
                    {"title": say("cancel_yes", language), "payload": "/affirm"},
                    {"title": say("cancel_no", language), "payload": "/deny"},
                ],
            )
            return ctx + events + [SlotSet("cancel_offered", True)]
        if want == "reschedule":
            return ctx + events + await self._offer_moves(dispatcher, tracker, booking, when)
        dispatcher.utter_message(
            text=say("manage_which", language, agent=agent, when=when, zone=zone_name),
            buttons=[
                {"title": say("manage_move_button", language), "payload": "/reschedule_meeting"},
                {"title": say("manage_cancel_button", language), "payload": "/cancel_meeting"},
            ],
        )
        return ctx + events

    @staticmethod
    async def _find(tracker: Tracker, intent: str | None, svc: Any) -> dict[str, Any] | None:
        """The booking this visitor means: found earlier in this conversation, by the e-mail and
        code they just sent, or the next one booked in this conversation."""
        known = tracker.get_slot("manage_booking")
        if intent == "give_booking_code":
            if int(tracker.get_slot("manage_tries") or 0) >= MAX_TRIES:
                return None
            text = (tracker.latest_message or {}).get("text") or ""
            email = clean_email(text) or tracker.get_slot("email")
            code = find_code(text)
            if not email or not code:
                return None
            found = await call(svc.find_bookings, email=email, code=code)
            return found[0] if found else None
        if isinstance(known, str):
            found = await call(svc.get_booking, known)
            if found and found["status"] == "confirmed":
                return found
        found = await call(svc.find_bookings, conversation_id=tracker.sender_id)
        return found[0] if found else None

    @staticmethod
    async def _offer_moves(
        dispatcher: CollectingDispatcher, tracker: Tracker, booking: dict[str, Any], when: str
    ) -> list[EventType]:
        language = lang(tracker)
        svc = runtime.service()
        try:
            page, same = await call(svc.offer_reschedule, tracker.sender_id, booking["id"])
        except BookingError as exc:
            log.info("cannot move %s: %s", booking["id"], type(exc).__name__)
            dispatcher.utter_message(text=say("meeting_started", language))
            return []
        if not page.slots:
            dispatcher.utter_message(text=say("reschedule_none", language, when=when))
            return []
        key = "reschedule_offer" if same == len(page.slots) else "reschedule_offer_mixed" if same else "reschedule_offer_others"
        return show_offers(dispatcher, tracker, page, say(key, language, agent=booking["agent_name"], when=when))
