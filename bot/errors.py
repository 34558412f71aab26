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
     │    ├── UnknownQueue        no such queue
     │    ├── BookingNotFound     no such booking, or a link/code that does not match it
     │    ├── AlreadyCancelled    the booking was cancelled
     │    ├── BookingInPast       the meeting has started or is over
     │    └── GuestError          a guest cannot be added (.reason: invalid, agent, too_many)
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


class Disqualified(BookingError):
    """A routing rule answers this visitor with "no meeting" (``decision``: its text and link)."""

    def __init__(self, decision: object):
        super().__init__(f"routing rule {getattr(decision, 'rule', '?')!r}: no meeting")
        self.decision = decision


class MeetingNotOver(BookingError):
    """Attendance is marked after the meeting's end, not before."""


class NotYourBooking(BookingError):
    """Another agent's booking (the portal answers 403)."""


class GuestError(BookingError):
    """A guest cannot be added; nothing was changed. ``reason`` says why, for the visitor:

    - ``"invalid"``: not an e-mail address;
    - ``"agent"``: the agent's own address, or the visitor's own (they are on the meeting already);
    - ``"too_many"``: more guests than the queue allows (``queues.max_guests``).
    """

    REASONS = ("invalid", "agent", "too_many")

    def __init__(self, reason: str, message: str = "", *, email: str | None = None, limit: int | None = None):
        if reason not in self.REASONS:
            raise ValueError(f"unknown guest error reason {reason!r}")
        super().__init__(message or f"guest refused: {reason}")
        self.reason = reason
        #: the address that was refused (None for too_many)
        self.email = email
        #: too_many: the queue's limit
        self.limit = limit


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
