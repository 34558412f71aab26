"""validate_booking_form: fill e-mail, first name and company from metadata; check answers."""

from __future__ import annotations

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.action_answer_question import answer_question
from actions.common import apply, context_events, lang, question
from bot.booking.routing_rules import read_answer
from bot.dialogue.answers import corrected_email, find_email, not_a_name, read_name, stated_name
from bot.dialogue.questions import asks
from bot.dialogue.visitor import clean_email, clean_text
from bot.i18n.texts import say


class ValidateBookingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_booking_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ctx = context_events(tracker)
        apply(tracker, ctx)
        if tracker.get_slot("manage_intent"):  # a new booking: no longer moving or cancelling one
            ctx += [SlotSet("manage_intent", None), SlotSet("cancel_offered", False)]
        if tracker.get_slot("booking_stopped"):  # resumed after a stop
            ctx.append(SlotSet("booking_stopped", False))
        return ctx + await super().run(dispatcher, tracker, domain)

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[str]:
        """E-mail, first name and company, then the routing file's qualification question
        (``qualify_answer``, last in the domain's list) only while a rule needs an answer the
        metadata lacks — decided once the details are in (the e-mail domain may decide)."""
        details = [s for s in domain_slots if s != "qualify_answer"]
        if all(tracker.get_slot(s) for s in details) and question(tracker) is not None:
            return domain_slots
        return details

    # extract_<slot>: what the page already told us about a known visitor --------------------
    @staticmethod
    def _known(tracker: Tracker, slot: str, section: str, key: str) -> dict[str, Any]:
        if tracker.get_slot(slot) is not None:
            return {}
        info = tracker.get_slot(section)
        value = info.get(key) if isinstance(info, dict) else None
        return {slot: value} if value else {}

    async def extract_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return self._known(tracker, "email", "person_info", "email")

    async def extract_first_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return self._known(tracker, "first_name", "person_info", "first_name")

    async def extract_company(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return self._known(tracker, "company", "company_info", "name")

    async def extract_qualify_answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return {}  # only typed (or clicked) in answer: Rasa maps the text while it is asked

    # validate_<slot> ------------------------------------------------------------------------
    # An answer is the answer unless it is clearly something else: a question (answered, then
    # asked again, the answers so far kept), or a correction of an earlier answer (that one
    # replaced).
    @staticmethod
    async def _question(value: Any, tracker: Tracker, dispatcher: CollectingDispatcher, slot: str) -> dict[str, Any] | None:
        """A question about the meeting instead of the answer: answered; the slot stays empty, so
        the form asks again. None when ``value`` is not such a question."""
        text = value if isinstance(value, str) else ""
        if not text or asks(text) is None:
            return None
        events = await answer_question(dispatcher, tracker, text)
        return {**{e["name"]: e["value"] for e in events if e.get("event") == "slot"}, slot: None}

    @staticmethod
    def _from_page(tracker: Tracker, value: str, section: str, key: str) -> bool:
        """Whether ``value`` is what the page's metadata says (kept as given, shown inert), not
        something typed in answer."""
        info = tracker.get_slot(section)
        return isinstance(info, dict) and info.get(key) == value

    @staticmethod
    def _correction(value: Any, tracker: Tracker, dispatcher: CollectingDispatcher, slot: str) -> dict[str, Any] | None:
        text = value if isinstance(value, str) else ""
        email = corrected_email(text, tracker.get_slot("email"))
        if email is not None:
            dispatcher.utter_message(text=say("email_corrected", lang(tracker), email=email))
            return {"email": email, slot: None}
        name = stated_name(text) if slot != "first_name" else None
        if name is not None and tracker.get_slot("first_name"):
            dispatcher.utter_message(text=say("name_corrected", lang(tracker), name=name))
            return {"first_name": name, slot: None}
        return None

    async def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        email = clean_email(value)
        if isinstance(value, str) and (email is None or value.strip().lower() != email.lower()):
            asked = await self._question(value, tracker, dispatcher, "email")
            if asked is not None:
                if "guests" not in asked:
                    # "it's kim@acme.io — how long is it?": answered, and the address is kept
                    asked["email"] = email or find_email(value)
                return asked
        if email is None:
            email = find_email(value) if isinstance(value, str) else None
        if email is None:
            question = isinstance(value, str) and value.strip().endswith("?")
            dispatcher.utter_message(text=say("email_why" if question else "invalid_email", lang(tracker)))
        return {"email": email}

    async def validate_first_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        fixed = self._correction(value, tracker, dispatcher, "first_name")
        if fixed is None:
            fixed = await self._question(value, tracker, dispatcher, "first_name")
        if fixed is not None:
            return fixed
        if isinstance(value, str) and not_a_name(value) and not self._from_page(tracker, value, "person_info", "first_name"):
            dispatcher.utter_message(text=say("name_not_plain", lang(tracker)))  # the form asks again
            return {"first_name": None}
        name = read_name(value) if isinstance(value, str) else None
        if name is None:
            dispatcher.utter_message(text=say("invalid_first_name", lang(tracker)))
        return {"first_name": name}

    async def validate_company(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        fixed = self._correction(value, tracker, dispatcher, "company")
        if fixed is None:
            fixed = await self._question(value, tracker, dispatcher, "company")
        if fixed is not None:
            return fixed
        if isinstance(value, str) and not_a_name(value) and not self._from_page(tracker, value, "company_info", "name"):
            dispatcher.utter_message(text=say("company_not_plain", lang(tracker)))  # the form asks again
            return {"company": None}
        company = clean_text(value, limit=200)
        if company is None:
            dispatcher.utter_message(text=say("invalid_company", lang(tracker)))
        return {"company": company}

    async def validate_qualify_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """The answer to the question being asked, read by its type (a number, a country, a
        choice) and kept under its id; not understood, asked once more, then kept as None (not
        asked again: the rules decide without it). Cleared each time, so the form asks the next
        question the rules need, or ends."""
        asked = question(tracker)
        if asked is None:  # nothing to ask any more (the e-mail was corrected, say)
            return {"qualify_answer": None}
        fixed = self._correction(value, tracker, dispatcher, "qualify_answer")
        if fixed is None:
            fixed = await self._question(value, tracker, dispatcher, "qualify_answer")
        if fixed is not None:
            return fixed
        text = value if isinstance(value, str) else ""
        answer = read_answer(asked, text)
        state = dict(tracker.get_slot("qualification") or {})
        tries = dict(state.get("_tries") or {})
        if answer is None:
            tries[asked.id] = tries.get(asked.id, 0) + 1
            if tries[asked.id] < 2:
                dispatcher.utter_message(text=say(f"qualify_not_{asked.type}", lang(tracker)))
                return {"qualification": {**state, "_tries": tries}, "qualify_answer": None}
        state[asked.id] = answer
        state["_tries"] = tries
        return {"qualification": state, "qualify_answer": None}
