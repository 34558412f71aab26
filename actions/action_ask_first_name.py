"""action_ask_first_name: the booking form's question for `first_name` (text `ask_first_name` in bot/i18n/texts.py)."""

from actions.common import AskAction


class ActionAskFirstName(AskAction):
    slot = "first_name"
