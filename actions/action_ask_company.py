"""action_ask_company: the booking form's question for `company` (text `ask_company` in bot/i18n/texts.py)."""

from actions.common import AskAction


class ActionAskCompany(AskAction):
    slot = "company"
