"""Helpers shared by the actions: tracker → visitor context, slots → offers → chat messages."""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, Callable, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import runtime
from bot.booking import OfferPage, Visitor
from bot.errors import BotError
from bot.i18n import format_slot, zone, zone_label
from bot.texts import say
from bot.visitor import VisitorMeta, parse_metadata

log = logging.getLogger(__name__)
T = TypeVar("T")

CONTEXT_SLOTS = ("timezone", "locale", "queue", "person_info", "company_info")


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a (synchronous, I/O-bound) core call off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def latest_metadata(tracker: Tracker) -> VisitorMeta:
    """Metadata of the newest user message, else of the session start (DESIGN.md, booking path 1)."""
    meta = parse_metadata((tracker.latest_message or {}).get("metadata"))
    if meta.is_empty():
        meta = parse_metadata(tracker.get_slot("session_started_metadata"))
    return meta


def context_events(tracker: Tracker) -> list[EventType]:
    """SlotSet events that bring the context slots up to date with the newest metadata."""
    meta = latest_metadata(tracker)
    values = {
        "timezone": meta.timezone,
        "locale": meta.locale,
        "queue": meta.queue,
        "person_info": meta.person or None,
        "company_info": meta.company or None,
    }
    return [SlotSet(k, v) for k, v in values.items() if v is not None and tracker.get_slot(k) != v]


def apply(tracker: Tracker, events: list[EventType]) -> None:
    """Make ``events`` visible to later reads of ``tracker`` in the same action."""
    for e in events:
        if e.get("event") == "slot":
            tracker.slots[e["name"]] = e["value"]


def visitor(tracker: Tracker, queue_tz: str = "") -> Visitor:
    person = tracker.get_slot("person_info") or {}
    company = tracker.get_slot("company_info") or {}
    return Visitor(
        email=tracker.get_slot("email") or "",
        first_name=tracker.get_slot("first_name"),
        last_name=person.get("last_name") if isinstance(person, dict) else None,
        company_name=tracker.get_slot("company"),
        person=person if isinstance(person, dict) else {},
        company=company if isinstance(company, dict) else {},
        timezone=tracker.get_slot("timezone") or queue_tz,
        locale=tracker.get_slot("locale") or "en",
    )


def show_offers(dispatcher: CollectingDispatcher, tracker: Tracker, page: OfferPage, intro: str) -> list[EventType]:
    """Utter the slots as buttons in the visitor's zone (or the queue's, named)."""
    tz = zone(tracker.get_slot("timezone"), page.queue.timezone)
    locale = tracker.get_slot("locale") or "en"
    buttons = [
        {"title": format_slot(s.start, tz, locale), "payload": f'/choose_slot{{"slot_id":"{s.id}"}}'}
        for s in page.slots
    ]
    dispatcher.utter_message(text=f"{intro} {say('times_in_zone', zone=zone_label(tz, locale))}", buttons=buttons)
    return [SlotSet("offer_cursor", page.slots[-1].start.isoformat()), SlotSet("callback_offered", False)]


def cursor(tracker: Tracker) -> datetime | None:
    raw = tracker.get_slot("offer_cursor")
    try:
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


async def offer(
    dispatcher: CollectingDispatcher, tracker: Tracker, *, intro: str, after: datetime | None = None
) -> list[EventType]:
    """Offer the next page of slots; say so plainly when there are none or the lookup fails."""
    svc = runtime.service()
    try:
        page = await call(
            svc.offer_slots, tracker.sender_id, tracker.get_slot("queue"), after=after, visitor=visitor(tracker)
        )
    except BotError as exc:
        log.warning("offering slots failed: %s", exc)
        dispatcher.utter_message(text=say("offer_failed"))
        return []
    if page.slots:
        return show_offers(dispatcher, tracker, page, intro)
    if after is not None:
        dispatcher.utter_message(text=say("no_more_slots"))
    else:
        dispatcher.utter_message(text=say("no_slots"))
    return [SlotSet("callback_offered", True)]


class AskAction(Action, ABC):
    """The booking form asks for ``slot`` with the text ``ask_<slot>`` (abstract: not registered)."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The form slot this action asks for."""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text=say(f"ask_{self.slot}"))
        return []
