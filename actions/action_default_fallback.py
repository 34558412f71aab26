"""action_default_fallback: Rasa's fallback (low NLU or dialogue confidence), answered honestly
in the visitor's language; replaces Rasa's default, which would need a domain response.

What the message said is kept even so: a time ("tuesday afternoon maybe") is answered with times,
a zone or a correction of the e-mail or name is taken and acknowledged — after a booking, the
booking's attendee is corrected too and the confirmation sent again. The context slots are set
after the UserUtteranceReverted, which would otherwise undo them with the message.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.common import apply, call, context_events, lang, latest_booking, requested_slot
from bot.dialogue.answers import corrected_email, stated_name
from bot.dialogue.lexicon import says_resume
from bot.errors import BotError
from bot.i18n.texts import say
from bot.ops import runtime


class ActionDefaultFallback(Action):
    def name(self) -> str:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ctx = context_events(tracker)
        apply(tracker, ctx)
        language = lang(tracker)
        if requested_slot(tracker) is None:
            text = (tracker.latest_message or {}).get("text") or ""
            intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
            pending = tracker.get_slot("cancel_offered") or tracker.get_slot("callback_offered")
            goes_on = _had_booking_turn(tracker) or (intent == "affirm" and _last_action(tracker) in ANSWERS)
            if not pending and (says_resume(text) or intent == "affirm") and goes_on:
                # "ok, doch, lass es uns jetzt machen" after a "no" the rules did not catch as a
                # stop: go on with the booking (the form asks only what is missing). "ok cool that
                # works, lets set one up then" after an answer to a question about the meeting:
                # the visitor is satisfied and wants it.
                return [*ctx, SlotSet("booking_stopped", False), FollowupAction("booking_form")]
            email = corrected_email(text, tracker.get_slot("email")) if tracker.get_slot("email") else None
            name = stated_name(text) if tracker.get_slot("first_name") else None
            if email or name:
                fixed: list[EventType] = []
                if email:
                    fixed.append(SlotSet("email", email))
                if name:
                    fixed.append(SlotSet("first_name", name))
                said = await _correct_booking(tracker, email, name)
                if said is None:  # no booking yet: the next one uses the corrected details
                    if email:
                        dispatcher.utter_message(text=say("email_corrected", language, email=email))
                    if name:
                        dispatcher.utter_message(text=say("name_corrected", language, name=name))
                else:
                    key, address = said
                    dispatcher.utter_message(text=say(key, language, email=address))
                return [UserUtteranceReverted(), *ctx, *fixed]
            if any(e.get("name") in ("time_pref", "timezone_stated") for e in ctx):
                # Not understood as a whole, but it says when (or where): answer with times.
                from actions.action_offer_slots import ActionOfferSlots

                offered = await ActionOfferSlots().run(dispatcher, tracker, domain)
                return [UserUtteranceReverted(), *_since_user(tracker), *ctx, *offered]
        dispatcher.utter_message(text=say("default", language))
        return [UserUtteranceReverted(), *_since_user(tracker), *ctx]


async def _correct_booking(tracker: Tracker, email: str | None, name: str | None) -> tuple[str, str] | None:
    """Correct this conversation's latest upcoming booking, if it has one: (text key, address the
    confirmation went to). None when there is no booking to correct."""
    latest = await latest_booking(tracker)
    if latest is None:
        return None
    try:
        fixed = await call(runtime.service().correct_visitor, latest["id"], email=email, first_name=name)
    except BotError:
        return "booking_correct_failed", latest["visitor_email"]
    return "booking_corrected", fixed["visitor_email"]


#: Actions that answer a question: a yes right after one (with no yes/no question pending) is a
#: yes to the meeting the question was about.
ANSWERS = ("action_answer_question", "action_out_of_scope")


def _last_action(tracker: Tracker) -> str | None:
    """The bot's last action before this message (not counting listening)."""
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") != "action_listen":
            return event.get("name")
    return None


def _had_booking_turn(tracker: Tracker) -> bool:
    """Whether this conversation already went towards a booking: the form ran or times were shown
    in the recent turns the tracker holds (bot/rasa_ext/tracker_store.py), or the slots say so
    (times on screen, a booking stopped)."""
    return (
        any(
            e.get("event") == "action" and e.get("name") in ("booking_form", "action_offer_slots")
            for e in tracker.events
        )
        or bool(tracker.get_slot("offer_cursor"))
        or tracker.get_slot("booking_stopped") is not None
    )


def _since_user(tracker: Tracker) -> list[EventType]:
    """The slots set after the visitor's message by earlier actions of this turn, set again after
    the revert (which would otherwise undo them with the message)."""
    out: list[EventType] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "slot":
            out.insert(0, SlotSet(event["name"], event.get("value")))
    return out
