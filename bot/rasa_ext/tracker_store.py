"""Tracker stores that hand Rasa a bounded window of the conversation, and keep all of it.

Rasa 3.6 rebuilds the tracker from every event of the session on each message, featurizes all of
it once per prediction (Memoization, Rule and TED policies each compute the states of the whole
history, then keep the last five), replays it all again on every ``UserUtteranceReverted``, and
sends all of it to the action server for every custom action, which parses it again. A turn at
message 200 cost 5× one at message 5 (``bench/length.py``; py-spy: 41 % of Rasa's time in
``past_states``, 22 % rebuilding the tracker, 10 % serialising it; 29 % of the action server's in
parsing the request).

What a prediction needs is much less: the slots, the active loop and the last few turns. So these
stores load a *window*: the state of the conversation at a cut point, as ``SlotSet`` events
(marked ``{"bot_window": true}`` in their metadata), then every event after the cut, which lies
``window`` to ``window + slack`` user messages back. The policies see the same last states
(``max_history`` 5 ≤ two actions per user message × ``window``), the rules the same slots and
loop, the actions the same slots and recent events — and the cost of a turn no longer grows with
the conversation.

The cut is only ever placed where nothing from before it can matter: just before the
``action_listen`` that precedes a user message, with no loop (form) active and the conversation
not paused. Reverts (``UserUtteranceReverted``, ``ActionReverted``) reach back within their own
turn, and a loop's earlier executions lie before a deactivation, so ``applied_events`` of the
window is the tail of ``applied_events`` of the whole conversation. A form that stays active for
many messages simply keeps the window open until it ends.

Nothing is lost: every event is stored as Rasa stores it (in the ``events`` table for SQL), the
snapshot events are never stored as events, ``retrieve_full_tracker`` (the HTTP API's
``GET /conversations/<id>/tracker``, exports) returns everything, and a new session starts from
its own first event as in Rasa. A tracker saved that was not loaded through the window (a new
conversation, ``PUT .../tracker/events``) is stored as Rasa would store it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Iterator

import sqlalchemy as sa
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_ext import schema_cache

log = logging.getLogger(__name__)
schema_cache.install()  # this module is loaded by every Rasa server we run (endpoints.yml)

MARK = "bot_window"  # metadata of the snapshot's SlotSet events
LOADED = "_bot_window_loaded"  # tracker attribute: how many of its events the store already has
DEFAULT_WINDOW = 4  # user messages kept after the cut at least
DEFAULT_SLACK = 3  # ...and this many more before the cut moves (so it moves every few turns)


def is_snapshot(event: dict[str, Any]) -> bool:
    return event.get("event") == "slot" and bool((event.get("metadata") or {}).get(MARK))


def _sizes(window: int, slack: int) -> tuple[int, int]:
    """The window's sizes: the arguments (endpoints.yml), or BOT_TRACKER_WINDOW / _SLACK (tests
    run the conversation suite with the cut moving every message to prove it changes nothing)."""
    window = int(os.environ.get("BOT_TRACKER_WINDOW", window))
    slack = int(os.environ.get("BOT_TRACKER_SLACK", slack))
    if window < 3 or slack < 0:
        raise ValueError(f"tracker window {window}/{slack}: keep at least 3 user messages (max_history 5), slack >= 0")
    return window, slack


def find_cut(
    tracker: DialogueStateTracker, window: int, slack: int, earliest: int
) -> tuple[int, list[dict[str, Any]]] | None:
    """Where the window may start now, and the snapshot of the state there; None to keep it.

    ``earliest`` is the index of the first event a cut may be at (after the snapshot). Looks at
    the candidates from ``window`` user messages back to ``window + slack`` back, nearest first:
    the first one where no loop is active and the conversation is not paused wins.
    """
    events = list(tracker.events)
    starts = [
        i - 1
        for i in range(max(earliest, 1), len(events))
        if isinstance(events[i], UserUttered)
        and isinstance(events[i - 1], ActionExecuted)
        and events[i - 1].action_name == ACTION_LISTEN_NAME
    ]
    users = sum(1 for e in events[earliest:] if isinstance(e, UserUttered))
    if users <= window + slack or len(starts) <= window:
        return None
    for cut in reversed(starts[: len(starts) - window + 1][-(slack + 1) :]):
        if cut <= earliest:
            break
        past = DialogueStateTracker.from_events(tracker.sender_id, events[:cut], slots=list(tracker.slots.values()))
        if past.active_loop_name or past.is_paused():
            continue
        stamp = events[cut].timestamp
        snapshot = [
            SlotSet(name, slot.value, timestamp=stamp, metadata={MARK: True}).as_dict()
            for name, slot in past.slots.items()
            if slot.has_been_set
        ]
        return cut, snapshot
    return None


def build(
    sender_id: str,
    events: list[dict[str, Any]],
    store: Any,
    *,
    head: int = 0,
    start: int = 0,
    ids: list[int] | None = None,
    replay: bool = False,
) -> DialogueStateTracker:
    """The tracker of ``events`` (``head`` snapshot events first), marked with what the store
    holds: its ``len(events)`` events are stored; event ``j >= head`` is the store's event
    ``start + j - head`` (in memory) or has id ``ids[j - head]`` (SQL).

    ``replay``: rebuilt as Rasa's in-memory store does (only the applied events are applied, so
    e.g. the latest message inside a form is the one that started it); else as its SQL store
    does (every event applied in turn)."""
    if replay:
        tracker = store.init_tracker(sender_id)
        tracker.recreate_from_dialogue(Dialogue.from_parameters({"name": sender_id, "events": events}))
    else:
        tracker = DialogueStateTracker.from_dict(sender_id, events, store.domain.slots)
    setattr(tracker, LOADED, len(events))
    tracker._bot_window = {"head": head, "start": start, "ids": ids or [], "floor": head}  # type: ignore[attr-defined]
    return tracker


def _window(tracker: DialogueStateTracker) -> dict[str, Any]:
    return getattr(tracker, "_bot_window", {"head": 0, "start": 0, "ids": [], "floor": 0})


def _new_events(tracker: DialogueStateTracker) -> list[Event] | None:
    """The events the store does not have yet; None when the tracker was not loaded by us."""
    loaded = getattr(tracker, LOADED, None)
    if loaded is None:
        return None
    return list(tracker.events)[loaded:]


def _starts_session(event: dict[str, Any]) -> bool:
    return event.get("event") == "action" and event.get("name") == ACTION_SESSION_START_NAME


# --------------------------------------------------------------------------- in memory


@dataclass
class _Conversation:
    # Every event of every session, as JSON text (as Rasa's own in-memory store keeps it): one
    # string per event is one object the garbage collector never walks, where the dicts of a
    # long conversation were tens of thousands of them on every full collection.
    events: list[str] = field(default_factory=list)
    cut: int = 0  # index in ``events`` where the window starts
    snapshot: list[dict[str, Any]] = field(default_factory=list)  # the state at ``cut``
    session: int = 0  # index where the latest session starts

    def add(self, events: Any) -> None:
        for event in events:
            data = event.as_dict()
            if _starts_session(data):
                self.session = len(self.events)
            self.events.append(json.dumps(data))

    def load(self, start: int) -> list[dict[str, Any]]:
        return [json.loads(e) for e in self.events[start:]]


class WindowedInMemoryTrackerStore(InMemoryTrackerStore):
    """The embedded default: conversations in this process's memory, loaded as a window."""

    def __init__(
        self,
        domain: Any,
        event_broker: Any = None,
        window: int = DEFAULT_WINDOW,
        slack: int = DEFAULT_SLACK,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain, event_broker, **kwargs)
        self.window, self.slack = _sizes(window, slack)
        self.conversations: dict[str, _Conversation] = {}

    async def keys(self) -> Any:
        return self.conversations.keys()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        conv = self.conversations.get(sender_id)
        if conv is None:
            return None
        if conv.cut > conv.session:
            events, head, start = conv.snapshot + conv.load(conv.cut), len(conv.snapshot), conv.cut
        else:
            events, head, start = conv.load(conv.session), 0, conv.session
        return build(sender_id, events, self, head=head, start=start, replay=True)

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        conv = self.conversations.get(sender_id)
        if conv is None:
            return None
        return build(sender_id, conv.load(0), self, replay=True)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        sender = tracker.sender_id
        new = _new_events(tracker)
        conv = self.conversations.get(sender)
        if new is None or conv is None:  # not loaded through the window: it is the whole conversation
            conv = self.conversations[sender] = _Conversation()
            conv.add(tracker.events)
            tracker._bot_window = {"head": 0, "start": 0, "ids": [], "floor": 0}  # type: ignore[attr-defined]
        else:
            conv.add(new)
        setattr(tracker, LOADED, len(tracker.events))
        w = _window(tracker)
        found = find_cut(tracker, self.window, self.slack, w["floor"])
        if found is not None:
            cut, conv.snapshot = found
            conv.cut = w["start"] + cut - w["head"]
            w["floor"] = cut


# --------------------------------------------------------------------------- SQL


class WindowedSQLTrackerStore(SQLTrackerStore):
    """The scaled topology's store (Postgres): Rasa's ``events`` table, plus one row per
    conversation in ``bot_tracker_windows`` saying where its window starts and the state there."""

    def __init__(self, *args: Any, window: int = DEFAULT_WINDOW, slack: int = DEFAULT_SLACK, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.window, self.slack = _sizes(window, slack)
        meta = sa.MetaData()
        self.windows = sa.Table(
            "bot_tracker_windows",
            meta,
            sa.Column("sender_id", sa.String(255), primary_key=True),
            sa.Column("event_id", sa.Integer, nullable=False),  # id of the window's first event
            sa.Column("snapshot", sa.Text, nullable=False),  # JSON: the SlotSet events at the cut
        )
        meta.create_all(self.engine)
        # The window's queries read a conversation's newest events and its latest session start:
        # with these indexes they touch only those rows, however long the conversation is.
        with self.engine.begin() as conn:
            for name, cols in (
                ("bot_events_sender_id", "sender_id, id"),
                ("bot_events_sender_action", "sender_id, action_name, id"),
            ):
                conn.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {name} ON events ({cols})"))

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        E = self.SQLEvent
        with self.session_scope() as session:
            row = session.execute(sa.select(self.windows).where(self.windows.c.sender_id == sender_id)).first()
            session_id = session.execute(
                sa.select(sa.func.max(E.id)).where(
                    E.sender_id == sender_id, E.type_name == "action", E.action_name == ACTION_SESSION_START_NAME
                )
            ).scalar()
            query = sa.select(E.id, E.data).where(E.sender_id == sender_id)
            snapshot: list[dict[str, Any]] = []
            if row is not None and (session_id is None or session_id < row.event_id):
                query = query.where(E.id >= row.event_id)
                snapshot = json.loads(row.snapshot)
            elif session_id is not None:
                query = query.where(E.id >= session_id)
            rows = session.execute(query.order_by(E.id)).all()
        if not rows:
            return None
        events = snapshot + [json.loads(r.data) for r in rows]
        return build(sender_id, events, self, head=len(snapshot), ids=[r.id for r in rows])

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        tracker = await super().retrieve_full_tracker(sender_id)
        if tracker is not None:
            setattr(tracker, LOADED, len(tracker.events))  # all of it: a save adds only what is new
        return tracker

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        new = _new_events(tracker)
        if new is None:  # not loaded through the window: Rasa's own count
            return super()._additional_events(session, tracker)
        return iter(new)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        loaded = getattr(tracker, LOADED, None)
        setattr(tracker, LOADED, len(tracker.events))
        w = _window(tracker)
        if loaded is None or not w["ids"]:
            return
        found = find_cut(tracker, self.window, self.slack, w["floor"])
        if found is None:
            return
        cut, snapshot = found
        if not w["head"] <= cut < w["head"] + len(w["ids"]):
            return  # the cut is among events just stored, whose ids we do not hold: next time
        values = {"event_id": w["ids"][cut - w["head"]], "snapshot": json.dumps(snapshot)}
        with self.session_scope() as session:
            done = session.execute(
                self.windows.update().where(self.windows.c.sender_id == tracker.sender_id).values(**values)
            ).rowcount
            if not done:
                session.execute(self.windows.insert().values(sender_id=tracker.sender_id, **values))
            session.commit()
        w["floor"] = cut


__all__ = ["WindowedInMemoryTrackerStore", "WindowedSQLTrackerStore", "find_cut", "is_snapshot", "MARK"]
