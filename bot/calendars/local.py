"""The local calendar: events kept in our own database. The embedded default and the demo.

Busy time is cached per agent in the process and reloaded only when the agent's
``calendar_version`` (bumped in the same transaction as every event change) moves, so offering
slots for a big queue does not re-read thousands of events each turn.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Mapping, Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.calendars.base import AgentRef, CreatedEvent, EventRequest
from bot.scheduling import Busy, Interval
from bot.scheduling.engine import to_minute
from bot.store import Store
from bot.store.models import Agent, CalendarEvent

#: Events that ended longer ago than this are not loaded into the cache.
HISTORY = timedelta(days=2)


def _bump(s: Session, agent_id: int) -> None:
    s.execute(update(Agent).where(Agent.id == agent_id).values(calendar_version=Agent.calendar_version + 1))


class LocalCalendar:
    name = "local"
    sends_invitations = False

    def __init__(self, store: Store, public_url: str, clock=lambda: datetime.now(timezone.utc)):
        self.store = store
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        self._cache: dict[int, tuple[int, datetime, Busy]] = {}
        self._lock = threading.Lock()

    def meeting_url(self, key: str) -> str:
        """A stable meeting room address for one booking, served by the web app."""
        return f"{self.public_url}/meet/{key}"

    def _load(self, s: Session, agent_ids: list[int], since: datetime) -> dict[int, Busy]:
        found: dict[int, list[Interval]] = {i: [] for i in agent_ids}
        for agent_id, start, end in s.execute(
            select(CalendarEvent.agent_id, CalendarEvent.start, CalendarEvent.end).where(
                CalendarEvent.agent_id.in_(agent_ids), CalendarEvent.status == "confirmed", CalendarEvent.end > since
            )
        ):
            found[agent_id].append(Interval(start, end))
        return {i: Busy.from_intervals(v) for i, v in found.items()}

    def busy(self, agents: Sequence[AgentRef], start: datetime, end: datetime) -> Mapping[int, Busy]:
        ids = [a.id for a in agents]
        with self._lock, self.store.session() as s:
            versions = dict(s.execute(select(Agent.id, Agent.calendar_version).where(Agent.id.in_(ids))).all())
            stale = [
                i
                for i in ids
                if i not in self._cache or self._cache[i][0] != versions.get(i) or self._cache[i][1] > start
            ]
            if stale:
                since = min(start, self.clock()) - HISTORY
                for i, busy in self._load(s, stale, since).items():
                    self._cache[i] = (versions.get(i, 0), since, busy)
            cached = {i: self._cache[i][2] for i in ids}
        lo, hi = to_minute(start), to_minute(end, ceil=True)
        out: dict[int, Busy] = {}
        for i, busy in cached.items():
            keep = (busy.starts < hi) & (busy.ends > lo)
            out[i] = Busy(busy.starts[keep], busy.ends[keep]) if not keep.all() else busy
        return out

    def create_event(self, request: EventRequest) -> CreatedEvent:
        url = self.meeting_url(request.idempotency_key) if request.with_conference else None
        try:
            with self.store.session() as s:
                ev = CalendarEvent(
                    agent_id=request.agent.id,
                    start=request.start,
                    end=request.end,
                    summary=request.summary,
                    description=request.description,
                    attendee_email=request.attendee_email,
                    guests=list(request.guests),
                    conference_url=url,
                    idempotency_key=request.idempotency_key,
                )
                s.add(ev)
                s.flush()
                _bump(s, request.agent.id)
                return CreatedEvent(provider_event_id=str(ev.id), conference_url=url)
        except IntegrityError:
            with self.store.session() as s:
                existing = s.execute(
                    select(CalendarEvent).where(CalendarEvent.idempotency_key == request.idempotency_key)
                ).scalar_one()
                return CreatedEvent(provider_event_id=str(existing.id), conference_url=existing.conference_url)

    def find_event(self, agent: AgentRef, idempotency_key: str) -> CreatedEvent | None:
        with self.store.session() as s:
            ev = s.execute(
                select(CalendarEvent).where(
                    CalendarEvent.idempotency_key == idempotency_key,
                    CalendarEvent.agent_id == agent.id,
                    CalendarEvent.status == "confirmed",
                )
            ).scalar_one_or_none()
            return None if ev is None else CreatedEvent(provider_event_id=str(ev.id), conference_url=ev.conference_url)

    def update_event(self, agent: AgentRef, provider_event_id: str, start: datetime, end: datetime) -> None:
        with self.store.session() as s:
            ev = s.get(CalendarEvent, int(provider_event_id))
            if ev is not None and ev.agent_id == agent.id:
                ev.start, ev.end = start, end
                _bump(s, agent.id)

    def update_attendee(
        self, agent: AgentRef, provider_event_id: str, email: str, name: str, guests: Sequence[str] = ()
    ) -> None:
        with self.store.session() as s:
            ev = s.get(CalendarEvent, int(provider_event_id))
            if ev is not None and ev.agent_id == agent.id:
                # the invitations themselves go out with our e-mails (ICS), to the visitor and each guest
                ev.attendee_email = email
                ev.guests = list(guests)

    def cancel_event(self, agent: AgentRef, provider_event_id: str) -> None:
        with self.store.session() as s:
            ev = s.get(CalendarEvent, int(provider_event_id))
            if ev is not None and ev.agent_id == agent.id:
                ev.status = "cancelled"
                _bump(s, agent.id)


__all__ = ["LocalCalendar"]
