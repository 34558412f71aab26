"""The local calendar: events kept in our own database. The embedded default and the demo."""

from __future__ import annotations

from datetime import datetime
from typing import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.calendars.base import AgentRef, CreatedEvent, EventRequest
from bot.scheduling import Interval
from bot.store import Store
from bot.store.models import CalendarEvent


class LocalCalendar:
    name = "local"
    sends_invitations = False

    def __init__(self, store: Store, public_url: str):
        self.store = store
        self.public_url = public_url.rstrip("/")

    def meeting_url(self, key: str) -> str:
        """A stable meeting room address for one booking, served by the web app."""
        return f"{self.public_url}/meet/{key}"

    def busy(self, agents: Sequence[AgentRef], start: datetime, end: datetime) -> Mapping[int, list[Interval]]:
        ids = [a.id for a in agents]
        out: dict[int, list[Interval]] = {i: [] for i in ids}
        with self.store.session() as s:
            rows = s.execute(
                select(CalendarEvent.agent_id, CalendarEvent.start, CalendarEvent.end).where(
                    CalendarEvent.agent_id.in_(ids),
                    CalendarEvent.status == "confirmed",
                    CalendarEvent.start < end,
                    CalendarEvent.end > start,
                )
            ).all()
        for agent_id, s_, e_ in rows:
            out[agent_id].append(Interval(s_, e_))
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
                    conference_url=url,
                    idempotency_key=request.idempotency_key,
                )
                s.add(ev)
                s.flush()
                return CreatedEvent(provider_event_id=str(ev.id), conference_url=url)
        except IntegrityError:
            with self.store.session() as s:
                existing = s.execute(
                    select(CalendarEvent).where(CalendarEvent.idempotency_key == request.idempotency_key)
                ).scalar_one()
                return CreatedEvent(provider_event_id=str(existing.id), conference_url=existing.conference_url)

    def cancel_event(self, agent: AgentRef, provider_event_id: str) -> None:
        with self.store.session() as s:
            ev = s.get(CalendarEvent, int(provider_event_id))
            if ev is not None and ev.agent_id == agent.id:
                ev.status = "cancelled"
