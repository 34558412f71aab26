"""The windowed tracker stores (bot/rasa_ext/tracker_store.py) against Rasa's own.

One long conversation — greetings, forms over several messages, fallbacks that revert the
message, slot changes, a second session — is written turn by turn into our store and into Rasa's
InMemoryTrackerStore. After every turn the tracker our store hands Rasa must give the policies
what Rasa's gives them (slots, active loop, the last states, the applied events' tail), stay
small however long the conversation is, and lose nothing: the full tracker is event for event
Rasa's. Runs on the in-memory store, on SQLite and on the Postgres at 127.0.0.1:5432.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_ext.tracker_store import MARK, WindowedInMemoryTrackerStore, WindowedSQLTrackerStore, is_snapshot

ROOT = Path(__file__).resolve().parents[2]
PG = {"dialect": "postgresql", "host": "127.0.0.1", "port": 5432, "db": "test", "username": "postgres"}


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def stores(
    request: pytest.FixtureRequest, domain: Domain, tmp_path: Path
) -> Iterator[tuple[TrackerStore, TrackerStore]]:
    """(ours, Rasa's own of the same kind): Rasa's in-memory and SQL stores rebuild a tracker
    differently (replaying the applied events, or every event), and ours keep each one's way."""
    if request.param == "memory":
        yield WindowedInMemoryTrackerStore(domain), InMemoryTrackerStore(domain)
        return
    if request.param == "sqlite":
        s = WindowedSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    else:
        s = WindowedSQLTrackerStore(domain, **PG)
    reference = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "reference.db"))
    yield s, reference
    s.engine.dispose()
    reference.engine.dispose()


class Clock:
    def __init__(self) -> None:
        self.t = 1_765_000_000.0

    def __call__(self) -> float:
        self.t += 1.5
        return self.t


def user(clock: Clock, text: str, intent: str) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.99}, timestamp=clock())


def act(clock: Clock, name: str) -> ActionExecuted:
    return ActionExecuted(name, timestamp=clock())


def session_start(clock: Clock, carried: dict[str, Any]) -> list[Event]:
    return [
        act(clock, "action_session_start"),
        SessionStarted(timestamp=clock()),
        *[SlotSet(k, v, timestamp=clock()) for k, v in carried.items()],
        act(clock, "action_listen"),
    ]


def turns(clock: Clock, n: int) -> Iterator[list[Event]]:
    """n turns of a conversation like ours: each list is what one message adds."""
    for i in range(n):
        yield turn(clock, i % 7, i)


def turn(clock: Clock, kind: int, i: int) -> list[Event]:
    if kind == 0:
        return [
            user(clock, "hello", "greet"),
            act(clock, "action_greet"),
            BotUttered("Hi!", timestamp=clock()),
            act(clock, "action_listen"),
        ]
    elif kind == 1:  # a form starts...
        return [
            user(clock, "i'd like to book a meeting", "book_meeting"),
            act(clock, "booking_form"),
            ActiveLoop("booking_form", timestamp=clock()),
            SlotSet("requested_slot", "email", timestamp=clock()),
            BotUttered("Your e-mail?", timestamp=clock()),
            act(clock, "action_listen"),
        ]
    elif kind == 2:  # ...a question in the middle of it (the form asks again)...
        return [
            user(clock, "how long is it?", "ask_meeting"),
            act(clock, "action_answer_question"),
            BotUttered("30 minutes.", timestamp=clock()),
            act(clock, "booking_form"),
            SlotSet("requested_slot", "email", timestamp=clock()),
            act(clock, "action_listen"),
        ]
    elif kind == 3:  # ...and ends with the answer; times are offered
        return [
            user(clock, f"v{i}@example.com", "inform"),
            act(clock, "booking_form"),
            SlotSet("email", f"v{i}@example.com", timestamp=clock()),
            SlotSet("requested_slot", None, timestamp=clock()),
            ActiveLoop(None, timestamp=clock()),
            act(clock, "action_offer_slots"),
            SlotSet("offer_cursor", str(i), timestamp=clock()),
            BotUttered("Pick a time", timestamp=clock()),
            act(clock, "action_listen"),
        ]
    elif kind == 4:  # not understood: the fallback reverts the message
        return [
            user(clock, "blorp", "nlu_fallback"),
            act(clock, "action_default_fallback"),
            BotUttered("Sorry?", timestamp=clock()),
            UserUtteranceReverted(timestamp=clock()),
            act(clock, "action_listen"),
        ]
    elif kind == 5:
        return [
            user(clock, "other times?", "ask_time"),
            act(clock, "action_offer_slots"),
            SlotSet("offer_cursor", f"{i}+", timestamp=clock()),
            SlotSet("time_pref", {"first": "2026-12-10", "n": i}, timestamp=clock()),
            BotUttered("More times", timestamp=clock()),
            act(clock, "action_listen"),
        ]
    else:
        return [
            user(clock, "im in vienna", "inform_timezone"),
            act(clock, "action_set_timezone"),
            SlotSet("timezone", "Europe/Vienna" if i % 2 else "Europe/Berlin", timestamp=clock()),
            act(clock, "action_listen"),
        ]


async def write(s: TrackerStore, sender: str, events: list[Event]) -> None:
    tracker = await s.get_or_create_tracker(sender, append_action_listen=False)
    for e in events:
        tracker.update(e)
    await s.save(tracker)


def dicts(events: Any) -> list[dict[str, Any]]:
    return [e.as_dict() for e in events if not is_snapshot(e.as_dict())]


def assert_same_for_rasa(ours: DialogueStateTracker, rasa: DialogueStateTracker, domain: Domain) -> None:
    assert ours.current_slot_values() == rasa.current_slot_values()
    assert {k: s.has_been_set for k, s in ours.slots.items()} == {k: s.has_been_set for k, s in rasa.slots.items()}
    assert ours.active_loop_name == rasa.active_loop_name
    assert ours.latest_action_name == rasa.latest_action_name
    assert ours.latest_message.text == rasa.latest_message.text
    # What Memoization/TED (max_history 5) and the rules read: the last states, the same.
    assert ours.past_states(domain)[-6:] == rasa.past_states(domain)[-6:]
    assert (
        ours.past_states(domain, ignore_rule_only_turns=True)[-6:]
        == rasa.past_states(domain, ignore_rule_only_turns=True)[-6:]
    )
    tail = dicts(ours.applied_events())
    assert tail and tail == dicts(rasa.applied_events())[-len(tail) :]
    assert ours.events[-1] == rasa.events[-1]


async def test_a_long_conversation_loads_a_small_window_that_predicts_as_the_whole(stores, domain: Domain):
    store, reference = stores
    sender = f"long-{uuid.uuid4().hex[:8]}"
    clock = Clock()
    first = session_start(clock, {})
    await write(store, sender, first)
    await write(reference, sender, first)
    written = dicts(first)  # everything the conversation said, in order
    sizes = []
    for events in turns(clock, 120):
        await write(store, sender, events)
        await write(reference, sender, events)
        written += dicts(events)
        ours, rasa = await store.retrieve(sender), await reference.retrieve(sender)
        assert_same_for_rasa(ours, rasa, domain)
        sizes.append(len(ours.events))
    assert max(sizes[60:]) <= 70 < len((await reference.retrieve(sender)).events)  # bounded, while Rasa's grows
    assert max(sizes[60:]) <= max(sizes[:20]) * 1.5
    full = await store.retrieve_full_tracker(sender)
    assert dicts(full.events) == written == dicts((await reference.retrieve_full_tracker(sender)).events)
    assert not any(is_snapshot(e.as_dict()) for e in full.events)
    assert any(e.metadata.get(MARK) for e in ours.events if isinstance(e, SlotSet))  # it was a window indeed

    # The visitor comes back after the session expired: the new session starts light, with the
    # carried-over slots, and the old one is still all there.
    again = session_start(clock, {"email": "v3@example.com", "timezone": "Europe/Berlin"})
    await write(store, sender, again)
    await write(reference, sender, again)
    written += dicts(again)
    fresh = await store.retrieve(sender)
    assert len(fresh.events) == len(again)
    assert fresh.get_slot("email") == "v3@example.com" and fresh.get_slot("offer_cursor") is None
    for events in turns(clock, 3):
        await write(store, sender, events)
        await write(reference, sender, events)
        written += dicts(events)
    assert_same_for_rasa(await store.retrieve(sender), await reference.retrieve(sender), domain)
    # Both sessions, every event (Rasa's own in-memory store keeps only the latest session).
    assert dicts((await store.retrieve_full_tracker(sender)).events) == written


async def test_the_window_never_cuts_into_an_active_form(stores, domain: Domain):
    """A visitor who keeps asking questions inside the form: the cut waits until the form ends."""
    store, reference = stores
    sender = f"form-{uuid.uuid4().hex[:8]}"
    clock = Clock()
    for events in [session_start(clock, {}), turn(clock, 0, 0), turn(clock, 1, 1)]:  # hello; the form starts
        await write(store, sender, events)
        await write(reference, sender, events)
    for i in range(25):  # 25 questions, the form active throughout
        events = turn(clock, 2, i)
        await write(store, sender, events)
        await write(reference, sender, events)
        ours = await store.retrieve(sender)
        assert ours.active_loop_name == "booking_form"
        assert_same_for_rasa(ours, await reference.retrieve(sender), domain)
    assert not any(is_snapshot(e.as_dict()) for e in ours.events)  # still the whole session
    for i, kind in enumerate((3, 5, 6, 0, 5, 6, 0) * 2):  # the form ends; the conversation goes on
        events = turn(clock, kind, 100 + i)
        await write(store, sender, events)
        await write(reference, sender, events)
    ours = await store.retrieve(sender)
    assert ours.active_loop_name is None and any(is_snapshot(e.as_dict()) for e in ours.events)
    assert_same_for_rasa(ours, await reference.retrieve(sender), domain)


async def test_a_tracker_saved_whole_is_stored_as_rasa_stores_it(domain: Domain):
    """PUT /conversations/<id>/tracker/events saves a tracker that was not loaded: it replaces the
    conversation (Rasa's in-memory semantics), and the window then starts over from it."""
    store = WindowedInMemoryTrackerStore(domain)
    clock = Clock()
    for events in [session_start(clock, {}), *turns(clock, 30)]:
        await write(store, "put", events)
    replaced = DialogueStateTracker.from_events("put", session_start(clock, {"email": "x@example.com"}), domain.slots)
    await store.save(replaced)
    got = await store.retrieve("put")
    assert dicts(got.events) == dicts(replaced.events)
    assert dicts((await store.retrieve_full_tracker("put")).events) == dicts(replaced.events)


async def test_sql_window_rows_and_indexes(domain: Domain, tmp_path: Path):
    s = WindowedSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "t.db"))
    clock = Clock()
    for events in [session_start(clock, {}), *turns(clock, 40)]:
        await write(s, "rows", events)
    with s.engine.connect() as conn:
        windows = conn.execute(sa.text("select sender_id, event_id from bot_tracker_windows")).all()
        stored = conn.execute(sa.text("select count(*) from events where sender_id = 'rows'")).scalar()
        indexes = {r[1] for r in conn.execute(sa.text("pragma index_list('events')")).all()}
    assert [w[0] for w in windows] == ["rows"] and windows[0][1] > 1
    assert stored == len((await s.retrieve_full_tracker("rows")).events)  # snapshots are never stored as events
    assert {"bot_events_sender_id", "bot_events_sender_action"} <= indexes
    s.engine.dispose()
