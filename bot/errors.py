"""One error tree for the whole core.

    BotError
     ├── ConfigError              bad settings or seed data
     ├── TemplateError            an invitation template that cannot be used
     ├── ConnectError             connecting a calendar failed (message for the agent)
     ├── BookingError             the visitor's request cannot be honoured as asked
     │    ├── OfferNotFound       unknown id, or an id offered to another conversation
     │    ├── OfferExpired        the offer outlived its time to live
     │    ├── SlotInPast          the slot starts before the minimum notice now
     │    ├── SlotTaken           every eligible agent got booked at that time meanwhile
     │    └── UnknownQueue        no such queue
     └── ProviderError            a calendar provider failed
          ├── ProviderUnavailable outage, timeout, throttling: try again later
          └── ProviderAuthError   the agent must reconnect the calendar

Actions catch ``BookingError`` and ``ProviderError`` and tell the visitor something useful.
"""

from __future__ import annotations


class BotError(Exception):
    """Base of every error the core raises on purpose."""


class ConfigError(BotError):
    pass


class TemplateError(BotError):
    pass


class BookingError(BotError):
    pass


class OfferNotFound(BookingError):
    pass


class OfferExpired(BookingError):
    pass


class SlotInPast(BookingError):
    pass


class SlotTaken(BookingError):
    pass


class UnknownQueue(BookingError):
    pass


class BookingNotFound(BookingError):
    """No such booking, or the link/code does not match it (never says which)."""


class AlreadyCancelled(BookingError):
    pass


class BookingInPast(BookingError):
    pass


class ProviderError(BotError):
    def __init__(self, message: str, *, provider: str = "", agent_id: int | None = None):
        super().__init__(message)
        self.provider = provider
        self.agent_id = agent_id


class ProviderUnavailable(ProviderError):
    pass


class ProviderAuthError(ProviderError):
    pass


class ConnectError(BotError):
    """Connecting a calendar failed; the message is meant for the person connecting."""
