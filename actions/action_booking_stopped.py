"""action_booking_stopped: the visitor stopped the form; nothing was booked."""

from __future__ import annotations

from rasa_sdk.events import EventType, SlotSet

from actions.common import SayAction


class ActionBookingStopped(SayAction):
    key = "booking_stopped"

    def after(self, tracker) -> list[EventType]:  # noqa: ANN001
        # "ok, let's do it now" resumes (data/rules/booking.yml); the clicked time is let go.
        return [SlotSet("requested_slot", None), SlotSet("booking_stopped", True), SlotSet("chosen_slot", None)]
