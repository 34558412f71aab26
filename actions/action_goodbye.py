"""action_goodbye: says `goodbye` (bot/texts.py) in the visitor's language."""

from actions.common import SayAction


class ActionGoodbye(SayAction):
    key = "goodbye"
