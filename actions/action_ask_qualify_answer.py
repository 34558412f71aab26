"""action_ask_qualify_answer: the booking form asks the routing file's qualification question that
a rule needs (routing.yml questions:), in the visitor's language; a choice comes as buttons."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import lang, question


class ActionAskQualifyAnswer(Action):
    def name(self) -> str:
        return "action_ask_qualify_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        asked = question(tracker)
        if asked is None:
            return []
        language = lang(tracker)
        # A button sends its label as typed text: the form reads it like a typed answer.
        buttons = [{"title": label, "payload": label} for label in asked.buttons(language)]
        dispatcher.utter_message(text=asked.ask(language), buttons=buttons or None)
        return []
