"""The web app: chat page, chat proxy to Rasa's REST channel, local meeting rooms, health."""

from bot.web.app import create_app

__all__ = ["create_app"]
