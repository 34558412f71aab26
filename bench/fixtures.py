"""Large queues on the local calendar, for benchmarks: N agents with M busy events each."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select

from bot.admin.rules import set_queue
from bot.messages.email import DEFAULT_BODY, DEFAULT_SUBJECT
from bot.store import Store
from bot.store.models import Agent, CalendarEvent, Queue, QueueMember, WeeklyHour

ZONES = ["America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Paris", "Asia/Tokyo", "Australia/Sydney"]


def seed_big_queue(store: Store, slug: str, n_agents: int, n_busy: int, now: datetime, seed: int = 11) -> None:
    rng = random.Random(seed)
    set_queue(store, slug, name=f"Bench {n_agents}", timezone="UTC", interval_minutes=15)
    with store.session() as s:
        agents = []
        for i in range(n_agents):
            a = Agent(
                email=f"{slug}-{i}@bench.example",
                name=f"Agent {i}",
                timezone=ZONES[i % len(ZONES)],
                provider="local",
                invitation_subject=DEFAULT_SUBJECT,
                invitation_body=DEFAULT_BODY,
                include_conference=True,
            )
            a.hours = [WeeklyHour(weekday=d, start_minute=9 * 60, end_minute=17 * 60) for d in range(5)]
            agents.append(a)
        s.add_all(agents)
        s.flush()
        q = s.execute(select(Queue).where(Queue.slug == slug)).scalar_one()
        s.add_all(QueueMember(queue_id=q.id, agent_id=a.id, weight=100) for a in agents)
        rows = []
        base = now.astimezone(timezone.utc).replace(second=0, microsecond=0)
        for a in agents:
            for _ in range(n_busy):
                start = base + timedelta(minutes=rng.randrange(0, 15 * 1440))
                rows.append(
                    {
                        "agent_id": a.id,
                        "start": start,
                        "end": start + timedelta(minutes=rng.choice((15, 30, 60))),
                        "summary": "busy",
                        "description": "",
                        "status": "confirmed",
                    }
                )
        s.execute(insert(CalendarEvent), rows)
