"""action_ask_email: the booking form's question for `email` (text `ask_email` in bot/i18n/texts.py)."""

from actions.common import AskAction


class ActionAskEmail(AskAction):
    slot = "email"
