"""What the parts of the booking service share: the values they hand out (offers, bookings,
visitors), the public shape of a booking (contract 5 of DESIGN.md) and small helpers that read
no database and call no provider."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Sequence

from bot.calendars.base import AgentRef, CalendarProvider, EventRequest
from bot.errors import GuestError
from bot.inputs import clean_email
from bot.messages.email import invitation_for
from bot.messages.tokens import render_text
from bot.store.models import BLOCK_MINUTES, Agent, Booking

log = logging.getLogger("bot.booking")

#: Statuses of a booking that hold the agent's time.
HOLDING = ("pending", "confirmed")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class QueueInfo:
    slug: str
    name: str
    timezone: str


@dataclass(frozen=True)
class OfferedSlot:
    id: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class OfferPage:
    queue: QueueInfo
    slots: list[OfferedSlot]


@dataclass(frozen=True)
class Visitor:
    email: str
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    person: Mapping[str, Any] | None = None
    company: Mapping[str, Any] | None = None
    timezone: str = "UTC"
    locale: str = "en"
    #: Colleagues the visitor brings, known at booking time (e-mail addresses): attendees of
    #: the event; checked and lower-cased by :meth:`BookingService.book` (see ``guest_list``).
    guests: tuple[str, ...] = ()
    #: Answers to the routing file's qualification questions (question id → answer; None: asked,
    #: not understood). Stored with the booking (``routing["answers"]``) and shown to the agent.
    answers: Mapping[str, Any] | None = None
    #: The queue the page asked for ("" when it named none; None when unknown, e.g. the API),
    #: for the routing rules' ``page_queue`` at booking time.
    page_queue: str | None = None

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.email

    def token_person(self) -> dict[str, Any]:
        person = dict(self.person or {})
        person.update(
            {
                k: v
                for k, v in (("first_name", self.first_name), ("last_name", self.last_name), ("email", self.email))
                if v
            }
        )
        return person

    def token_company(self) -> dict[str, Any]:
        company = dict(self.company or {})
        if self.company_name:
            company["name"] = self.company_name
        return company


@dataclass(frozen=True)
class BookingResult:
    booking_id: str
    agent_name: str
    agent_email: str
    start: datetime
    end: datetime
    conference_url: str | None
    timezone: str
    locale: str


@dataclass(frozen=True)
class AgentRow:
    """What the booking path needs of a queue member, read in two plain queries."""

    id: int
    email: str
    name: str
    timezone: str
    provider: str
    include_conference: bool
    invitation_subject: str
    invitation_body: str
    max_meetings_per_day: int | None
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    weight: int
    weekly: dict[int, list[tuple[int, int]]]
    #: The agent's invitation versions per visitor language: lang → (subject, body).
    invitations: Mapping[str, tuple[str, str]] = field(default_factory=dict)


def blocks(start: datetime, end: datetime) -> list[datetime]:
    """The ``booking_blocks`` rows that hold ``[start, end)``."""
    step = timedelta(minutes=BLOCK_MINUTES)
    # Align down to the block grid so any two overlapping bookings share at least one block.
    epoch = datetime(2000, 1, 1, tzinfo=timezone.utc)
    t = epoch + ((start - epoch) // step) * step
    out = []
    while t < end:
        out.append(t)
        t += step
    return out


def ref(agent: Agent | AgentRow) -> AgentRef:
    return AgentRef(id=agent.id, email=agent.email, name=agent.name)


def event_request(
    key: str,
    agent: AgentRow,
    start: datetime,
    end: datetime,
    email: str,
    name: str,
    person: Mapping[str, Any],
    company: Mapping[str, Any],
    guests: Sequence[str] = (),
    lang: str = "en",
) -> EventRequest:
    """The calendar event for a visitor, its summary and description rendered from the agent's
    invitation in the visitor's language (``invitation_for``) with the visitor's person and
    company tokens."""
    ctx = {"person": person, "company": company, "agent": {"name": agent.name, "email": agent.email}}
    subject, body = invitation_for(lang, agent.invitation_subject, agent.invitation_body, agent.invitations)
    return EventRequest(
        idempotency_key=key,
        agent=ref(agent),
        start=start,
        end=end,
        summary=" ".join(render_text(subject, ctx).split()),
        description=render_text(body, ctx),
        attendee_email=email,
        attendee_name=name,
        with_conference=agent.include_conference,
        guests=tuple(guests),
    )


def cancel_quietly(provider: CalendarProvider, agent: AgentRow | Agent, event_id: str) -> None:
    """Remove an event we just made and no longer want; a failure is logged, never raised."""
    try:
        provider.cancel_event(ref(agent), event_id)
    except Exception as exc:
        log.error("could not remove provider event %s of agent %s: %s", event_id, agent.id, type(exc).__name__)


def result(b: Booking, agent: Agent | AgentRow) -> BookingResult:
    return BookingResult(b.id, agent.name, agent.email, b.start, b.end, b.conference_url, b.timezone, b.locale)


def visitor_of(b: Booking) -> Visitor:
    return Visitor(
        email=b.visitor_email,
        first_name=b.visitor_first_name,
        last_name=b.visitor_last_name,
        company_name=b.company_name,
        person=b.person or {},
        company=b.company or {},
        timezone=b.timezone,
        locale=b.locale,
        guests=tuple(b.guests or ()),
    )


def guest_list(
    emails: Iterable[object], *, have: Sequence[str] = (), refuse: Iterable[str] = (), limit: int
) -> list[str]:
    """The new guests among ``emails``: each cleaned (``bot.inputs.clean_email``, the cleaner
    the chat's answers use too) and lower-cased; those in ``have`` (already on the booking) and
    repeats left out. Raises GuestError — ``invalid`` for anything that is not an address,
    ``agent`` for an address in ``refuse`` (the agent's, the visitor's), ``too_many`` when
    ``have`` and the new ones are more than ``limit``."""
    refused = {r.lower() for r in refuse if r}
    known = {h.lower() for h in have}
    new: list[str] = []
    for raw in emails:
        email = clean_email(raw)
        if email is None:
            raise GuestError("invalid", "that is not an e-mail address", email=str(raw)[:320])
        email = email.lower()
        if email in refused:
            raise GuestError("agent", "the agent and the visitor are on the meeting already", email=email)
        if email not in known and email not in new:
            new.append(email)
    if len(known) + len(new) > limit:
        raise GuestError("too_many", f"at most {limit} guests a meeting", limit=limit)
    return new


def reminder_minutes(value: str | None) -> list[int]:
    """"1440,60" → [1440, 60]; anything that is not a lead time between 5 minutes and a week is
    ignored, so a typo never blocks a booking."""
    out = []
    for part in (value or "").split(","):
        part = part.strip()
        if part.isdigit() and 5 <= int(part) <= 7 * 24 * 60:
            out.append(int(part))
    return sorted(set(out), reverse=True)


def iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


#: Contract 5 of DESIGN.md: fields every booking in `python -m bot bookings --json` has.
CONTRACT_FIELDS = (
    "id", "status", "queue", "agent_email", "visitor_email", "start", "end", "timezone", "locale", "conference_url",
)  # fmt: skip


def booking_json(b: Booking) -> dict[str, Any]:
    """Contract 5 of DESIGN.md: the public shape of a booking."""
    return {
        "id": b.id,
        "status": b.status,
        "queue": b.queue.slug,
        "agent_email": b.agent.email,
        "agent_name": b.agent.name,
        "visitor_email": b.visitor_email,
        "visitor_first_name": b.visitor_first_name,
        "visitor_last_name": b.visitor_last_name,
        "company": b.company_name,
        "guests": list(b.guests or []),
        "start": iso(b.start),
        "end": iso(b.end),
        "timezone": b.timezone,
        "locale": b.locale,
        "conference_url": b.conference_url,
        "provider": b.provider,
        "created_at": iso(b.created_at),
        "failure_reason": b.failure_reason,
        "attendance": b.attendance,
        # the answers to the routing file's qualification questions (question id → answer)
        "answers": dict((b.routing or {}).get("answers") or {}),
    }
