"""action_greet: says `greet` (bot/i18n/texts.py) in the visitor's language."""

from actions.common import SayAction


class ActionGreet(SayAction):
    key = "greet"
