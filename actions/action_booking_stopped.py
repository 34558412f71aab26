"""action_booking_stopped: the visitor stopped the form; nothing was booked."""

from __future__ import annotations

from rasa_sdk.events import EventType, SlotSet

from actions.common import SayAction


class ActionBookingStopped(SayAction):
    key = "booking_stopped"

    def after(self, tracker) -> list[EventType]:  # noqa: ANN001
        return [SlotSet("requested_slot", None)]
