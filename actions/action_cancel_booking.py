"""action_cancel_booking: "yes" to "Do you want to cancel your meeting …?" cancels it.

Only right after that question: a "yes" later in the conversation (to something else) must not
cancel a meeting, so the action checks that the bot's last action asked it."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.action_manage_booking import when_of
from actions.common import apply, call, context_events, lang
from bot.errors import AlreadyCancelled, BookingInPast, BookingNotFound, ProviderError
from bot.i18n.texts import say
from bot.ops import runtime

log = logging.getLogger(__name__)


def asked_to_cancel(tracker: Tracker) -> bool:
    """Whether the bot's last action before the visitor's answer was the cancel question."""
    seen_user = False
    for e in reversed(tracker.events):
        if e.get("event") == "user":
            if seen_user:
                return False
            seen_user = True
        elif seen_user and e.get("event") == "action" and e.get("name") not in ("action_listen", None):
            return e.get("name") == "action_manage_booking"
    return False


class ActionCancelBooking(Action):
    def name(self) -> str:
        return "action_cancel_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ctx = context_events(tracker)
        apply(tracker, ctx)
        language = lang(tracker)
        done = [SlotSet("cancel_offered", False)]
        booking_id = tracker.get_slot("manage_booking")
        if not isinstance(booking_id, str) or not asked_to_cancel(tracker):
            dispatcher.utter_message(text=say("cancel_kept", language))
            return ctx + done
        svc = runtime.service()
        try:
            b = await call(svc.cancel, booking_id)
        except AlreadyCancelled:
            dispatcher.utter_message(text=say("already_cancelled", language))
            return ctx + done
        except BookingInPast:
            dispatcher.utter_message(text=say("meeting_started", language))
            return ctx + done
        except BookingNotFound:
            dispatcher.utter_message(text=say("manage_not_found", language))
            return ctx + done
        except ProviderError as exc:
            log.warning("cancel of %s failed at the provider: %s", booking_id, type(exc).__name__)
            dispatcher.utter_message(text=say("cancel_failed", language))
            return ctx + done
        when, _zone = when_of(b, tracker)
        dispatcher.utter_message(text=say("cancelled_in_chat", language, agent=b["agent_name"], when=when))
        return ctx + done + [SlotSet("manage_booking", None), SlotSet("manage_intent", None)]
