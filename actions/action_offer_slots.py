"""action_offer_slots: the next open slots of the queue as buttons; "other times" pages on."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import apply, context_events, cursor, offer
from bot.texts import say


class ActionOfferSlots(Action):
    def name(self) -> str:
        return "action_offer_slots"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ctx = context_events(tracker)
        apply(tracker, ctx)
        more = (tracker.latest_message or {}).get("intent", {}).get("name") == "more_slots"
        after = cursor(tracker) if more else None
        intro = say("offer_more") if after else say("offer_intro")
        return ctx + await offer(dispatcher, tracker, intro=intro, after=after)
