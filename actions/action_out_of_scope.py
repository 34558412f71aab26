"""action_out_of_scope: not something the booking assistant does. A question it can still answer
honestly (price, product, support: "our team can, in a meeting"; the meeting itself) goes to
action_answer_question; anything else gets `out_of_scope` (bot/i18n/texts.py) in the visitor's
language."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.action_answer_question import answer_question
from actions.common import SayAction, apply, context_events
from bot.dialogue.questions import topic


class ActionOutOfScope(SayAction):
    key = "out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        if topic(text) is None:
            return await super().run(dispatcher, tracker, domain)
        ctx = context_events(tracker)
        apply(tracker, ctx)
        return ctx + await answer_question(dispatcher, tracker, text)
