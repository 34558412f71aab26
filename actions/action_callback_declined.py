"""action_callback_declined: says `callback_declined` (bot/i18n/texts.py) in the visitor's language."""

from actions.common import SayAction


class ActionCallbackDeclined(SayAction):
    key = "callback_declined"
