"""The embedded default's demo data: queue ``sales`` with agents in three time zones."""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot.messages.email import DEFAULT_BODY, DEFAULT_SUBJECT
from bot.store import Store
from bot.store.models import Agent, Queue, QueueMember, WeeklyHour

log = logging.getLogger(__name__)

WORKDAY = [(9 * 60, 12 * 60), (13 * 60, 17 * 60)]  # two blocks: a lunch break in between

DEMO_AGENTS = [
    ("Alex Morgan", "alex.morgan@demo.example", "America/New_York"),
    ("Camille Laurent", "camille.laurent@demo.example", "Europe/Paris"),
    ("Kenji Watanabe", "kenji.watanabe@demo.example", "Asia/Tokyo"),
]


def seed_demo(store: Store) -> bool:
    """Create the demo queue and agents unless a ``sales`` queue exists. Returns True if seeded."""
    with store.session() as s:
        if s.execute(select(Queue).where(Queue.slug == "sales")).scalar_one_or_none() is not None:
            return False
        queue = Queue(
            slug="sales",
            name="Sales",
            timezone="Europe/London",
            meeting_minutes=30,
            interval_minutes=30,
            min_notice_minutes=240,
            window_days=14,
        )
        s.add(queue)
        for name, email, tz in DEMO_AGENTS:
            agent = Agent(
                name=name,
                email=email,
                timezone=tz,
                provider="local",
                invitation_subject=DEFAULT_SUBJECT,
                invitation_body=DEFAULT_BODY,
                include_conference=True,
            )
            agent.hours = [WeeklyHour(weekday=d, start_minute=a, end_minute=b) for d in range(5) for a, b in WORKDAY]
            s.add(agent)
            s.add(QueueMember(queue=queue, agent=agent, weight=100))
    log.info("seeded demo queue 'sales' with %d agents", len(DEMO_AGENTS))
    return True
