"""action_offer_slots: the next open slots of the queue as buttons; "other times" pages on;
"anything Thursday afternoon?" (in any of our languages) limits the offer to that window."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import apply, call, context_events, cursor, lang, offer
from bot.i18n import format_window, zone
from bot.i18n.texts import say
from bot.i18n.timeprefs import parse_window
from bot.ops import runtime


class ActionOfferSlots(Action):
    def name(self) -> str:
        return "action_offer_slots"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ctx = context_events(tracker)
        apply(tracker, ctx)
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        language = lang(tracker)
        if intent == "ask_time":
            queue = await call(runtime.service().queue_info, tracker.get_slot("queue"))
            tz = zone(tracker.get_slot("timezone"), queue.timezone)
            window = parse_window(latest.get("text") or "", language, tz, datetime.now(timezone.utc))
            if window is not None:
                said = format_window(window, tz, tracker.get_slot("locale") or language)
                events = await offer(
                    dispatcher, tracker, intro=say("offer_window", language, window=said), within=window, quiet=True
                )
                if events is not None:
                    return ctx + events
                return ctx + await offer(
                    dispatcher, tracker, after=window.start, intro=say("no_slots_in_window", language, window=said)
                )
        more = intent == "more_slots"
        after = cursor(tracker) if more else None
        intro = say("offer_more", language) if after else say("offer_intro", language)
        return ctx + await offer(dispatcher, tracker, intro=intro, after=after)
