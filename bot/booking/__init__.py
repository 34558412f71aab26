"""The booking service. For one commit all of it lives in ``offering.py`` (the file moved
whole, so its history follows); the next commit splits it into its parts."""

from bot.booking.offering import *  # noqa: F403
from bot.booking.offering import CONTRACT_FIELDS, _blocks, reminder_minutes  # noqa: F401
