"""action_set_timezone: "I'm in Tokyo" / "show times in CET" → times shown in that zone from now
on; when slots were on screen, they are offered again in the new zone."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import apply, context_events, lang
from bot.i18n import zone_label
from bot.i18n.places import find_zone
from bot.i18n.texts import say


class ActionSetTimezone(Action):
    def name(self) -> str:
        return "action_set_timezone"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ctx = context_events(tracker)
        apply(tracker, ctx)
        tz = find_zone((tracker.latest_message or {}).get("text") or "")
        if tz is None:
            dispatcher.utter_message(text=say("timezone_unknown", lang(tracker)))
            return ctx
        events = [*ctx, SlotSet("timezone", tz.key), SlotSet("timezone_stated", True)]
        apply(tracker, events)
        dispatcher.utter_message(
            text=say("timezone_changed", lang(tracker), zone=zone_label(tz, tracker.get_slot("locale") or "en"))
        )
        said_time = any(e.get("name") == "time_pref" for e in ctx)
        if tracker.get_slot("offer_cursor") or said_time:
            # Slots were shown, or the message also says when ("I'm in Chicago, tomorrow
            # morning?"): offer (again) in the new zone, inside what was asked or the working day.
            from actions.action_offer_slots import ActionOfferSlots

            events += await ActionOfferSlots().run(dispatcher, tracker, domain)
        return events
