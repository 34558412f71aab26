"""action_offer_slots: open times as buttons, inside what the visitor asked for ("next Tuesday
afternoon", "not before 9", kept from any earlier message), else inside the visitor's working
day; "other times" pages on; a time clicked before the details is booked once they are given."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.action_book_slot import book_offer
from actions.common import HORIZON_DAYS, apply, call, context_events, cursor, lang, offer, offer_in_turn
from bot.i18n import format_window, zone
from bot.i18n.texts import say
from bot.ops import runtime
from bot.scheduling import Interval
from bot.scheduling.preferences import TimePref, around, windows


class ActionOfferSlots(Action):
    def name(self) -> str:
        return "action_offer_slots"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ctx = context_events(tracker)
        apply(tracker, ctx)
        chosen = tracker.get_slot("chosen_slot")
        if isinstance(chosen, str) and chosen and tracker.get_slot("email"):
            # A time clicked before the details: book it now (or say why not and offer others).
            tracker.slots["chosen_slot"] = None
            return ctx + [SlotSet("chosen_slot", None)] + await book_offer(dispatcher, tracker, chosen)
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        language = lang(tracker)
        svc = runtime.service()
        queue = await call(svc.queue_info, tracker.get_slot("queue"))
        tz = zone(tracker.get_slot("timezone"), queue.timezone)
        pref = TimePref.from_slot(tracker.get_slot("time_pref"))
        said_time = any(e.get("name") == "time_pref" for e in ctx)
        # "Other times?" pages on — unless the same message asks for another time ("none of
        # those, anything Thursday morning?"): then Thursday morning from its start.
        after = cursor(tracker) if intent == "more_slots" and not said_time else None
        wins = windows(pref, tz, svc.clock(), HORIZON_DAYS)
        extra: list[EventType] = [SlotSet("booking_stopped", False)] if tracker.get_slot("booking_stopped") else []
        if pref is not None and not pref.is_empty():
            intro = say("offer_more", language) if after else self._intro(pref, wins, tz, tracker, language)
            events = await offer(dispatcher, tracker, intro=intro, after=after, within=wins, quiet=True)
            if events is not None:
                return ctx + extra + events
            # The nearest times: on the same day a little before or after, else at the hours
            # asked for on the next working days ("tomorrow 2-4pm" on a Saturday: Monday 2-4pm),
            # else in the working day.
            nearest = after or (wins[0].start if wins else None)
            intro = self._none(pref, wins, tz, tracker, language)
            near = around(pref)
            if near is not None and after is None:  # the same day, a little before or after
                events = await offer(
                    dispatcher, tracker, intro=intro, within=windows(near, tz, svc.clock(), HORIZON_DAYS), quiet=True
                )
                if events is not None:
                    return ctx + extra + events
            tries = [windows(None, tz, svc.clock(), HORIZON_DAYS)]
            if pref.first is not None and (pref.lo is not None or pref.hi is not None or pref.at is not None):
                tries.insert(0, windows(replace(pref, first=None, last=None), tz, svc.clock(), HORIZON_DAYS))
            return ctx + extra + await offer_in_turn(dispatcher, tracker, intro=intro, after=nearest, tries=tries)
        intro = say("offer_more", language) if after else say("offer_intro", language)
        events = await offer(dispatcher, tracker, intro=intro, after=after, within=wins, quiet=True)
        if events is not None:
            return ctx + extra + events
        # Nothing inside the visitor's working day in the booking window: say so, show the others.
        intro = say("no_slots_in_workday", language) if after is None else say("offer_more", language)
        return ctx + extra + await offer(dispatcher, tracker, intro=intro, after=after)

    @staticmethod
    def _one_window(pref: TimePref, wins: list[Interval]) -> Interval | None:
        return wins[0] if pref.first is not None and pref.first == pref.last and len(wins) == 1 else None

    def _intro(self, pref: TimePref, wins: list[Interval], tz: Any, tracker: Tracker, language: str) -> str:
        one = self._one_window(pref, wins)
        if one is None:
            return say("offer_pref", language)
        return say("offer_window", language, window=format_window(one, tz, tracker.get_slot("locale") or language))

    def _none(self, pref: TimePref, wins: list[Interval], tz: Any, tracker: Tracker, language: str) -> str:
        one = self._one_window(pref, wins)
        if one is None:
            return say("no_slots_in_pref", language)
        return say(
            "no_slots_in_window", language, window=format_window(one, tz, tracker.get_slot("locale") or language)
        )
