"""Helpers shared by the actions: tracker → visitor context, slots → offers → chat messages."""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, Callable, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.booking import OfferPage, Visitor
from bot.booking.routing_rules import disqualify_text
from bot.dialogue.answers import find_emails
from bot.dialogue.questions import asks, topic
from bot.dialogue.understanding import heard
from bot.dialogue.visitor import VisitorMeta, parse_metadata
from bot.errors import BotError, Disqualified
from bot.i18n import format_slot, zone, zone_label
from bot.i18n.detect import detect_language, requested_language
from bot.i18n.texts import say
from bot.ops import runtime
from bot.scheduling.preferences import TimePref, windows

log = logging.getLogger(__name__)
#: How far ahead a preference's windows are drawn (the queue's booking window cuts them).
HORIZON_DAYS = 62
T = TypeVar("T")


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a (synchronous, I/O-bound) core call off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def latest_metadata(tracker: Tracker) -> VisitorMeta:
    """Metadata of the newest user message, else of the session start (DESIGN.md, booking path 1)."""
    meta = parse_metadata((tracker.latest_message or {}).get("metadata"))
    if meta.is_empty():
        meta = parse_metadata(tracker.get_slot("session_started_metadata"))
    return meta


def requested_slot(tracker: Tracker) -> str | None:
    """The form question the visitor is answering, if any."""
    if not (tracker.active_loop or {}).get("name"):
        return None
    slot = tracker.get_slot("requested_slot")
    return slot if isinstance(slot, str) else None


def _language(tracker: Tracker, meta: VisitorMeta) -> tuple[str, bool]:
    """The language to answer in, and whether the visitor chose it explicitly.

    An explicit request ("can we speak French?") holds for the rest of the conversation. Else
    what the visitor writes, when it is clearly one of our languages (the detector's confidence
    ≥ 0.8 on two words or more — never on e-mail addresses, names or other form answers, nor on
    payloads), beats the widget's locale: an English visitor on an Italian browser is answered in
    English. Else the language already in use; else the widget's locale; else English.
    """
    current = tracker.get_slot("language") or None
    chosen = bool(tracker.get_slot("language_chosen"))
    latest = tracker.latest_message or {}
    text = latest.get("text") or ""
    if (latest.get("intent") or {}).get("name") == "change_language":
        asked = requested_language(text)
        if asked:
            return asked, True
    if chosen and current:
        return current, True
    browser = meta.locale.split("_")[0] if meta.locale else None
    fallback = current or browser or "en"
    if requested_slot(tracker) in ("email", "first_name", "company"):
        return fallback, False
    return detect_language(text, fallback), False


def context_events(tracker: Tracker) -> list[EventType]:
    """SlotSet events that bring the context slots up to date with the newest metadata, the
    visitor's language, and what the newest message says about time and zone (kept until the
    visitor says otherwise; a zone stated in chat beats the widget's)."""
    meta = latest_metadata(tracker)
    lang, chosen = _language(tracker, meta)
    locale = meta.locale if meta.locale and meta.locale.split("_")[0] == lang else None
    current_locale = tracker.get_slot("locale")
    if locale is None and not (current_locale and current_locale.split("_")[0] == lang):
        locale = lang
    stated = bool(tracker.get_slot("timezone_stated"))
    values: dict[str, Any] = {
        "timezone": None if stated else meta.timezone,
        "locale": locale,
        "queue": meta.queue,
        "person_info": meta.person or None,
        "company_info": meta.company or None,
        "language": lang,
        "language_chosen": chosen or None,
    }
    latest = tracker.latest_message or {}
    queue_tz = tracker.get_slot("timezone") or values["timezone"] or ""
    said = heard(
        latest.get("text") or "",
        lang,
        zone(queue_tz or None, "Europe/London"),
        runtime.service().clock(),
        answering=requested_slot(tracker),
        intent=(latest.get("intent") or {}).get("name"),
    )
    if said.zone is not None:
        values["timezone"], values["timezone_stated"] = said.zone.key, True
    if said.pref is not None:
        old = TimePref.from_slot(tracker.get_slot("time_pref"))
        values["time_pref"] = said.pref.merged_onto(old).to_slot()
    guests = _guests_named(latest.get("text") or "", tracker, values)
    if guests:
        values["guests"] = guests
    return [SlotSet(k, v) for k, v in values.items() if v is not None and tracker.get_slot(k) != v]


def _guests_named(text: str, tracker: Tracker, values: dict[str, Any]) -> list[str] | None:
    """Colleagues the message brings along ("a demo, and my partner pablo@acme.example comes
    too"): the guests so far with the new addresses, never the visitor's own; None when it
    names none. At the e-mail question the form reads the message itself."""
    if requested_slot(tracker) == "email" or "@" not in text or "guest" not in (asks(text), topic(text)):
        return None
    person = values.get("person_info") or tracker.get_slot("person_info") or {}
    own = {str(a).lower() for a in (tracker.get_slot("email"), person.get("email") if isinstance(person, dict) else None) if a}
    known = [g for g in tracker.get_slot("guests") or [] if isinstance(g, str)]
    new = [e for e in find_emails(text) if e not in own and e not in known]
    return known + new if new else None


async def latest_booking(tracker: Tracker) -> dict[str, Any] | None:
    """This conversation's newest upcoming confirmed booking (``find_bookings`` finds only
    those), if it has one."""
    found = await call(runtime.service().find_bookings, conversation_id=tracker.sender_id)
    return max(found, key=lambda b: b.get("created_at") or "") if found else None


def lang(tracker: Tracker) -> str:
    return tracker.get_slot("language") or "en"


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
        guests=tuple(g for g in tracker.get_slot("guests") or [] if isinstance(g, str)),
        answers=answers(tracker),
        page_queue=tracker.get_slot("queue") or "",
    )


def answers(tracker: Tracker) -> dict[str, Any]:
    """The visitor's answers to the routing file's qualification questions (id → answer; None:
    asked, not understood). The slot also counts tries under ``_tries``."""
    raw = tracker.get_slot("qualification")
    return {k: v for k, v in raw.items() if not k.startswith("_")} if isinstance(raw, dict) else {}


def question(tracker: Tracker) -> Any:
    """The qualification question the routing rules need answered before times can be offered
    (``routing.yml`` questions:), or None. Never one already asked. Pure (the rules in memory,
    no I/O), so it runs here rather than in the blocking-call thread pool."""
    return runtime.service().question(tracker.get_slot("queue"), visitor(tracker))


def show_offers(dispatcher: CollectingDispatcher, tracker: Tracker, page: OfferPage, intro: str) -> list[EventType]:
    """Utter the slots as buttons in the visitor's zone (or the queue's, named)."""
    tz = zone(tracker.get_slot("timezone"), page.queue.timezone)
    locale = tracker.get_slot("locale") or "en"
    buttons = [
        {"title": format_slot(s.start, tz, locale), "payload": f'/choose_slot{{"slot_id":"{s.id}"}}'}
        for s in page.slots
    ]
    dispatcher.utter_message(
        text=f"{intro} {say('times_in_zone', lang(tracker), zone=zone_label(tz, locale))}", buttons=buttons
    )
    return [SlotSet("offer_cursor", page.slots[-1].start.isoformat()), SlotSet("callback_offered", False)]


def moving_booking(tracker: Tracker) -> str | None:
    """The booking the visitor is moving in this conversation (set once found), if any."""
    booking = tracker.get_slot("manage_booking")
    return booking if tracker.get_slot("manage_intent") == "reschedule" and isinstance(booking, str) else None


def cursor(tracker: Tracker) -> datetime | None:
    raw = tracker.get_slot("offer_cursor")
    try:
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


async def offer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    intro: str,
    after: datetime | None = None,
    within: Any = None,
    quiet: bool = False,
) -> Any:
    """Offer the next page of slots; say so plainly when there are none or the lookup fails.

    While the visitor is moving a booking (``moving_booking``), the slots are new times for it.
    With ``quiet``, an empty page says nothing and returns None (the caller offers something else).
    """
    svc = runtime.service()
    moving = moving_booking(tracker)
    if (
        not moving
        and not requested_slot(tracker)
        and tracker.latest_action_name != "booking_form"  # the form just ended: it asked what it needed
        and question(tracker) is not None
    ):
        # A routing rule needs an answer first: the booking form asks what is missing, then offers.
        return [FollowupAction("booking_form")]
    try:
        if moving:
            page, _same = await call(svc.offer_reschedule, tracker.sender_id, moving, after=after, within=within)
        else:
            page = await call(
                svc.offer_slots,
                tracker.sender_id,
                tracker.get_slot("queue"),
                after=after,
                within=within,
                visitor=visitor(tracker),
            )
    except Disqualified as exc:  # a routing rule (routing.yml) answers this visitor: no meeting
        text, link = disqualify_text(exc.decision, lang(tracker))
        dispatcher.utter_message(text=f"{text} {link}".strip() if link else text)
        return []
    except BotError as exc:
        log.warning("offering slots failed: %s", exc)
        dispatcher.utter_message(text=say("offer_failed", lang(tracker)))
        return []
    if page.slots:
        return show_offers(dispatcher, tracker, page, intro)
    if quiet:
        return None
    if after is not None:
        dispatcher.utter_message(text=say("no_more_slots", lang(tracker)))
    else:
        dispatcher.utter_message(text=say("no_slots", lang(tracker)))
    return [SlotSet("callback_offered", True)]


async def offer_again(dispatcher: CollectingDispatcher, tracker: Tracker, *, intro: str) -> list[EventType]:
    """Fresh times after a clicked one could not be had (taken, expired, provider trouble): inside
    what the visitor asked for, else their working day, else whatever is free — never the night
    slots a bare "next free times" would start with."""
    svc = runtime.service()
    try:
        queue = await call(svc.queue_info, tracker.get_slot("queue"))
    except BotError:
        return await offer(dispatcher, tracker, intro=intro)
    tz = zone(tracker.get_slot("timezone"), queue.timezone)
    pref = TimePref.from_slot(tracker.get_slot("time_pref"))
    tries = [windows(None, tz, svc.clock(), HORIZON_DAYS)]
    if pref is not None and not pref.is_empty():
        tries.insert(0, windows(pref, tz, svc.clock(), HORIZON_DAYS))
    return await offer_in_turn(dispatcher, tracker, intro=intro, tries=tries)


async def offer_in_turn(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    intro: str,
    tries: list[Any],
    after: datetime | None = None,
) -> list[EventType]:
    """The first page of times inside one of ``tries`` (lists of windows, in that order), else
    the next free times at all (or the plain "none" answer)."""
    for within in tries:
        events = await offer(dispatcher, tracker, intro=intro, after=after, within=within, quiet=True)
        if events is not None:
            return events
    return await offer(dispatcher, tracker, intro=intro, after=after)


class AskAction(Action, ABC):
    """The booking form asks for ``slot`` with the text ``ask_<slot>`` (abstract: not registered)."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The form slot this action asks for."""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        said, asked_before = this_turn(tracker, self.slot)
        if said.rstrip().endswith("?"):
            return []  # "Sorry, I didn't get that. What's your first name?" already asks it
        dispatcher.utter_message(text=say(f"{'reask' if asked_before else 'ask'}_{self.slot}", lang(tracker)))
        return []


def this_turn(tracker: Tracker, slot: str) -> tuple[str, bool]:
    """What the assistant said last since the visitor's newest message ("" when nothing), and
    whether the form's question before that message was the one for ``slot`` (the visitor's
    answer did not do)."""
    events = list(tracker.events)
    user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    said = next((str(e["text"]) for e in reversed(events[user + 1 :]) if e.get("event") == "bot" and e.get("text")), "")
    asked = next(
        (e.get("value") for e in reversed(events[: max(user, 0)]) if e.get("event") == "slot" and e.get("name") == "requested_slot"),
        None,
    )
    return said, asked == slot


class SayAction(Action, ABC):
    """Says the text ``key`` in the visitor's language (abstract: not registered)."""

    @property
    @abstractmethod
    def key(self) -> str:
        """The text this action says (bot/i18n/texts.py)."""

    def name(self) -> str:
        return f"action_{self.key}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ctx = context_events(tracker)
        apply(tracker, ctx)
        dispatcher.utter_message(text=say(self.key, lang(tracker)))
        return ctx + self.after(tracker)

    def after(self, tracker: Tracker) -> list[EventType]:
        return []
