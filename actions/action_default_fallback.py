"""action_default_fallback: Rasa's fallback (low NLU or dialogue confidence), answered honestly
in the visitor's language; replaces Rasa's default, which would need a domain response."""

from __future__ import annotations

from rasa_sdk.events import EventType, UserUtteranceReverted

from actions.common import SayAction


class ActionDefaultFallback(SayAction):
    key = "default"

    def name(self) -> str:
        return "action_default_fallback"

    def after(self, tracker) -> list[EventType]:  # noqa: ANN001
        return [UserUtteranceReverted()]
