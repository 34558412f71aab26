"""action_keep_booking: "no" to "Do you want to cancel your meeting …?" keeps it."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.common import SayAction


class ActionKeepBooking(SayAction):
    key = "cancel_kept"

    def name(self) -> str:
        return "action_keep_booking"

    def after(self, tracker: Tracker) -> list[EventType]:
        return [SlotSet("cancel_offered", False), SlotSet("manage_intent", None)]
