"""action_change_language: "can we speak French?" → the conversation continues in French."""

from actions.common import SayAction


class ActionChangeLanguage(SayAction):
    # context_events() reads the requested language and records the choice; this says so.
    key = "language_switched"

    def name(self) -> str:
        return "action_change_language"
