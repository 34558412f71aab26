"""Builders shared by the tests: queues with agents, trackers, a frozen clock."""

from __future__ import annotations

from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Iterable

import yaml
from rasa_sdk import Tracker

from bot.messages.email import DEFAULT_BODY, DEFAULT_SUBJECT
from bot.store import Store
from bot.store.models import Agent, Queue, QueueMember, WeeklyHour

ROOT = Path(__file__).resolve().parent.parent
NINE_TO_FIVE = [(d, 9 * 60, 17 * 60) for d in range(5)]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def add_queue(
    store: Store,
    slug: str = "sales",
    agents: Iterable[tuple[str, str, list[tuple[int, int, int]]]] = (("Ada", "Europe/London", NINE_TO_FIVE),),
    *,
    tz: str = "Europe/London",
    meeting: int = 30,
    interval: int = 30,
    notice: int = 240,
    window: int = 14,
    subject: str = DEFAULT_SUBJECT,
    body: str = DEFAULT_BODY,
) -> list[int]:
    """A queue whose agents are ``(name, zone, [(weekday, start_min, end_min)])``; returns agent ids."""
    ids = []
    with store.session() as s:
        q = Queue(
            slug=slug,
            name=slug.title(),
            timezone=tz,
            meeting_minutes=meeting,
            interval_minutes=interval,
            min_notice_minutes=notice,
            window_days=window,
        )
        s.add(q)
        for name, zone, hours in agents:
            a = Agent(
                name=name,
                email=f"{name.lower()}@agents.example",
                timezone=zone,
                provider="local",
                invitation_subject=subject,
                invitation_body=body,
                include_conference=True,
            )
            a.hours = [WeeklyHour(weekday=d, start_minute=lo, end_minute=hi) for d, lo, hi in hours]
            s.add(a)
            s.add(QueueMember(queue=q, agent=a))
            s.flush()
            ids.append(a.id)
    return ids


def load_domain() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text())


def make_tracker(
    *,
    sender: str = "visitor-1",
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    metadata: Any = None,
    events: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
) -> Tracker:
    """A rasa-sdk Tracker as the action server would receive it, without a Rasa server."""
    domain = load_domain()
    all_slots: dict[str, Any] = {name: None for name in domain["slots"]}
    all_slots["callback_offered"] = False
    all_slots.update(slots or {})
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": entities or [],
        "metadata": metadata,
    }
    return Tracker(
        sender,
        all_slots,
        latest,
        list(events or []),
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots an action's events set: name → value."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def run(action: Any, tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run a custom action on ``tracker``: (the messages it said, the events it returned)."""
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, load_domain())
    return dispatcher.messages, events


def mails_to(directory: Path, address: str) -> list[Path]:
    """The .eml files in ``directory`` addressed to ``address`` (the agent gets notices too)."""
    import email
    import email.policy

    found = []
    for path in sorted(directory.glob("*.eml")) if directory.exists() else []:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address.lower() in str(msg["To"]).lower():
            found.append(path)
    return found


class WebhookReceiver(BaseHTTPRequestHandler):
    """A webhook endpoint on loopback for ThreadingHTTPServer: records each POST (headers, body)
    in ``got`` and answers the status codes queued in ``answers`` (then 200). Reset both before
    a test: they are class attributes, shared by the server's threads."""

    got: list[tuple[dict, bytes]] = []
    answers: list[int] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        WebhookReceiver.got.append((dict(self.headers), body))
        self.send_response(WebhookReceiver.answers.pop(0) if WebhookReceiver.answers else 200)
        self.end_headers()

    def log_message(self, *args):
        pass
