"""action_session_start: open the session and keep what the widget's metadata says."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted
from rasa_sdk.executor import CollectingDispatcher

from actions.common import context_events


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        # Over REST the first message's metadata arrives here; over socket.io (rasa-webchat)
        # the session opens before any metadata, and later actions read it from each message.
        return [SessionStarted(), *context_events(tracker), ActionExecuted("action_listen")]
