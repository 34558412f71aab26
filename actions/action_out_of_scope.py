"""action_out_of_scope: says `out_of_scope` (bot/i18n/texts.py) in the visitor's language."""

from actions.common import SayAction


class ActionOutOfScope(SayAction):
    key = "out_of_scope"
