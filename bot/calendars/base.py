"""The one protocol every calendar provider implements, and the dataclasses it speaks.

Providers return these dataclasses, never raw JSON. Their client libraries may be synchronous:
callers run them off the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Protocol, Sequence

from bot.scheduling import Busy, Interval


@dataclass(frozen=True)
class AgentRef:
    id: int
    email: str
    name: str


@dataclass(frozen=True)
class EventRequest:
    #: Derived from the booking id: a retried create must not make a second event.
    idempotency_key: str
    agent: AgentRef
    start: datetime
    end: datetime
    summary: str
    description: str
    attendee_email: str
    attendee_name: str
    with_conference: bool
    #: The visitor's guests (lower-case e-mail addresses): attendees too.
    guests: tuple[str, ...] = ()


@dataclass(frozen=True)
class CreatedEvent:
    provider_event_id: str
    conference_url: str | None


class CalendarProvider(Protocol):
    #: "local", "google", "microsoft"
    name: str
    #: True when the provider e-mails the attendee an invitation itself (Google, Graph);
    #: otherwise our confirmation e-mail carries an ICS REQUEST.
    sends_invitations: bool

    def busy(self, agents: Sequence[AgentRef], start: datetime, end: datetime) -> Mapping[int, Busy | list[Interval]]:
        """Busy time per agent id between ``start`` and ``end``. An agent whose calendar could
        not be read is left out of the result (never reported free)."""

    def create_event(self, request: EventRequest) -> CreatedEvent:
        """Create (or, for a repeated idempotency key, return) the event."""

    def find_event(self, agent: AgentRef, idempotency_key: str) -> CreatedEvent | None:
        """The live event created with this idempotency key, or None if there is none. Raises
        ProviderError when the provider cannot tell right now (the reconciler asks again later)."""

    def update_event(self, agent: AgentRef, provider_event_id: str, start: datetime, end: datetime) -> None:
        """Move the event (the attendee is told by whoever sends invitations)."""

    def update_attendee(
        self, agent: AgentRef, provider_event_id: str, email: str, name: str, guests: Sequence[str] = ()
    ) -> None:
        """Replace the event's attendees with the visitor (``email``, ``name``) and ``guests``:
        after the visitor corrected their e-mail or name, or added guests. The whole list each
        time, so a retry is harmless; a provider that sends invitations sends the attendees it
        has not invited yet theirs."""

    def cancel_event(self, agent: AgentRef, provider_event_id: str) -> None:
        """Remove the event; a missing event is not an error."""
