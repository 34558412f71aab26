"""action_change_by_email: says `change_by_email` (bot/texts.py) in the visitor's language."""

from actions.common import SayAction


class ActionChangeByEmail(SayAction):
    key = "change_by_email"
