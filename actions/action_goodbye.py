"""action_goodbye: says `goodbye` (bot/i18n/texts.py) in the visitor's language."""

from actions.common import SayAction


class ActionGoodbye(SayAction):
    key = "goodbye"
