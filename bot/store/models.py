"""Database models (SQLAlchemy 1.4, 2.0 style). Times are stored as UTC.

The migration in ``migrations/versions`` builds exactly this schema; a test compares the two.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()

#: Bookings occupy an agent's time in blocks of this many minutes; the primary key
#: (agent_id, block_start) of ``booking_blocks`` makes the database itself refuse two
#: bookings of one agent at overlapping times, on SQLite and on Postgres alike.
BLOCK_MINUTES = 5


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out; stored naive UTC (SQLite has no zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class JSONText(TypeDecorator):
    """JSON kept as text, so it reads the same on every database."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Queue(Base):
    __tablename__ = "queues"
    id = Column(Integer, primary_key=True)
    slug = Column(String(64), nullable=False, unique=True)
    name = Column(String(200), nullable=False)
    timezone = Column(String(64), nullable=False, default="UTC")
    meeting_minutes = Column(Integer, nullable=False, default=30)
    interval_minutes = Column(Integer, nullable=False, default=30)
    min_notice_minutes = Column(Integer, nullable=False, default=240)
    window_days = Column(Integer, nullable=False, default=14)
    buffer_before_minutes = Column(Integer, nullable=False, default=0, server_default="0")
    buffer_after_minutes = Column(Integer, nullable=False, default=0, server_default="0")
    #: "max-availability": offer every time any agent is free; "max-fairness": hold back agents
    #: ahead of their weighted share by more than ``fairness_margin`` bookings.
    routing_mode = Column(String(32), nullable=False, default="max-availability", server_default="max-availability")
    fairness_margin = Column(Integer, nullable=False, default=0, server_default="0")
    #: Round-robin counting period: "day", "week" or "month" (calendar, in the queue's zone).
    rr_period = Column(String(16), nullable=False, default="month", server_default="month")
    #: A cancelled booking stops counting for the round robin (its agent is owed the next one).
    credit_back_on_cancel = Column(Boolean, nullable=False, default=True, server_default="1")
    #: Reminder e-mails to the visitor, in minutes before the start ("1440,60": a day and an hour).
    reminder_minutes = Column(String(100), nullable=False, default="1440,60", server_default="1440,60")
    #: At most this many guests (colleagues the visitor brings) on one booking.
    max_guests = Column(Integer, nullable=False, default=10, server_default="10")
    members = relationship("QueueMember", back_populates="queue", cascade="all, delete-orphan")


class Agent(Base):
    __tablename__ = "agents"
    id = Column(Integer, primary_key=True)
    email = Column(String(320), nullable=False, unique=True)
    name = Column(String(200), nullable=False)
    timezone = Column(String(64), nullable=False)
    provider = Column(String(32), nullable=False, default="local")
    active = Column(Boolean, nullable=False, default=True)
    invitation_subject = Column(Text, nullable=False)
    invitation_body = Column(Text, nullable=False)
    include_conference = Column(Boolean, nullable=False, default=True)
    #: At most this many meetings per local day; None: no cap.
    max_meetings_per_day = Column(Integer)
    #: The agent's own buffers and notice (minutes); the larger of these and the queue's applies.
    buffer_before_minutes = Column(Integer, nullable=False, default=0, server_default="0")
    buffer_after_minutes = Column(Integer, nullable=False, default=0, server_default="0")
    min_notice_minutes = Column(Integer, nullable=False, default=0, server_default="0")
    #: Bumped with every change to the agent's local-calendar events, so busy-time caches
    #: in other processes know exactly when to reload.
    calendar_version = Column(Integer, nullable=False, default=0, server_default="0")
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    hours = relationship("WeeklyHour", back_populates="agent", cascade="all, delete-orphan")
    overrides = relationship("DateOverride", back_populates="agent", cascade="all, delete-orphan")
    time_off = relationship("TimeOff", back_populates="agent", cascade="all, delete-orphan")
    #: The agent's versions of the invitation for one visitor language each (see AgentInvitation).
    invitations = relationship("AgentInvitation", back_populates="agent", cascade="all, delete-orphan")


class AgentInvitation(Base):
    """The agent's invitation for visitors of one language (``lang``: en, fr, de, es, pt, it).
    It wins over the agent's main subject and body for that language only; an empty subject
    falls back to the main one (see ``bot.messages.email.invitation_for``)."""

    __tablename__ = "agent_invitations"
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    lang = Column(String(8), primary_key=True)
    subject = Column(Text, nullable=False, default="")
    body = Column(Text, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    agent = relationship("Agent", back_populates="invitations")


class WeeklyHour(Base):
    __tablename__ = "weekly_hours"
    id = Column(Integer, primary_key=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True)
    weekday = Column(Integer, nullable=False)  # Monday=0
    start_minute = Column(Integer, nullable=False)
    end_minute = Column(Integer, nullable=False)
    agent = relationship("Agent", back_populates="hours")


class DateOverride(Base):
    """A date whose hours replace the weekly hours; a row without minutes is a day off."""

    __tablename__ = "date_overrides"
    id = Column(Integer, primary_key=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True)
    day = Column(Date, nullable=False)
    start_minute = Column(Integer)
    end_minute = Column(Integer)
    agent = relationship("Agent", back_populates="overrides")


class TimeOff(Base):
    """Time away over a range (holidays, leave): never offered, whatever the hours say."""

    __tablename__ = "time_off"
    id = Column(Integer, primary_key=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True)
    start = Column(UTCDateTime, nullable=False)
    end = Column(UTCDateTime, nullable=False)
    reason = Column(String(200))
    agent = relationship("Agent", back_populates="time_off")


class QueueMember(Base):
    __tablename__ = "queue_members"
    queue_id = Column(Integer, ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    weight = Column(Integer, nullable=False, default=100)
    queue = relationship("Queue", back_populates="members")
    agent = relationship("Agent")


class CalendarEvent(Base):
    """An event on the local calendar (the embedded default's provider)."""

    __tablename__ = "calendar_events"
    id = Column(Integer, primary_key=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False)
    start = Column(UTCDateTime, nullable=False)
    end = Column(UTCDateTime, nullable=False)
    summary = Column(Text, nullable=False, default="")
    description = Column(Text, nullable=False, default="")
    attendee_email = Column(String(320))
    #: Further attendees: the visitor's guests (lower-case e-mail addresses).
    guests = Column(JSONText, nullable=False, default=list, server_default="[]")
    conference_url = Column(Text)
    idempotency_key = Column(String(64), unique=True)
    status = Column(String(16), nullable=False, default="confirmed")
    __table_args__ = (Index("ix_calendar_events_agent_start", "agent_id", "start"),)


class CalendarConnection(Base):
    """An agent's connected calendar (one per agent). The refresh token is stored encrypted."""

    __tablename__ = "calendar_connections"
    id = Column(Integer, primary_key=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, unique=True)
    provider = Column(String(32), nullable=False)  # "google", "microsoft", "caldav"
    account_email = Column(String(320), nullable=False)
    calendar_id = Column(String(320), nullable=False, default="primary")
    #: encrypted: Google's refresh token, Microsoft's token cache, or CalDAV's server, user name,
    #: app password and chosen calendars (JSON)
    secret = Column(Text, nullable=False)
    scopes = Column(Text, nullable=False, default="")
    status = Column(String(32), nullable=False, default="connected")  # connected | needs_reconnect
    last_error = Column(Text)
    #: the last successful read of busy time, and the last failed one (health in the portal)
    last_ok_at = Column(UTCDateTime)
    last_error_at = Column(UTCDateTime)
    connected_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    agent = relationship("Agent")


class OAuthState(Base):
    """A pending authorization: single use, short-lived, bound to the invited agent and queue."""

    __tablename__ = "oauth_states"
    state = Column(String(64), primary_key=True)
    provider = Column(String(32), nullable=False)
    email = Column(String(320), nullable=False)
    queue_slug = Column(String(64))
    agent_name = Column(String(200))
    agent_timezone = Column(String(64))
    code_verifier = Column(Text, nullable=False)  # encrypted
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    used_at = Column(UTCDateTime)


class Offer(Base):
    """A slot shown to one conversation. The id is opaque and means nothing elsewhere."""

    __tablename__ = "offers"
    __table_args__ = (Index("ix_offers_conversation_created", "conversation_id", "created_at"),)
    id = Column(String(32), primary_key=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    queue_id = Column(Integer, ForeignKey("queues.id", ondelete="CASCADE"), nullable=False)
    start = Column(UTCDateTime, nullable=False)
    end = Column(UTCDateTime, nullable=False)
    agent_ids = Column(JSONText, nullable=False)
    expires_at = Column(UTCDateTime, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    #: Set when the offer is a new time for an existing booking (reschedule), not a new booking.
    moves_booking = Column(String(32))


class Booking(Base):
    __tablename__ = "bookings"
    id = Column(String(32), primary_key=True)
    status = Column(String(16), nullable=False)  # pending → confirmed | failed; confirmed → cancelled
    # (a reschedule keeps the booking confirmed and its id; it moves start/end, maybe the agent,
    # and increments ``sequence``)
    queue_id = Column(Integer, ForeignKey("queues.id"), nullable=False)
    agent_id = Column(Integer, ForeignKey("agents.id"), nullable=False, index=True)
    offer_id = Column(String(32), index=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    visitor_email = Column(String(320), nullable=False)
    visitor_first_name = Column(String(200))
    visitor_last_name = Column(String(200))
    company_name = Column(String(300))
    person = Column(JSONText, nullable=False, default=dict)
    company = Column(JSONText, nullable=False, default=dict)
    #: Colleagues the visitor brings: lower-case e-mail addresses, attendees of the event too.
    guests = Column(JSONText, nullable=False, default=list, server_default="[]")
    start = Column(UTCDateTime, nullable=False)
    end = Column(UTCDateTime, nullable=False)
    timezone = Column(String(64), nullable=False)
    locale = Column(String(35), nullable=False)
    conference_url = Column(Text)
    provider = Column(String(32), nullable=False)
    provider_event_id = Column(String(200))
    failure_reason = Column(Text)
    #: Bumped by every change the attendee is told about (ICS SEQUENCE); signed links carry it.
    sequence = Column(Integer, nullable=False, default=0, server_default="0")
    cancelled_at = Column(UTCDateTime)
    #: After the meeting, as its agent marked it: "held" or "no_show" (None: not marked).
    attendance = Column(String(16))
    attendance_at = Column(UTCDateTime)
    #: Why this agent got the meeting (routing rule, candidates, counts): `python -m bot explain`.
    routing = Column(JSONText)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    queue = relationship("Queue")
    agent = relationship("Agent")


class BookingBlock(Base):
    """Time an agent is held by a pending or confirmed booking, in BLOCK_MINUTES pieces."""

    __tablename__ = "booking_blocks"
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    block_start = Column(UTCDateTime, primary_key=True)
    booking_id = Column(String(32), ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False, index=True)


class CallbackRequest(Base):
    """A visitor who found no free time and asked to be contacted."""

    __tablename__ = "callback_requests"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(200), nullable=False)
    queue_id = Column(Integer, ForeignKey("queues.id"), nullable=False)
    email = Column(String(320), nullable=False)
    first_name = Column(String(200))
    company_name = Column(String(300))
    locale = Column(String(35), nullable=False, default="en")
    timezone = Column(String(64))
    status = Column(String(16), nullable=False, default="open")
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    __table_args__ = (UniqueConstraint("conversation_id", "email", name="uq_callback_conversation_email"),)


class OutboxMessage(Base):
    """Something to deliver (an e-mail now, webhooks later), written in the same transaction as
    the change it reports, and delivered by the worker with retries (bot/messages/delivery.py).

    ``key`` is unique: the same confirmation is never queued twice. A worker claims a row by
    moving ``locked_until`` forward in one conditional UPDATE, so two workers never send the
    same row at the same time.
    """

    __tablename__ = "outbox"
    id = Column(Integer, primary_key=True)
    key = Column(String(200), nullable=False, unique=True)
    kind = Column(String(16), nullable=False)  # "email"
    recipient = Column(String(500), nullable=False)
    payload = Column(Text, nullable=False)  # e-mail: the RFC 5322 message, base64
    status = Column(String(16), nullable=False, default="pending")  # pending → sent | dead
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False)
    locked_until = Column(UTCDateTime)
    last_error = Column(Text)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    sent_at = Column(UTCDateTime)
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)


class Webhook(Base):
    """An endpoint told about bookings (booking.created, booking.cancelled, ...), HMAC-signed."""

    __tablename__ = "webhooks"
    id = Column(Integer, primary_key=True)
    url = Column(Text, nullable=False)
    secret = Column(Text, nullable=False)  # encrypted
    events = Column(Text, nullable=False)  # comma-separated event names, or "*"
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class AccountDomain(Base):
    """A customer account's e-mail domain and the agent who owns the account: a visitor writing
    from that domain meets the owner when they are free (as the metadata's ``owner_email``)."""

    __tablename__ = "account_domains"
    domain = Column(String(253), primary_key=True)  # lower-case, no "@"
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True)
    name = Column(String(300), nullable=False, default="")  # the account's name, for people
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class Account(Base):
    """A portal sign-in: an admin, or an agent (linked to their Agent row). Passwords are
    Argon2id hashes; ``session_version`` moves on at sign-out, ending every session."""

    __tablename__ = "accounts"
    id = Column(Integer, primary_key=True)
    email = Column(String(320), nullable=False, unique=True)
    role = Column(String(16), nullable=False)  # "admin" | "agent"
    password_hash = Column(Text, nullable=False)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), unique=True)
    active = Column(Boolean, nullable=False, default=True)
    session_version = Column(Integer, nullable=False, default=0)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    last_login_at = Column(UTCDateTime)


class SignInAttempt(Base):
    """Recent sign-ins, kept to slow down password guessing (per e-mail and per address)."""

    __tablename__ = "signin_attempts"
    id = Column(Integer, primary_key=True)
    email = Column(String(320), nullable=False)
    ip = Column(String(64), nullable=False)
    ok = Column(Boolean, nullable=False)
    at = Column(UTCDateTime, nullable=False)
    __table_args__ = (Index("ix_signin_email_at", "email", "at"), Index("ix_signin_ip_at", "ip", "at"))
