"""The local calendar's busy cache: exact across processes, because every change bumps a version."""

from __future__ import annotations

from datetime import timedelta

from bot.calendars.base import AgentRef, EventRequest
from bot.calendars.local import LocalCalendar
from bot.store import Store
from tests.helpers import add_queue, utc


def request(agent: AgentRef, key: str, hour: int) -> EventRequest:
    return EventRequest(key, agent, utc(2026, 12, 2, hour), utc(2026, 12, 2, hour, 30), "s", "d", "v@x.io", "V", True)


def test_cache_reloads_only_when_another_process_changes_the_calendar(store, settings):
    [agent_id] = add_queue(store)
    agent = AgentRef(agent_id, "ada@agents.example", "Ada")
    reader = LocalCalendar(Store(store.url), settings.public_url)  # e.g. the action server
    writer = LocalCalendar(Store(store.url), settings.public_url)  # e.g. another action server
    window = (utc(2026, 12, 1), utc(2026, 12, 5))
    assert len(reader.busy([agent], *window)[agent_id]) == 0
    created = writer.create_event(request(agent, "k1" * 16, 10))
    assert [(iv.start, iv.end) for iv in reader.busy([agent], *window)[agent_id].intervals()] == [
        (utc(2026, 12, 2, 10), utc(2026, 12, 2, 10, 30))
    ]
    # Idempotent: the same key again is the same event, not a second one.
    assert writer.create_event(request(agent, "k1" * 16, 10)).provider_event_id == created.provider_event_id
    assert len(reader.busy([agent], *window)[agent_id]) == 1
    writer.cancel_event(agent, created.provider_event_id)
    assert len(reader.busy([agent], *window)[agent_id]) == 0


def test_busy_is_cut_to_the_window(store, settings):
    [agent_id] = add_queue(store)
    agent = AgentRef(agent_id, "ada@agents.example", "Ada")
    cal = LocalCalendar(store, settings.public_url)
    for i, hour in enumerate((9, 12, 15)):
        cal.create_event(request(agent, f"{i:032d}", hour))
    got = cal.busy([agent], utc(2026, 12, 2, 11), utc(2026, 12, 2, 14))[agent_id].intervals()
    assert [iv.start for iv in got] == [utc(2026, 12, 2, 12)]
    # A window that starts before what was cached reloads from the database.
    older = cal.busy([agent], utc(2026, 11, 20), utc(2026, 11, 20) + timedelta(days=20))[agent_id]
    assert len(older) == 3
