"""action_request_callback: no free time → store the visitor's e-mail for an agent to call back."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import apply, call, context_events, lang, visitor
from bot.errors import BotError
from bot.i18n.texts import say
from bot.ops import runtime


class ActionRequestCallback(Action):
    def name(self) -> str:
        return "action_request_callback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ctx = context_events(tracker)
        apply(tracker, ctx)
        if not tracker.get_slot("email"):
            dispatcher.utter_message(text=say("need_details_first", lang(tracker)))
            return ctx + [FollowupAction("booking_form")]
        svc = runtime.service()
        try:
            queue = await call(svc.queue_info, tracker.get_slot("queue"))
            await call(
                svc.request_callback, tracker.sender_id, tracker.get_slot("queue"), visitor(tracker, queue.timezone)
            )
        except BotError:
            dispatcher.utter_message(text=say("offer_failed", lang(tracker)))
            return ctx
        dispatcher.utter_message(text=say("callback_stored", lang(tracker), email=tracker.get_slot("email")))
        return ctx + [SlotSet("callback_offered", False)]
