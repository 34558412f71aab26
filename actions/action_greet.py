"""action_greet: says `greet` (bot/texts.py) in the visitor's language."""

from actions.common import SayAction


class ActionGreet(SayAction):
    key = "greet"
